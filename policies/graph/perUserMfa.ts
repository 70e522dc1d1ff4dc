import { BatchRunner, SubRequestOutcome } from "./batch";
import { credentialFailureReason } from "./graphReads";
import { graphErrorCode, GraphTransportError } from "./types";

/** What Graph said of one user's per-user MFA state, or why it said nothing usable. */
export type PerUserMfaAnswer =
    | { kind: "state"; /** `null` when Graph sent null, `undefined` when it sent no state. */ state: string | null | undefined }
    | { kind: "unverified"; reason: string };

/** The permission the per-user MFA endpoint needs (https://learn.microsoft.com/graph/api/authentication-get-requirements). */
export const REQUIRED_PERMISSION =
    "the Microsoft Graph permission Policy.Read.All (application; or delegated, with a directory role such as Global Reader or Authentication Policy Administrator)";

export function requirementsPath(objectId: string): string {
    return `/users/${encodeURIComponent(objectId)}/authentication/requirements`;
}

/** Asks `/beta/users/{id}/authentication/requirements` for each user, in batches. */
export async function readPerUserMfaStates(runner: BatchRunner, objectIds: readonly string[]): Promise<Map<string, PerUserMfaAnswer>> {
    const outcomes = await runner.getAll(objectIds.map(requirementsPath));
    return new Map(objectIds.map((id) => [id, answerFrom(outcomes.get(requirementsPath(id))!, id)]));
}

export function answerFrom(outcome: SubRequestOutcome, objectId: string): PerUserMfaAnswer {
    if (outcome instanceof GraphTransportError) {
        return { kind: "unverified", reason: transportReason(outcome) };
    }
    const code = graphErrorCode(outcome.body);
    const withCode = code ? ` ${code}` : "";
    switch (outcome.status) {
        case 200: {
            const body = outcome.body as { perUserMfaState?: unknown } | null;
            const state = body?.perUserMfaState;
            if (typeof body !== "object" || body === null || Array.isArray(body) || (state !== undefined && state !== null && typeof state !== "string")) {
                return { kind: "unverified", reason: "Graph's answer for the user could not be read (no perUserMfaState object)" };
            }
            return { kind: "state", state };
        }
        case 401:
            return { kind: "unverified", reason: `Graph rejected the credential's token (HTTP 401${withCode}), also after asking the credential again` };
        case 403:
            return { kind: "unverified", reason: `Graph denied access (HTTP 403${withCode}); the identity the pack runs as needs ${REQUIRED_PERMISSION}` };
        case 404:
            return { kind: "unverified", reason: `Graph has no user with object id ${objectId} (HTTP 404${withCode}); if the principal is a group or service principal, set principalType on its assignment` };
        case 429:
            return { kind: "unverified", reason: `Graph kept throttling the requests (HTTP 429) past the retry budget` };
        default:
            return { kind: "unverified", reason: `Graph answered HTTP ${outcome.status}${withCode}` };
    }
}

function transportReason(error: GraphTransportError): string {
    switch (error.kind) {
        case "credential":
            return credentialFailureReason(error);
        default:
            return error.message;
    }
}
