import { randomUUID } from "node:crypto";
import {
    AuthenticationStrengthPolicy,
    BUILT_IN_AUTHENTICATION_STRENGTHS,
    completeAuthenticationStrength,
    completeConditionalAccessPolicy,
    ConditionalAccessPolicy,
    EmulatedAuthenticationStrength,
    EmulatedConditionalAccessPolicy,
} from "./conditionalAccess";
import { EmulatedDirectoryRole, EmulatedGroup, EmulatedRoleEligibility, EmulatedUser, UserDirectory } from "./directoryObjects";

export type StoredDirectoryRole = Readonly<EmulatedDirectoryRole & { id: string }>;

/** Everything the emulated tenant knows, and the membership questions Graph answers about it. */
export class EmulatedTenant {
    readonly users = new UserDirectory();
    readonly groups = new Map<string, EmulatedGroup>();
    /** By template id. */
    readonly directoryRoles = new Map<string, StoredDirectoryRole>();
    conditionalAccessPolicies: readonly ConditionalAccessPolicy[] = [];
    /** Whether policies are served with every `@odata.type` annotation, as beta exports show them. */
    conditionalAccessODataAnnotations = false;
    securityDefaultsEnabled = false;
    /** By id: the built-in strengths, and custom ones tests add. */
    readonly authenticationStrengths = new Map<string, AuthenticationStrengthPolicy>(
        Object.values(BUILT_IN_AUTHENTICATION_STRENGTHS).map((strength) => [strength.id, structuredClone(strength) as AuthenticationStrengthPolicy]),
    );
    /** PIM eligibilities, each with the id and start time its schedule instance is listed with. */
    roleEligibilities: readonly (Required<EmulatedRoleEligibility> & { id: string; startDateTime: string })[] = [];
    /** When each user last changed, for the registration report's `lastUpdatedDateTime`. */
    private readonly userUpdatedAt = new Map<string, string>();

    upsertUser(user: EmulatedUser): void {
        this.users.upsert(user);
        this.userUpdatedAt.set(user.id, new Date().toISOString());
    }

    removeUser(idOrUpn: string): boolean {
        const user = this.users.find(idOrUpn);
        if (user === undefined) return false;
        this.userUpdatedAt.delete(user.id);
        return this.users.remove(user.id);
    }

    userUpdatedDateTime(userId: string): string | null {
        return this.userUpdatedAt.get(userId) ?? null;
    }

    upsertGroup(group: EmulatedGroup): void {
        this.groups.set(group.id, { ...group, members: [...group.members] });
    }

    upsertDirectoryRole(role: EmulatedDirectoryRole): void {
        const id = role.id ?? this.directoryRoles.get(role.templateId)?.id ?? randomUUID();
        this.directoryRoles.set(role.templateId, { ...role, id, members: [...role.members] });
    }

    setConditionalAccessPolicies(policies: readonly EmulatedConditionalAccessPolicy[]): void {
        this.conditionalAccessPolicies = policies.map(completeConditionalAccessPolicy);
    }

    upsertAuthenticationStrength(strength: EmulatedAuthenticationStrength): void {
        this.authenticationStrengths.set(strength.id, completeAuthenticationStrength(strength));
    }

    /** Replaces the eligibilities of every principal named in `eligibilities`; the others keep theirs. */
    setRoleEligibilities(principalIds: readonly string[], eligibilities: readonly EmulatedRoleEligibility[]): void {
        const replaced = new Set(principalIds.map((id) => id.toLowerCase()));
        const startDateTime = new Date().toISOString();
        this.roleEligibilities = [
            ...this.roleEligibilities.filter((eligibility) => !replaced.has(eligibility.principalId.toLowerCase())),
            ...eligibilities.map((eligibility) => ({ directoryScopeId: "/", ...eligibility, id: randomUUID(), startDateTime })),
        ];
    }

    /** Groups that contain the object directly or through nested groups, nearest first. */
    transitiveGroupsOf(objectId: string): EmulatedGroup[] {
        const found = new Map<string, EmulatedGroup>();
        let frontier = [objectId];
        while (frontier.length > 0) {
            const next: string[] = [];
            for (const group of this.groups.values()) {
                if (found.has(group.id) || !frontier.some((id) => group.members.includes(id))) continue;
                found.set(group.id, group);
                next.push(group.id);
            }
            frontier = next;
        }
        return [...found.values()];
    }

    /** Directory roles held by the object or by a group it is in, transitively. */
    transitiveDirectoryRolesOf(objectId: string): StoredDirectoryRole[] {
        const holders = new Set([objectId, ...this.transitiveGroupsOf(objectId).map((group) => group.id)]);
        return [...this.directoryRoles.values()].filter((role) => role.members.some((member) => holders.has(member)));
    }

    /** Users and groups inside a group, nested groups flattened, each once; unknown ids are skipped. */
    transitiveMembersOf(groupId: string): { users: EmulatedUser[]; groups: EmulatedGroup[] } {
        const users = new Map<string, EmulatedUser>();
        const groups = new Map<string, EmulatedGroup>();
        const visit = (group: EmulatedGroup): void => {
            for (const memberId of group.members) {
                const user = this.users.byId.get(memberId);
                if (user !== undefined) {
                    users.set(user.id, user);
                    continue;
                }
                const nested = this.groups.get(memberId);
                // The visited check also keeps a membership cycle, which Entra refuses anyway, from looping.
                if (nested !== undefined && !groups.has(nested.id) && nested.id !== groupId) {
                    groups.set(nested.id, nested);
                    visit(nested);
                }
            }
        };
        const root = this.groups.get(groupId);
        if (root !== undefined) visit(root);
        return { users: [...users.values()], groups: [...groups.values()] };
    }
}
