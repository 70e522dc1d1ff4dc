import {
    DEFAULT_USER_PROPERTIES,
    GraphVersion,
    SELECTABLE_USER_PROPERTIES,
    userProperty,
    userRepresentation,
} from "./directoryObjects";
import {
    answerAuthenticationStrengths,
    answerConditionalAccessPolicies,
    answerGroupTransitiveMemberOf,
    answerRegistrationDetails,
    answerRoleEligibilityInstances,
    answerSecurityDefaults,
    answerTransitiveMemberOf,
    answerTransitiveMembers,
    EvidenceRequest,
} from "./evidenceApi";
import { answerCollection } from "./odataCollection";
import { EmulatorResponse, graphError, json } from "./responses";
import { EmulatedTenant } from "./tenant";

export { EmulatedUser, GRAPH_VERSIONS, GraphVersion, UserDirectory } from "./directoryObjects";
import type { EmulatedUser } from "./directoryObjects";

/** Where a Graph operation is answered: the tenant, the emulator's URL and the default page size. */
export interface GraphOperationContext {
    tenant: EmulatedTenant;
    graphUrl: string;
    pageSize: number;
}

/**
 * Answers one Graph operation (already authenticated, throttled and fault-checked) for a path
 * `/{version}/...` relative to the Graph root. `$batch` is handled by the caller. Path segment
 * names match case-insensitively, as in Graph.
 */
export function answerGraphOperation(
    context: GraphOperationContext,
    method: string,
    version: GraphVersion,
    segments: readonly string[],
    query: URLSearchParams,
): EmulatorResponse {
    const names = segments.map((segment) => segment.toLowerCase());
    const request: EvidenceRequest = { tenant: context.tenant, graphUrl: context.graphUrl, pageSize: context.pageSize, version, segments, query };
    const onlyGet = (answer: () => EmulatorResponse): EmulatorResponse =>
        method === "GET" ? answer() : graphError(405, { message: `The emulator serves only GET on this resource, not ${method}.` });
    switch (names[0]) {
        case "users":
            return answerUserOperation(context, method, version, segments, query);
        case "groups":
            if (segments.length >= 3 && segments.length <= 4 && names[2] === "transitivemembers") {
                return onlyGet(() => answerTransitiveMembers(request, segments[1], segments[3]));
            }
            if (segments.length >= 3 && segments.length <= 4 && names[2] === "transitivememberof") {
                return onlyGet(() => answerGroupTransitiveMemberOf(request, segments[1], segments[3]));
            }
            return unknownSegment(segments[2] ?? segments[0]);
        case "identity":
            if (names[1] === "conditionalaccess" && names[2] === "policies" && segments.length <= 4) {
                return onlyGet(() => answerConditionalAccessPolicies(request, segments[3]));
            }
            return unknownSegment(segments[1] ?? segments[0]);
        case "policies":
            if (segments.length === 2 && names[1] === "identitysecuritydefaultsenforcementpolicy") return onlyGet(() => answerSecurityDefaults(request));
            if (segments.length <= 3 && names[1] === "authenticationstrengthpolicies") return onlyGet(() => answerAuthenticationStrengths(request, segments[2]));
            return unknownSegment(segments[1] ?? segments[0]);
        case "rolemanagement":
            if (segments.length === 3 && names[1] === "directory" && names[2] === "roleeligibilityscheduleinstances") {
                return onlyGet(() => answerRoleEligibilityInstances(request));
            }
            return unknownSegment(segments[2] ?? segments[1] ?? segments[0]);
        case "reports":
            if (names[1] === "authenticationmethods" && names[2] === "userregistrationdetails" && segments.length <= 4) {
                return onlyGet(() => answerRegistrationDetails(request, segments[3]));
            }
            return unknownSegment(segments[1] ?? segments[0]);
        default:
            return unknownSegment(segments[0] ?? "");
    }
}

