import { BatchRunner, SubRequestOutcome } from "./batch";
import { graphErrorCode, GraphResponse, GraphTransportError } from "./types";

/** A value Graph gave, or why it gave none usable. */
export type Answer<T> = { kind: "value"; value: T } | { kind: "unverified"; reason: string };

/** Graph's answer for a user: the profile, the fact that no user has the id, or why neither is known. */
export type UserProfileAnswer = Answer<UserProfile> | { kind: "not-found" };

/** Permissions per read (https://learn.microsoft.com/graph/permissions-reference). */
export const PERMISSIONS = {
    perUserMfa:
        "the Microsoft Graph permission Policy.Read.All (application; or delegated, with a directory role such as Global Reader or Authentication Policy Administrator)",
    conditionalAccess: "the Microsoft Graph permission Policy.Read.All",
    securityDefaults: "the Microsoft Graph permission Policy.Read.All",
    registration: "the Microsoft Graph permission AuditLog.Read.All (and a Microsoft Entra ID P1 or P2 licence)",
    memberships: "the Microsoft Graph permission GroupMember.Read.All or Directory.Read.All",
    // Application identities need Directory.Read.All for a group's memberships; GroupMember.Read.All is listed for delegated sign-in only
    // (https://learn.microsoft.com/graph/api/group-list-transitivememberof#permissions).
    groupMemberships: "the Microsoft Graph permission Directory.Read.All (or GroupMember.Read.All when signed in as a user)",
    users: "the Microsoft Graph permission User.Read.All",
    authenticationStrengths: "the Microsoft Graph permission Policy.Read.All",
    roleEligibilities: "the Microsoft Graph permission RoleEligibilitySchedule.Read.Directory or RoleManagement.Read.Directory",
} as const;

/** Why no token came, with the fix: the credential's own when it was set up wrong, else how to give the pack one. */
export function credentialFailureReason(error: GraphTransportError): string {
    return error.saysItsFix
        ? `could not sign in: ${error.message}`
        : `no Azure credential gave a token (${error.message}); sign in with 'az login', or give the pack a credential: AZURE_TENANT_ID and AZURE_CLIENT_ID with a secret, a federated token or a managed identity`;
}

/**
 * Why an outcome is not a usable answer, or `undefined` for a 200. Every reason but a credential
 * failure names the permission the read uses, so a report can say once per run what to grant.
 */
