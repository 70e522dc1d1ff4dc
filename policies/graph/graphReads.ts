import { BatchRunner, SubRequestOutcome } from "./batch";
import { graphErrorCode, GraphResponse, GraphTransportError } from "./types";

/** A value Graph gave, or why it gave none usable. */
export type Answer<T> = { kind: "value"; value: T } | { kind: "unverified"; reason: string };

/** Permissions per read (https://learn.microsoft.com/graph/permissions-reference). */
export const PERMISSIONS = {
    perUserMfa:
        "the Microsoft Graph permission Policy.Read.All (application; or delegated, with a directory role such as Global Reader or Authentication Policy Administrator)",
    conditionalAccess: "the Microsoft Graph permission Policy.Read.All",
    securityDefaults: "the Microsoft Graph permission Policy.Read.All",
    registration: "the Microsoft Graph permission AuditLog.Read.All (and a Microsoft Entra ID P1 or P2 licence)",
    memberships: "the Microsoft Graph permission GroupMember.Read.All or Directory.Read.All",
    users: "the Microsoft Graph permission User.Read.All",
} as const;

/** Why an outcome is not a usable answer, or `undefined` for a 200. */
export function failureReason(outcome: SubRequestOutcome, what: string, permission: string, notFound?: string): string | undefined {
    if (outcome instanceof GraphTransportError) {
        return outcome.kind === "credential"
            ? `no Azure credential gave a token (${outcome.message}); sign in with 'az login' or set AZURE_TENANT_ID and AZURE_CLIENT_ID with a secret, a federated token or a managed identity`
            : outcome.message;
    }
    const code = graphErrorCode(outcome.body);
    const withCode = code ? ` ${code}` : "";
    switch (outcome.status) {
        case 200:
            return undefined;
        case 401:
            return `Graph rejected the credential's token (HTTP 401${withCode}), also after asking the credential again`;
        case 403:
            return `Graph denied access to ${what} (HTTP 403${withCode}); the identity the pack runs as needs ${permission}`;
        case 404:
            return notFound ? `${notFound} (HTTP 404${withCode})` : `Graph has no ${what} (HTTP 404${withCode})`;
        case 429:
            return `Graph kept throttling the requests for ${what} (HTTP 429) past the retry budget`;
        default:
            return `Graph answered HTTP ${outcome.status}${withCode} for ${what}`;
    }
}

/**
 * The `value` lists of collections, first pages asked together in batches, then each
 * `@odata.nextLink` followed in further rounds.
 */
export async function readCollections(
    runner: BatchRunner,
    paths: readonly string[],
    what: string,
    permission: string,
    maxPages = 50,
): Promise<Map<string, Answer<unknown[]>>> {
    const results = new Map<string, Answer<unknown[]>>();
    const pending = new Map(paths.map((path) => [path, { next: path, values: [] as unknown[], pages: 0 }]));
    while (pending.size > 0) {
        const outcomes = await runner.getAll([...pending.values()].map((state) => state.next));
        for (const [path, state] of [...pending]) {
            const outcome = outcomes.get(state.next)!;
            const failure = failureReason(outcome, what, permission);
            const body = failure ? undefined : ((outcome as GraphResponse).body as { value?: unknown; "@odata.nextLink"?: unknown } | undefined);
            let answer: Answer<unknown[]> | undefined;
            if (failure) answer = { kind: "unverified", reason: failure };
            else if (!Array.isArray(body?.value)) answer = { kind: "unverified", reason: `Graph's answer for ${what} has no 'value' list` };
            else {
                state.values.push(...body.value);
                state.pages++;
                const next = body["@odata.nextLink"];
                if (typeof next !== "string") answer = { kind: "value", value: state.values };
                else if (state.pages >= maxPages) answer = { kind: "unverified", reason: `${what} spans more than ${maxPages} pages` };
                else state.next = relativeToVersion(next);
            }
            if (answer) {
                results.set(path, answer);
                pending.delete(path);
            }
        }
    }
    return results;
}

async function readCollection(runner: BatchRunner, path: string, what: string, permission: string): Promise<Answer<unknown[]>> {
    return (await readCollections(runner, [path], what, permission)).get(path)!;
}

/** `https://graph.microsoft.com/v1.0/users?$skiptoken=x` -> `/users?$skiptoken=x` (the runner adds the version). */
function relativeToVersion(link: string): string {
    const url = new URL(link);
    return url.pathname.replace(/^\/(v1\.0|beta)/, "") + url.search;
}

/** Conditional Access policies of the tenant (https://learn.microsoft.com/graph/api/conditionalaccessroot-list-policies). */
export function readConditionalAccessPolicies(runner: BatchRunner): Promise<Answer<unknown[]>> {
    return readCollection(runner, "/identity/conditionalAccess/policies", "the tenant's Conditional Access policies", PERMISSIONS.conditionalAccess);
}

/** Whether security defaults are on (https://learn.microsoft.com/graph/api/identitysecuritydefaultsenforcementpolicy-get). */
export async function readSecurityDefaults(runner: BatchRunner): Promise<Answer<boolean>> {
    const path = "/policies/identitySecurityDefaultsEnforcementPolicy";
    const outcome = (await runner.getAll([path])).get(path)!;
    const failure = failureReason(outcome, "the security defaults policy", PERMISSIONS.securityDefaults);
    if (failure) return { kind: "unverified", reason: failure };
    const isEnabled = ((outcome as GraphResponse).body as { isEnabled?: unknown } | undefined)?.isEnabled;
    return typeof isEnabled === "boolean" ? { kind: "value", value: isEnabled } : { kind: "unverified", reason: "Graph's security defaults answer has no isEnabled" };
}