/** `/users` (a filtered list), `/users/{id}`, `/users/{id}/authentication/requirements` (beta) and `/users/{id}/transitiveMemberOf[/{cast}]`. */
function answerUserOperation(
    context: GraphOperationContext,
    method: string,
    version: GraphVersion,
    segments: readonly string[],
    query: URLSearchParams,
): EmulatorResponse {
    if (segments.length === 1) {
        if (method !== "GET") return graphError(405, { message: `The emulator serves only GET on this resource, not ${method}.` });
        return answerCollection(
            { graphUrl: context.graphUrl, version, segments, query },
            {
                items: listedUsers(context, query.get("$filter")).map(userRepresentation),
                contextName: "users",
                typeName: "microsoft.graph.user",
                selectable: SELECTABLE_USER_PROPERTIES,
                defaultProperties: () => DEFAULT_USER_PROPERTIES[version],
                filterable: true,
                pageSize: context.pageSize,
            },
        );
    }
    const idOrUpn = segments[1];
    const names = segments.map((segment) => segment.toLowerCase());
    const isUser = segments.length === 2;
    const isRequirements = segments.length === 4 && names[2] === "authentication" && names[3] === "requirements" && version === "beta";
    const isTransitiveMemberOf = (segments.length === 3 || segments.length === 4) && names[2] === "transitivememberof";
    if (!isUser && !isRequirements && !isTransitiveMemberOf) {
        // v1.0 has no `requirements` segment: the MFA state is a beta-only resource.
        return unknownSegment(names[2] === "authentication" ? segments[3] ?? "authentication" : segments[2]);
    }
    if (method !== "GET") {
        return graphError(405, { message: `The emulator serves only GET on this resource, not ${method}.` });
    }
    if (isTransitiveMemberOf) {
        return answerTransitiveMemberOf({ ...context, version, segments, query }, idOrUpn, segments[3]);
    }
    const user = context.tenant.users.find(idOrUpn);
    if (user === undefined) {
        return graphError(404, { message: `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.` });
    }
    const graphUrl = context.graphUrl;
    if (isRequirements) {
        const body: Record<string, unknown> = { "@odata.context": `${graphUrl}/beta/$metadata#users('${user.id}')/authentication/requirements` };
        if (user.perUserMfaState !== undefined) body.perUserMfaState = user.perUserMfaState;
        return json(200, body);
    }
    const select = query.get("$select");
    const properties = select === null ? DEFAULT_USER_PROPERTIES[version] : select.split(",").map((p) => p.trim()).filter((p) => p.length > 0);
    const unknownProperty = properties.find((p) => !SELECTABLE_USER_PROPERTIES.has(p));
    if (unknownProperty !== undefined) {
        return graphError(400, { code: "BadRequest", message: `Could not find a property named '${unknownProperty}' on type 'microsoft.graph.user'.` });
    }
    const contextUrl = select === null ? `${graphUrl}/${version}/$metadata#users/$entity` : `${graphUrl}/${version}/$metadata#users(${properties.join(",")})/$entity`;
    const body: Record<string, unknown> = { "@odata.context": contextUrl };
    for (const property of properties) body[property] = userProperty(user, property);
    return json(200, body);
}

/**
 * The users a `/users` list looks at: for a filter on `userPrincipalName` alone, only those its
 * quoted names find (the filter itself is still applied to them), so that a benchmark resolving
 * ten thousand names does not make every request scan the whole directory.
 */
function listedUsers(context: GraphOperationContext, filter: string | null): EmulatedUser[] {
    const namesOnly = filter !== null && /^\s*userPrincipalName\s+(eq|in)\s/i.test(filter) && !/\s(and|or)\s/i.test(filter.replace(/'(?:[^']|'')*'/g, "''"));
    if (!namesOnly) return [...context.tenant.users.byId.values()];
    const names = (filter.match(/'(?:[^']|'')*'/g) ?? []).map((literal) => literal.slice(1, -1).replace(/''/g, "'"));
    return [...new Set(names.map((name) => context.tenant.users.find(name)).filter((user): user is EmulatedUser => user !== undefined))];
}

function unknownSegment(segment: string): EmulatorResponse {
    return graphError(400, { code: "BadRequest", message: `Resource not found for the segment '${segment}'.` });
}

/** One request inside a `$batch` body. */
export interface BatchSubRequest {
    id: string;
    method: string;
    url: string;
    headers?: Record<string, string>;
    body?: unknown;
}

/** The most requests Graph accepts in one `$batch` (https://learn.microsoft.com/graph/json-batching). */
export const MAX_BATCH_REQUESTS = 20;

/** Checks a `$batch` body the way Graph does before running any of it; an error fails the whole batch. */
export function parseBatchBody(rawBody: string): { requests: BatchSubRequest[] } | EmulatorResponse {
    let parsed: unknown;
    try {
        parsed = JSON.parse(rawBody);
    } catch {
        return graphError(400, { code: "BadRequest", message: "Invalid batch payload format." });
    }
    const requests = (parsed as { requests?: unknown } | null)?.requests;
    if (!Array.isArray(requests) || requests.length === 0) {
        return graphError(400, { code: "BadRequest", message: "Invalid batch payload format: 'requests' must be a non-empty array." });
    }
    if (requests.length > MAX_BATCH_REQUESTS) {
        return graphError(400, { code: "BadRequest", message: `Limit exceeded: the batch has ${requests.length} requests; the limit is ${MAX_BATCH_REQUESTS}.` });
    }
    const seenIds = new Set<string>();
    for (const request of requests as Partial<BatchSubRequest>[]) {
        if (typeof request?.id !== "string" || typeof request.method !== "string" || typeof request.url !== "string") {
            return graphError(400, { code: "BadRequest", message: "Each batch request needs string 'id', 'method' and 'url' properties." });
        }
        // Ids are compared case-insensitively (https://learn.microsoft.com/graph/json-batching#creating-a-batch-request).
        const normalizedId = request.id.toLowerCase();
        if (seenIds.has(normalizedId)) {
            return graphError(400, { code: "BadRequest", message: `Batch request ids must be unique; '${request.id}' appears twice.` });
        }
        seenIds.add(normalizedId);
    }
    return { requests: requests as BatchSubRequest[] };
}
