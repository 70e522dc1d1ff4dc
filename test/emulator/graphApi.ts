import { EmulatorResponse, graphError, json } from "./responses";

/** A directory user as the emulator serves it. */
export interface EmulatedUser {
    id: string;
    userPrincipalName: string;
    displayName?: string;
    userType?: "Member" | "Guest";
    accountEnabled?: boolean;
    /**
     * The per-user MFA state `/authentication/requirements` returns: `undefined` leaves the
     * property out of the response, `null` sends it as null, any string is sent as-is
     * (so tests can send values newer than the client knows, like `unknownFutureValue`).
     */
    perUserMfaState?: string | null;
}

export type GraphVersion = "v1.0" | "beta";

export const GRAPH_VERSIONS: readonly GraphVersion[] = ["v1.0", "beta"];

/** Users by id, findable by id or userPrincipalName, both case-insensitively as Graph does. */
export class UserDirectory {
    readonly byId = new Map<string, EmulatedUser>();
    private readonly idByKey = new Map<string, string>();

    upsert(user: EmulatedUser): void {
        this.remove(user.id);
        this.byId.set(user.id, { ...user });
        this.idByKey.set(user.id.toLowerCase(), user.id);
        this.idByKey.set(user.userPrincipalName.toLowerCase(), user.id);
    }

    /** Removes the user with this id or userPrincipalName; true if there was one. */
    remove(idOrUpn: string): boolean {
        const user = this.find(idOrUpn);
        if (user === undefined) return false;
        this.byId.delete(user.id);
        this.idByKey.delete(user.id.toLowerCase());
        this.idByKey.delete(user.userPrincipalName.toLowerCase());
        return true;
    }

    find(idOrUpn: string): EmulatedUser | undefined {
        const id = this.idByKey.get(idOrUpn.toLowerCase());
        return id === undefined ? undefined : this.byId.get(id);
    }
}

/**
 * Properties `GET /users/{id}` returns without `$select`: v1.0 returns a small default set that
 * leaves out `userType` and `accountEnabled`, beta returns them all
 * (https://learn.microsoft.com/graph/api/user-get#optional-query-parameters).
 */
const DEFAULT_USER_PROPERTIES: Record<GraphVersion, readonly string[]> = {
    "v1.0": ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"],
    beta: ["id", "accountEnabled", "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "userType"],
};

const SELECTABLE_USER_PROPERTIES: ReadonlySet<string> = new Set(DEFAULT_USER_PROPERTIES.beta);

function userProperty(user: EmulatedUser, property: string): unknown {
    switch (property) {
        case "id": return user.id;
        case "userPrincipalName": return user.userPrincipalName;
        case "displayName": return user.displayName ?? null;
        case "userType": return user.userType ?? "Member";
        case "accountEnabled": return user.accountEnabled ?? true;
        case "businessPhones": return [];
        default: return null;
    }
}

/**
 * Answers one Graph operation (already authenticated, throttled and fault-checked) for a path
 * `/{version}/...` relative to the Graph root. `$batch` is handled by the caller.
 */
export function answerGraphOperation(
    directory: UserDirectory,
    graphUrl: string,
    method: string,
    version: GraphVersion,
    segments: readonly string[],
    query: URLSearchParams,
): EmulatorResponse {
    if (segments[0] !== "users" || segments.length < 2) return unknownSegment(segments[0] ?? "");
    const idOrUpn = segments[1];
    const isUser = segments.length === 2;
    const isRequirements = segments.length === 4 && segments[2] === "authentication" && segments[3] === "requirements" && version === "beta";
    if (!isUser && !isRequirements) {
        // v1.0 has no `requirements` segment: the MFA state is a beta-only resource.
        return unknownSegment(segments[2] === "authentication" ? segments[3] ?? "authentication" : segments[2]);
    }
    if (method !== "GET") {
        return graphError(405, { message: `The emulator serves only GET on this resource, not ${method}.` });
    }
    const user = directory.find(idOrUpn);
    if (user === undefined) {
        return graphError(404, { message: `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.` });
    }
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
    const context = select === null ? `${graphUrl}/${version}/$metadata#users/$entity` : `${graphUrl}/${version}/$metadata#users(${properties.join(",")})/$entity`;
    const body: Record<string, unknown> = { "@odata.context": context };
    for (const property of properties) body[property] = userProperty(user, property);
    return json(200, body);
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
