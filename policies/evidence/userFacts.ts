import { Answer, Memberships } from "../graph/graphReads";
import { HeldRole, InventoryUser } from "../inventory/types";
import { ConditionalAccessPolicy } from "./conditionalAccess";
import { GuestKind, UserFacts } from "./coverage";
import { causeFor } from "./causes";
import { Unknown, unknownBecause } from "./truth";

/** Which tenant facts the policies make worth reading: each read costs a Graph request per user. */
export interface FactsNeeded {
    /** A policy names groups or directory roles (`transitiveMemberOf`). */
    memberships: boolean;
    /** A policy excludes directory roles, which a user may activate through PIM. */
    eligibilities: boolean;
    /** A policy includes or excludes guests by kind. */
    guestKinds: boolean;
}

export function factsNeededBy(policies: readonly ConditionalAccessPolicy[]): FactsNeeded {
    const names = (pick: (p: ConditionalAccessPolicy) => boolean) => policies.some(pick);
    const targets = (p: ConditionalAccessPolicy) => [p.include, p.exclude];
    return {
        memberships: names((p) => targets(p).some((t) => t.groups.values.length > 0 || t.roles.values.length > 0 || !!t.groups.unknown || !!t.roles.unknown)),
        eligibilities: names((p) => p.exclude.roles.values.length > 0 || !!p.exclude.roles.unknown),
        guestKinds: names((p) => targets(p).some((t) => t.guests !== undefined || t.users.values.includes("guestsorexternalusers"))),
    };
}

/** What Graph said of one user, for the facts that were needed; `undefined` where not asked. */
export interface TenantAnswers {
    memberships?: Answer<Memberships>;
    eligibleRoleTemplateIds?: Answer<string[]>;
    /** The memberships of the groups outside the stack the stack adds the user to. */
    outsideGroupMemberships?: Answer<Memberships>;
    /** Why the profile of a user outside the stack could not be read, if it could not. */
    profileFailure?: string;
}

/**
 * What Conditional Access matching knows of a user: the stack's groups and roles, and the
 * tenant's where they were needed and read. A user this deployment creates is in no tenant group
 * and holds no tenant role yet, so the stack's view of it is complete (save the outside groups it
 * is added to). A fact that was needed and could not be read is an `Unknown` with Graph's reason.
 */
export function userFactsOf(user: InventoryUser, needed: FactsNeeded, tenant: TenantAnswers): UserFacts {
    const stackGroupIds = user.stackGroups.map((g) => g.objectId?.toLowerCase()).filter((id): id is string => !!id);
    const outsideGroupIds = (user.outsideGroupIds ?? []).map((id) => id.toLowerCase());
    const groupNames = new Map(user.stackGroups.filter((g) => g.objectId).map((g) => [g.objectId!.toLowerCase(), g.displayName]));
    const directoryRoles = (eligible: boolean) =>
        user.roles.filter((r) => r.system === "entra-directory" && r.templateId && !!r.eligible === eligible && isTenantWide(r)).map((r) => r.templateId!.toLowerCase());

    const fromTenant = (answer: Answer<Memberships> | undefined, what: string): Memberships | Unknown => {
        if (answer === undefined) return unknownBecause(`${what} were not read`);
        if (answer.kind === "unverified") return unknownBecause(causeFor(what, answer.reason));
        answer.value.groups.forEach((g) => g.displayName && groupNames.set(g.id.toLowerCase(), g.displayName));
        return answer.value;
    };

    let groupIds: ReadonlySet<string> | Unknown = new Set([...stackGroupIds, ...outsideGroupIds]);
    let roleTemplateIds: ReadonlySet<string> | Unknown = new Set(directoryRoles(false));
    if (needed.memberships) {
        const own = user.objectId && !user.isNew ? fromTenant(tenant.memberships, "the user's group and role memberships") : undefined;
        const outside = outsideGroupIds.length > 0 ? fromTenant(tenant.outsideGroupMemberships, "the memberships of the groups outside the stack it is added to") : undefined;
        const unknown = [own, outside].find((m): m is Unknown => m !== undefined && "unknown" in m);
        if (unknown) {
            groupIds = unknown;
            roleTemplateIds = unknown;
        } else {
            const read = [own, outside].filter((m): m is Memberships => m !== undefined);
            groupIds = new Set([...groupIds, ...read.flatMap((m) => m.groups.map((g) => g.id.toLowerCase()))]);
            roleTemplateIds = new Set([...roleTemplateIds, ...read.flatMap((m) => m.roleTemplateIds.map((r) => r.toLowerCase()))]);
        }
    }

    let eligibleRoleTemplateIds: ReadonlySet<string> | Unknown = new Set(directoryRoles(true));
    if (needed.eligibilities && user.objectId && !user.isNew) {
        const answer = tenant.eligibleRoleTemplateIds;
        if (answer === undefined) eligibleRoleTemplateIds = unknownBecause("the directory roles the user is eligible for were not read");
        else if (answer.kind === "unverified") eligibleRoleTemplateIds = unknownBecause(causeFor("the directory roles the user is eligible for", answer.reason));
        else eligibleRoleTemplateIds = new Set([...eligibleRoleTemplateIds, ...answer.value.map((r) => r.toLowerCase())]);
    }

    return {
        ...(user.objectId ? { objectId: user.objectId.toLowerCase() } : {}),
        stackUrns: new Set([...(user.urn ? [user.urn] : []), ...user.stackGroups.map((g) => g.urn)]),
        guestKind: guestKindFact(user, tenant.profileFailure),
        groupIds,
        roleTemplateIds,
        eligibleRoleTemplateIds,
        groupNames,
    };
}

function guestKindFact(user: InventoryUser, profileFailure: string | undefined): GuestKind | Unknown {
    const kind = user.guestKind ?? (user.urn ? (user.isGuest ? "b2bCollaborationGuest" : "member") : "unknown");
    if (kind !== "unknown") return kind;
    if (profileFailure) return unknownBecause(causeFor("whether the user is a guest, and of which kind,", profileFailure));
    return unknownBecause("the pack cannot tell which kind of guest or external user it is from its profile");
}

/**
 * Conditional Access targets directory roles held tenant-wide only, never ones scoped to an
 * administrative unit or an app. A role whose scope is unknown during preview is left out: it
 * could only make a policy include the user, and a wrong inclusion would pass the user.
 */
export function isTenantWide(role: HeldRole): boolean {
    return role.tenantWide ?? (role.directoryScopeId === undefined && !role.scopeUnknown);
}