/** Whether each user can do MFA, from the registration report (https://learn.microsoft.com/graph/api/authenticationmethodsroot-list-userregistrationdetails). */
export async function readMfaCapable(runner: BatchRunner, objectIds: readonly string[]): Promise<Map<string, Answer<boolean>>> {
    const pathOf = (id: string) => `/reports/authenticationMethods/userRegistrationDetails?$filter=${encodeURIComponent(`id eq '${id}'`)}`;
    const outcomes = await runner.getAll(objectIds.map(pathOf));
    return new Map(
        objectIds.map((id): [string, Answer<boolean>] => {
            const outcome = outcomes.get(pathOf(id))!;
            const failure = failureReason(outcome, "the authentication methods registration report", PERMISSIONS.registration);
            if (failure) return [id, { kind: "unverified", reason: failure }];
            const rows = ((outcome as GraphResponse).body as { value?: { isMfaCapable?: unknown }[] } | undefined)?.value;
            if (!Array.isArray(rows)) return [id, { kind: "unverified", reason: "the registration report answer has no 'value' list" }];
            return [id, { kind: "value", value: rows[0]?.isMfaCapable === true }];
        }),
    );
}

export interface Memberships {
    groups: { id: string; displayName?: string }[];
    roleTemplateIds: string[];
}

/** Each user's groups and directory roles, transitively (https://learn.microsoft.com/graph/api/user-list-transitivememberof). */
export async function readMemberships(runner: BatchRunner, objectIds: readonly string[]): Promise<Map<string, Answer<Memberships>>> {
    const pathOf = (id: string) => `/users/${encodeURIComponent(id)}/transitiveMemberOf?$select=id,displayName,roleTemplateId&$top=999`;
    const answers = await readCollections(runner, objectIds.map(pathOf), "the user's group memberships", PERMISSIONS.memberships);
    return new Map(
        objectIds.map((id): [string, Answer<Memberships>] => {
            const answer = answers.get(pathOf(id))!;
            if (answer.kind === "unverified") return [id, answer];
            const objects = answer.value as { "@odata.type"?: string; id?: string; displayName?: string; roleTemplateId?: string }[];
            return [
                id,
                {
                    kind: "value",
                    value: {
                        groups: objects.filter((o) => o["@odata.type"] === "#microsoft.graph.group" && typeof o.id === "string").map((o) => ({ id: o.id!, displayName: o.displayName })),
                        roleTemplateIds: objects.filter((o) => typeof o.roleTemplateId === "string").map((o) => o.roleTemplateId!),
                    },
                },
            ];
        }),
    );
}

/** The users in each group, through nested groups (https://learn.microsoft.com/graph/api/group-list-transitivemembers). */
export async function readGroupUsers(runner: BatchRunner, groupIds: readonly string[]): Promise<Map<string, Answer<{ id: string; userPrincipalName?: string }[]>>> {
    const pathOf = (id: string) => `/groups/${encodeURIComponent(id)}/transitiveMembers/microsoft.graph.user?$select=id,userPrincipalName&$top=999`;
    const answers = await readCollections(runner, groupIds.map(pathOf), "the members of a group outside the stack", PERMISSIONS.memberships);
    return new Map(
        groupIds.map((id): [string, Answer<{ id: string; userPrincipalName?: string }[]>] => {
            const answer = answers.get(pathOf(id))!;
            if (answer.kind === "unverified") return [id, answer];
            const users = (answer.value as { id?: unknown; userPrincipalName?: unknown }[])
                .filter((u) => typeof u.id === "string")
                .map((u) => ({ id: u.id as string, userPrincipalName: typeof u.userPrincipalName === "string" ? u.userPrincipalName : undefined }));
            return [id, { kind: "value", value: users }];
        }),
    );
}

export interface UserProfile {
    userPrincipalName?: string;
    accountEnabled?: boolean;
    userType?: string;
}

/** Who a user outside the stack is: its name, whether it can sign in, guest or member (https://learn.microsoft.com/graph/api/user-get). */
export async function readUserProfiles(runner: BatchRunner, objectIds: readonly string[]): Promise<Map<string, Answer<UserProfile>>> {
    const pathOf = (id: string) => `/users/${encodeURIComponent(id)}?$select=id,userPrincipalName,accountEnabled,userType`;
    const outcomes = await runner.getAll(objectIds.map(pathOf));
    return new Map(
        objectIds.map((id): [string, Answer<UserProfile>] => {
            const outcome = outcomes.get(pathOf(id))!;
            const failure = failureReason(outcome, "the user", PERMISSIONS.users, `Graph has no user with object id ${id}`);
            if (failure) return [id, { kind: "unverified", reason: failure }];
            const body = ((outcome as GraphResponse).body ?? {}) as Record<string, unknown>;
            return [
                id,
                {
                    kind: "value",
                    value: {
                        ...(typeof body.userPrincipalName === "string" ? { userPrincipalName: body.userPrincipalName } : {}),
                        ...(typeof body.accountEnabled === "boolean" ? { accountEnabled: body.accountEnabled } : {}),
                        ...(typeof body.userType === "string" ? { userType: body.userType } : {}),
                    },
                },
            ];
        }),
    );
}
