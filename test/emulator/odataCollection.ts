import { GraphVersion } from "./directoryObjects";
import { EmulatorResponse, graphError, json } from "./responses";

/** The most `$top` Graph accepts on directory collections (https://learn.microsoft.com/graph/paging). */
export const MAX_PAGE_SIZE = 999;

/** Where a collection request came from, to build `@odata.context` and `@odata.nextLink`. */
export interface CollectionRequest {
    graphUrl: string;
    version: GraphVersion;
    /** Decoded path segments after the version. */
    segments: readonly string[];
    query: URLSearchParams;
}

/** What is being listed and which OData query options it takes. */
export interface CollectionSpec {
    /** Every item with all its selectable properties, in the order Graph would list them. */
    items: readonly Record<string, unknown>[];
    /** What follows `$metadata#` in `@odata.context`, e.g. `identity/conditionalAccess/policies`. */
    contextName: string;
    /** The OData type errors name, e.g. `microsoft.graph.conditionalAccessPolicy`. */
    typeName: string;
    selectable: ReadonlySet<string>;
    /** Properties an item shows without `$select`; default all of them. */
    defaultProperties?: (item: Record<string, unknown>) => readonly string[];
    /** Whether `$filter` is served: `eq` and `in` on top-level properties, joined by `and`. */
    filterable: boolean;
    /** Items per page without `$top`. */
    pageSize: number;
}

/**
 * Answers a collection GET the way Graph pages it: `$filter`, then a page of `$top` (or the
 * default page size) from the `$skiptoken` position, then `$select`; an `@odata.nextLink` with an
 * opaque `$skiptoken` while items remain (https://learn.microsoft.com/graph/paging).
 * `@odata.type` on an item is kept whatever `$select` says, as Graph does in mixed collections.
 */
export function answerCollection(request: CollectionRequest, spec: CollectionSpec): EmulatorResponse {
    const { query } = request;
    const select = parseSelect(query.get("$select"), spec);
    if ("status" in select) return select;
    const top = parseTop(query.get("$top"));
    if (typeof top !== "number" && top !== undefined) return top;
    const offset = parseSkipToken(query.get("$skiptoken"));
    if (typeof offset !== "number") return offset;

    let items = spec.items;
    const filter = query.get("$filter");
    if (filter !== null) {
        if (!spec.filterable) {
            return graphError(400, { code: "Request_UnsupportedQuery", message: `The emulator does not serve $filter on ${spec.contextName}.` });
        }
        const predicate = parseFilter(filter, spec);
        if (typeof predicate !== "function") return predicate;
        items = items.filter(predicate);
    }

    const pageSize = top ?? spec.pageSize;
    const page = items.slice(offset, offset + pageSize);
    const value = page.map((item) => project(item, select.properties ?? spec.defaultProperties?.(item) ?? Object.keys(item)));
    const context = select.properties === undefined ? spec.contextName : `${spec.contextName}(${select.properties.join(",")})`;
    const body: Record<string, unknown> = { "@odata.context": `${request.graphUrl}/${request.version}/$metadata#${context}` };
    if (offset + pageSize < items.length) body["@odata.nextLink"] = nextLink(request, offset + pageSize);
    body.value = value;
    return json(200, body);
}

function project(item: Record<string, unknown>, properties: readonly string[]): Record<string, unknown> {
    const projected: Record<string, unknown> = {};
    if ("@odata.type" in item) projected["@odata.type"] = item["@odata.type"];
    for (const property of properties) {
        if (property in item) projected[property] = item[property];
    }
    return projected;
}

function parseSelect(select: string | null, spec: CollectionSpec): { properties?: string[] } | EmulatorResponse {
    if (select === null) return {};
    const properties = select.split(",").map((p) => p.trim()).filter((p) => p.length > 0);
    const unknown = properties.find((p) => !spec.selectable.has(p));
    if (unknown !== undefined) {
        return graphError(400, { code: "BadRequest", message: `Could not find a property named '${unknown}' on type '${spec.typeName}'.` });
    }
    return { properties };
}

function parseTop(top: string | null): number | undefined | EmulatorResponse {
    if (top === null) return undefined;
    const size = Number(top);
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
        return graphError(400, { code: "Request_BadRequest", message: `Invalid page size specified: '${top}'. Must be between 1 and ${MAX_PAGE_SIZE} inclusive.` });
    }
    return size;
}

const SKIP_TOKEN_PREFIX = "emulator-offset:";

function parseSkipToken(token: string | null): number | EmulatorResponse {
    if (token === null) return 0;
    const decoded = Buffer.from(token, "base64url").toString("utf8");
    const offset = decoded.startsWith(SKIP_TOKEN_PREFIX) ? Number(decoded.slice(SKIP_TOKEN_PREFIX.length)) : NaN;
    if (!Number.isInteger(offset) || offset < 0) {
        return graphError(400, { code: "Request_BadRequest", message: "The $skiptoken is not one the emulator issued." });
    }
    return offset;
}