export function failureReason(outcome: SubRequestOutcome, what: string, permission: string, notFound?: string): string | undefined {
    const uses = `; the read uses ${permission}`;
    if (outcome instanceof GraphTransportError) {
        return outcome.kind === "credential" ? credentialFailureReason(outcome) : `${outcome.message} (reading ${what})${uses}`;
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
            return `${notFound ?? `Graph has no ${what}`} (HTTP 404${withCode})${uses}`;
        case 429:
            return `Graph kept throttling the requests for ${what} (HTTP 429${withCode}) past the retry budget${uses}`;
        default:
            return `Graph answered HTTP ${outcome.status}${withCode} for ${what}${uses}`;
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
    { maxPages = 50, notFound }: { maxPages?: number; notFound?: string } = {},
): Promise<Map<string, Answer<unknown[]>>> {
    const results = new Map<string, Answer<unknown[]>>();
    const pending = new Map(paths.map((path) => [path, { next: path, values: [] as unknown[], pages: 0 }]));
    while (pending.size > 0) {
        const outcomes = await runner.getAll([...pending.values()].map((state) => state.next));
        for (const [path, state] of [...pending]) {
            const outcome = outcomes.get(state.next)!;
            const failure = failureReason(outcome, what, permission, notFound);
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

/** An OData string literal: quoted, with quotes inside doubled, so an id cannot end it early (OData 4.01 URL conventions, section 5.1.1.6.1). */
function odataString(value: string): string {
    return `'${value.replace(/'/g, "''")}'`;
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
    const pathOf = (id: string) => `/reports/authenticationMethods/userRegistrationDetails?$filter=${encodeURIComponent(`id eq ${odataString(id)}`)}`;
    const outcomes = await runner.getAll(objectIds.map(pathOf));
    return new Map(
        objectIds.map((id): [string, Answer<boolean>] => {
            const outcome = outcomes.get(pathOf(id))!;
            const failure = failureReason(outcome, "the authentication methods registration report", PERMISSIONS.registration);
            if (failure) return [id, { kind: "unverified", reason: failure }];
            const rows = ((outcome as GraphResponse).body as { value?: { isMfaCapable?: unknown }[] } | undefined)?.value;
            if (!Array.isArray(rows)) return [id, { kind: "unverified", reason: "the registration report answer has no 'value' list" }];
            // The report is computed after the fact (each row has its lastUpdatedDateTime): a user it does
            // not list yet is a user it says nothing about, not one without MFA.
            if (rows.length === 0) return [id, { kind: "unverified", reason: "the registration report has no row for the user (it may not list a new account yet)" }];
            const capable = rows[0]?.isMfaCapable;
            if (typeof capable !== "boolean") return [id, { kind: "unverified", reason: "the registration report's row for the user has no isMfaCapable" }];
            return [id, { kind: "value", value: capable }];
        }),
    );
}

export interface Memberships {
    groups: { id: string; displayName?: string }[];
    roleTemplateIds: string[];
}

/** Each user's groups and directory roles, transitively (https://learn.microsoft.com/graph/api/user-list-transitivememberof). */
export function readMemberships(runner: BatchRunner, objectIds: readonly string[]): Promise<Map<string, Answer<Memberships>>> {
    return readTransitiveMemberOf(runner, "users", objectIds, "the user's group memberships", PERMISSIONS.memberships, "Graph has no user with this id to list the group memberships of");
}

/**
 * The groups and directory roles each group is in, transitively
 * (https://learn.microsoft.com/graph/api/group-list-transitivememberof): a user the stack adds to a
 * group outside the stack inherits them.
 */
export function readGroupMemberships(runner: BatchRunner, groupIds: readonly string[]): Promise<Map<string, Answer<Memberships>>> {
    return readTransitiveMemberOf(runner, "groups", groupIds, "the group's own group memberships", PERMISSIONS.groupMemberships, "Graph has no group with this id to list the group memberships of");
}

async function readTransitiveMemberOf(
    runner: BatchRunner,
    collection: "users" | "groups",
    objectIds: readonly string[],
    what: string,
    permission: string,
    notFound: string,
): Promise<Map<string, Answer<Memberships>>> {
    const pathOf = (id: string) => `/${collection}/${encodeURIComponent(id)}/transitiveMemberOf?$select=id,displayName,roleTemplateId&$top=999`;
    const answers = await readCollections(runner, objectIds.map(pathOf), what, permission, { notFound });
    return new Map(objectIds.map((id): [string, Answer<Memberships>] => {
        const answer = answers.get(pathOf(id))!;
        return [id, answer.kind === "unverified" ? answer : membershipsFrom(answer.value, what, permission)];
    }));
}

type DirectoryObjectRow = { "@odata.type"?: unknown; id?: unknown; displayName?: unknown; roleTemplateId?: unknown };

function membershipsFrom(objects: unknown[], what: string, permission: string): Answer<Memberships> {
    const rows = objects as DirectoryObjectRow[];
    // Without a permission that can read an object, Graph still lists it, with its type and id and
    // every other property null (https://learn.microsoft.com/graph/permissions-overview#limited-information-returned-for-inaccessible-member-objects):
    // a role without its template id would silently drop out.
    if (rows.some((row) => row?.["@odata.type"] === "#microsoft.graph.directoryRole" && typeof row.roleTemplateId !== "string")) {
        return { kind: "unverified", reason: `Graph listed a directory role in ${what} without its roleTemplateId, as it does for objects the identity may not read; the identity the pack runs as needs ${permission}` };
    }
    return {
        kind: "value",
        value: {
            groups: rows
                .filter((row) => row?.["@odata.type"] === "#microsoft.graph.group" && typeof row.id === "string")
                .map((row) => ({ id: row.id as string, ...(typeof row.displayName === "string" ? { displayName: row.displayName } : {}) })),
            roleTemplateIds: rows.filter((row) => typeof row?.roleTemplateId === "string").map((row) => row.roleTemplateId as string),
        },
    };
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
    /** `Invitation` for B2B guests invited by email, `LocalAccount` for local accounts in B2C tenants; absent for ordinary accounts. */
    creationType?: string | null;
    /** `PendingAcceptance` or `Accepted` for invited users. */
    externalUserState?: string | null;
    /** The ways the user signs in, e.g. `{ signInType: "userPrincipalName", issuer: "contoso.onmicrosoft.com" }`. */
    identities?: { signInType?: string; issuer?: string }[];
}

/**
 * Who each user outside the stack is: name, sign-in state, guest or member, how it was created and
 * signs in (https://learn.microsoft.com/graph/api/user-get). No user with the id is a fact, not a
 * failure: the id may be a group's.
 */
export async function readUserProfiles(runner: BatchRunner, objectIds: readonly string[]): Promise<Map<string, UserProfileAnswer>> {
    const pathOf = (id: string) => `/users/${encodeURIComponent(id)}?$select=id,userPrincipalName,accountEnabled,userType,creationType,externalUserState,identities`;
    const outcomes = await runner.getAll(objectIds.map(pathOf));
    return new Map(
        objectIds.map((id): [string, UserProfileAnswer] => {
            const outcome = outcomes.get(pathOf(id))!;
            if (!(outcome instanceof GraphTransportError) && outcome.status === 404 && graphErrorCode(outcome.body) === "Request_ResourceNotFound") {
                return [id, { kind: "not-found" }];
            }
            const failure = failureReason(outcome, "the user", PERMISSIONS.users, "Graph did not find the user, without saying Request_ResourceNotFound");
            if (failure) return [id, { kind: "unverified", reason: failure }];
            const body = ((outcome as GraphResponse).body ?? {}) as Record<string, unknown>;
            const text = (name: string) => (typeof body[name] === "string" ? { [name]: body[name] as string } : {});
            // Graph answers null for an ordinary account; that null is a fact, unlike a field left out.
            const nullableText = (name: string) => (typeof body[name] === "string" || body[name] === null ? { [name]: body[name] as string | null } : {});
            return [
                id,
                {
                    kind: "value",
                    value: {
                        ...text("userPrincipalName"),
                        ...(typeof body.accountEnabled === "boolean" ? { accountEnabled: body.accountEnabled } : {}),
                        ...text("userType"),
                        ...nullableText("creationType"),
                        ...nullableText("externalUserState"),
                        ...(Array.isArray(body.identities) ? { identities: body.identities.map(identityFrom) } : {}),
                    },
                },
            ];
        }),
    );
}

function identityFrom(identity: unknown): { signInType?: string; issuer?: string } {
    const { signInType, issuer } = (identity ?? {}) as Record<string, unknown>;
    return { ...(typeof signInType === "string" ? { signInType } : {}), ...(typeof issuer === "string" ? { issuer } : {}) };
}

/** What Conditional Access needs of an authentication strength. */
export interface AuthenticationStrength {
    id: string;
    displayName?: string;
    /** `mfa` when satisfying the strength grants the MFA claim. */
    requirementsSatisfied?: string;
    /** Method combinations, each a comma-separated list such as `password,microsoftAuthenticatorPush`. */
    allowedCombinations: string[];
}

/** Each authentication strength a policy names (https://learn.microsoft.com/graph/api/authenticationstrengthpolicy-get). */
export async function readAuthenticationStrengths(runner: BatchRunner, ids: readonly string[]): Promise<Map<string, Answer<AuthenticationStrength>>> {
    const pathOf = (id: string) => `/policies/authenticationStrengthPolicies/${encodeURIComponent(id)}`;
    const outcomes = await runner.getAll(ids.map(pathOf));
    return new Map(
        ids.map((id): [string, Answer<AuthenticationStrength>] => {
            const what = "the authentication strength";
            const failure = failureReason(outcomes.get(pathOf(id))!, what, PERMISSIONS.authenticationStrengths, `Graph has no authentication strength with id ${id}`);
            if (failure) return [id, { kind: "unverified", reason: failure }];
            const body = ((outcomes.get(pathOf(id)) as GraphResponse).body ?? {}) as Record<string, unknown>;
            const combinations = body.allowedCombinations;
            if (!Array.isArray(combinations) || !combinations.every((c) => typeof c === "string")) {
                return [id, { kind: "unverified", reason: `Graph's answer for ${what} ${id} has no allowedCombinations list` }];
            }
            return [
                id,
                {
                    kind: "value",
                    value: {
                        id: typeof body.id === "string" ? body.id : id,
                        ...(typeof body.displayName === "string" ? { displayName: body.displayName } : {}),
                        ...(typeof body.requirementsSatisfied === "string" ? { requirementsSatisfied: body.requirementsSatisfied } : {}),
                        allowedCombinations: combinations as string[],
                    },
                },
            ];
        }),
    );
}

/** A directory role a principal may activate through Privileged Identity Management. */
export interface RoleEligibility {
    /** `roleDefinitionId` of the eligibility, which for built-in roles is the role's template id. */
    roleTemplateId: string;
    /** `/` for the whole tenant, `/administrativeUnits/{id}` or an object id otherwise. */
    directoryScopeId: string;
}

/**
 * The directory roles each principal is eligible for
 * (https://learn.microsoft.com/graph/api/rbacapplication-list-roleeligibilityscheduleinstances).
 */
export async function readRoleEligibilities(runner: BatchRunner, principalIds: readonly string[]): Promise<Map<string, Answer<RoleEligibility[]>>> {
    const pathOf = (id: string) =>
        `/roleManagement/directory/roleEligibilityScheduleInstances?$filter=${encodeURIComponent(`principalId eq ${odataString(id)}`)}&$select=principalId,roleDefinitionId,directoryScopeId`;
    const what = "the principal's role eligibilities";
    const answers = await readCollections(runner, principalIds.map(pathOf), what, PERMISSIONS.roleEligibilities, { notFound: "Graph has no role eligibility schedule instances to list" });
    return new Map(
        principalIds.map((id): [string, Answer<RoleEligibility[]>] => {
            const answer = answers.get(pathOf(id))!;
            if (answer.kind === "unverified") {
                // PIM needs Entra ID P2 or ID Governance; without it Graph answers 400 AadPremiumLicenseRequired
                // rather than an empty list, so the eligibilities are unknown, not absent.
                return [id, answer.reason.includes("AadPremiumLicenseRequired") ? { kind: "unverified", reason: `${answer.reason}; PIM eligibility needs a Microsoft Entra ID P2 or ID Governance licence in the tenant` } : answer];
            }
            const rows = answer.value as { roleDefinitionId?: unknown; directoryScopeId?: unknown }[];
            if (rows.some((row) => typeof row?.roleDefinitionId !== "string" || typeof row.directoryScopeId !== "string")) {
                return [id, { kind: "unverified", reason: `Graph listed a role eligibility without its roleDefinitionId or directoryScopeId in ${what}` }];
            }
            return [id, { kind: "value", value: rows.map((row) => ({ roleTemplateId: row.roleDefinitionId as string, directoryScopeId: row.directoryScopeId as string })) }];
        }),
    );
}

/** What Graph says of a user principal name: the object id of the user who has it, or that nobody has it. */
export type UserIdAnswer = Answer<string> | { kind: "not-found" };

/**
 * Graph takes at most 15 values in one `in` filter on directory objects
 * (https://learn.microsoft.com/graph/filter-query-parameter: "the in operator … is limited to 15 expressions").
 */
export const PRINCIPAL_NAMES_PER_FILTER = 15;

/**
 * The object ids of the users with these user principal names, fifteen names a request
 * (https://learn.microsoft.com/graph/api/user-list). Keys are the names as given; a name no user
 * has is `not-found`, which for a user the stack is about to create is the expected answer.
 */
export async function readUserIdsByPrincipalName(runner: BatchRunner, principalNames: readonly string[]): Promise<Map<string, UserIdAnswer>> {
    const chunks: string[][] = [];
    for (let start = 0; start < principalNames.length; start += PRINCIPAL_NAMES_PER_FILTER) chunks.push(principalNames.slice(start, start + PRINCIPAL_NAMES_PER_FILTER));
    const pathOf = (chunk: readonly string[]) =>
        `/users?$filter=${encodeURIComponent(`userPrincipalName in (${chunk.map(odataString).join(",")})`)}&$select=id,userPrincipalName&$top=${PRINCIPAL_NAMES_PER_FILTER}`;
    const answers = await readCollections(runner, chunks.map(pathOf), "users by user principal name", PERMISSIONS.users);
    const results = new Map<string, UserIdAnswer>();
    for (const chunk of chunks) {
        const answer = answers.get(pathOf(chunk))!;
        // Graph compares user principal names case-insensitively.
        const idByName = new Map<string, string>();
        if (answer.kind === "value") {
            for (const row of answer.value as { id?: unknown; userPrincipalName?: unknown }[]) {
                if (typeof row?.id === "string" && typeof row.userPrincipalName === "string") idByName.set(row.userPrincipalName.toLowerCase(), row.id);
            }
        }
        for (const name of chunk) {
            const id = idByName.get(name.toLowerCase());
            results.set(name, answer.kind === "unverified" ? answer : id !== undefined ? { kind: "value", value: id } : { kind: "not-found" });
        }
    }
    return results;
}
