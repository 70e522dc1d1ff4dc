/** Directory objects the emulator holds (users, groups, directory roles) and how Graph represents them. */

export type GraphVersion = "v1.0" | "beta";

export const GRAPH_VERSIONS: readonly GraphVersion[] = ["v1.0", "beta"];

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
    /**
     * The user's row in `/reports/authenticationMethods/userRegistrationDetails`. A user with
     * neither property set has no row (as for a user created since the report was last built,
     * or a tenant without Entra ID P1); one set alone makes the other `false`.
     */
    isMfaCapable?: boolean;
    isMfaRegistered?: boolean;
    /** `Invitation` for a B2B guest invited by email, `LocalAccount` in B2C; null (the default) for an ordinary account. */
    creationType?: string | null;
    /** `PendingAcceptance` or `Accepted` for invited users; null by default. */
    externalUserState?: string | null;
    /** Default: one `userPrincipalName` identity issued by the UPN's domain, as every account has. */
    identities?: { signInType: string; issuer: string; issuerAssignedId?: string | null }[];
}

/** A directory group; `members` are user or group ids (nested groups are resolved transitively). */
export interface EmulatedGroup {
    id: string;
    displayName: string;
    members: string[];
    /** A role-assignable group (`isAssignableToRole`), the only kind a directory role may hold. Default false. */
    isAssignableToRole?: boolean;
}

/**
 * An activated Entra directory role and who holds it. `members` are user ids or ids of
 * role-assignable groups. `id` is the role object's id, which differs from `templateId` in Graph;
 * a random GUID when left out.
 */
export interface EmulatedDirectoryRole {
    templateId: string;
    displayName: string;
    members: string[];
    id?: string;
}

/**
 * A directory role a principal may activate through PIM, as `roleEligibilityScheduleInstances`
 * lists it. `roleDefinitionId` is the template id for built-in roles.
 */
export interface EmulatedRoleEligibility {
    principalId: string;
    roleDefinitionId: string;
    /** Default `/`, the whole tenant; `/administrativeUnits/{id}` for a role scoped to an administrative unit. */
    directoryScopeId?: string;
}

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
 * Properties Graph returns for a user without `$select`: v1.0 returns a small default set that
 * leaves out `userType` and `accountEnabled`, beta returns them all
 * (https://learn.microsoft.com/graph/api/user-get#optional-query-parameters). Users inside
 * directory-object collections (`transitiveMembers`) follow the same rule.
 */
export const DEFAULT_USER_PROPERTIES: Record<GraphVersion, readonly string[]> = {
    "v1.0": ["businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"],
    beta: ["id", "accountEnabled", "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "userType"],
};

/** Properties only `$select` returns, in either version. */
const SELECT_ONLY_USER_PROPERTIES = ["creationType", "externalUserState", "identities"];

export const SELECTABLE_USER_PROPERTIES: ReadonlySet<string> = new Set([...DEFAULT_USER_PROPERTIES.beta, ...SELECT_ONLY_USER_PROPERTIES]);

export function userProperty(user: EmulatedUser, property: string): unknown {
    switch (property) {
        case "id": return user.id;
        case "userPrincipalName": return user.userPrincipalName;
        case "displayName": return user.displayName ?? null;
        case "userType": return user.userType ?? "Member";
        case "accountEnabled": return user.accountEnabled ?? true;
        case "businessPhones": return [];
        case "creationType": return user.creationType ?? null;
        case "externalUserState": return user.externalUserState ?? null;
        case "identities":
            return user.identities ?? [{ signInType: "userPrincipalName", issuer: user.userPrincipalName.slice(user.userPrincipalName.lastIndexOf("@") + 1), issuerAssignedId: user.userPrincipalName }];
        default: return null;
    }
}

/** Every selectable property of a user, for collections that `$select` from. */
export function userRepresentation(user: EmulatedUser): Record<string, unknown> {
    return Object.fromEntries([...SELECTABLE_USER_PROPERTIES].map((property) => [property, userProperty(user, property)]));
}

export function groupRepresentation(group: EmulatedGroup): Record<string, unknown> {
    return {
        id: group.id,
        deletedDateTime: null,
        description: null,
        displayName: group.displayName,
        groupTypes: [],
        isAssignableToRole: group.isAssignableToRole ?? false,
        mail: null,
        mailEnabled: false,
        mailNickname: group.displayName.replace(/[^A-Za-z0-9]/g, "") || group.id,
        securityEnabled: true,
    };
}

export function directoryRoleRepresentation(role: EmulatedDirectoryRole & { id: string }): Record<string, unknown> {
    return { id: role.id, deletedDateTime: null, description: null, displayName: role.displayName, roleTemplateId: role.templateId };
}