function nextLink(request: CollectionRequest, offset: number): string {
    const token = Buffer.from(`${SKIP_TOKEN_PREFIX}${offset}`, "utf8").toString("base64url");
    const parameters = [...request.query]
        .filter(([name]) => name !== "$skiptoken")
        .map(([name, value]) => `${name}=${encodeURIComponent(value)}`);
    parameters.push(`$skiptoken=${token}`);
    const path = request.segments.map(encodeURIComponent).join("/");
    return `${request.graphUrl}/${request.version}/${path}?${parameters.join("&")}`;
}

const MAX_IN_VALUES = 15;

type ItemPredicate = (item: Record<string, unknown>) => boolean;

const STRING_LITERAL = String.raw`'(?:[^']|'')*'`;
const EQ_CLAUSE = new RegExp(String.raw`^([A-Za-z][A-Za-z0-9]*)\s+eq\s+(${STRING_LITERAL}|true|false|null)$`);
const IN_CLAUSE = new RegExp(String.raw`^([A-Za-z][A-Za-z0-9]*)\s+in\s+\(\s*(${STRING_LITERAL}(?:\s*,\s*${STRING_LITERAL})*)\s*\)$`);

/** The slice of OData `$filter` the pack needs: `prop eq 'x'`, `prop eq true`, `prop in ('a','b')`, joined by `and`. */
function parseFilter(filter: string, spec: CollectionSpec): ItemPredicate | EmulatorResponse {
    const predicates: ItemPredicate[] = [];
    for (const clause of splitOutsideQuotes(filter.trim(), /\s+and\s+/i)) {
        const eq = EQ_CLAUSE.exec(clause.trim());
        const inList = eq === null ? IN_CLAUSE.exec(clause.trim()) : null;
        const match = eq ?? inList;
        if (match === null) {
            return graphError(400, { code: "BadRequest", message: `Invalid filter clause: the emulator cannot read '${clause}'.` });
        }
        const property = match[1];
        if (!spec.selectable.has(property)) {
            return graphError(400, { code: "BadRequest", message: `Could not find a property named '${property}' on type '${spec.typeName}'.` });
        }
        const accepted = eq !== null ? [literalValue(match[2])] : (match[2].match(new RegExp(STRING_LITERAL, "g")) ?? []).map(literalValue);
        // Directory queries take at most 15 values in one `in` (https://learn.microsoft.com/graph/filter-query-parameter).
        if (accepted.length > MAX_IN_VALUES) {
            return graphError(400, {
                code: "Request_UnsupportedQuery",
                message: `Too many child clauses specified in search filter expression containing 'OR' operators: ${accepted.length}. Max allowed: ${MAX_IN_VALUES}.`,
            });
        }
        predicates.push((item) => accepted.some((value) => sameValue(item[property], value)));
    }
    return (item) => predicates.every((predicate) => predicate(item));
}

function literalValue(literal: string): string | boolean | null {
    if (literal === "true") return true;
    if (literal === "false") return false;
    if (literal === "null") return null;
    return literal.slice(1, -1).replace(/''/g, "'");
}

/** Directory string comparisons are case-insensitive in Graph (ids, UPNs, names). */
function sameValue(actual: unknown, expected: string | boolean | null): boolean {
    if (expected === null) return actual === null || actual === undefined;
    if (typeof expected === "string") return typeof actual === "string" && actual.toLowerCase() === expected.toLowerCase();
    return actual === expected;
}

function splitOutsideQuotes(text: string, separator: RegExp): string[] {
    const parts: string[] = [];
    let current = "";
    let inQuotes = false;
    for (let i = 0; i < text.length; i++) {
        if (text[i] === "'") inQuotes = !inQuotes;
        if (!inQuotes) {
            const rest = text.slice(i);
            const match = new RegExp(`^${separator.source}`, separator.flags).exec(rest);
            if (match !== null) {
                parts.push(current);
                current = "";
                i += match[0].length - 1;
                continue;
            }
        }
        current += text[i];
    }
    parts.push(current);
    return parts;
}

/** Answers a GET of one entity with optional `$select`, e.g. a policy by id. */
export function answerEntity(
    request: CollectionRequest,
    entity: Record<string, unknown>,
    spec: Pick<CollectionSpec, "contextName" | "typeName" | "selectable"> & { singleton?: boolean },
): EmulatorResponse {
    const select = parseSelect(request.query.get("$select"), { ...spec, items: [], filterable: false, pageSize: 1 });
    if ("status" in select) return select;
    const context = select.properties === undefined ? spec.contextName : `${spec.contextName}(${select.properties.join(",")})`;
    return json(200, {
        // A singleton's context names it directly; an entity from a set adds `/$entity`.
        "@odata.context": `${request.graphUrl}/${request.version}/$metadata#${context}${spec.singleton === true ? "" : "/$entity"}`,
        ...project(entity, select.properties ?? Object.keys(entity)),
    });
}
