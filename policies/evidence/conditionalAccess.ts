import { isBag, PropertyBag, PropertyValue, UNKNOWN } from "../inventory/propertyValues";
import { StackGroupRef, StackResourceSnapshot } from "../inventory/types";

/**
 * A Conditional Access policy, from the stack (`azuread.ConditionalAccessPolicy`) or the tenant
 * (Graph `conditionalAccessPolicy`), in one shape. Unknown values (preview) are kept as unknown:
 * they never make a policy count for a user.
 */
export interface ConditionalAccessPolicy {
    displayName: string;
    source: "stack" | "tenant";
    urn?: string;
    /** `undefined` when unknown during preview. */
    state?: string;
    users: Selection;
    groups: Selection;
    /** Directory role template ids. */
    roles: Selection;
    includeGuests: boolean;
    excludeGuests: boolean;
    includeApplications: string[];
    excludeApplications: string[];
    /** Conditions that limit when the policy applies (risk, location, platform, client app...). */
    narrowedBy: string[];
    grant: { operator: string; builtInControls: string[]; authenticationStrengthId?: string; otherControls: string[] };
    /** Stack groups referred to by ids unknown until the deployment runs: included or excluded, the stack cannot say. */
    unknownStackGroups: StackGroupRef[];
}

export interface Selection {
    include: ReadonlySet<string>;
    exclude: ReadonlySet<string>;
    /** Some ids are unknown until the deployment runs. */
    unknown: boolean;
}

/**
 * The built-in authentication strengths, all of which require multi-factor authentication
 * (https://learn.microsoft.com/entra/identity/authentication/concept-authentication-strengths#built-in-authentication-strengths).
 */
export const MFA_AUTHENTICATION_STRENGTHS: ReadonlyMap<string, string> = new Map([
    ["00000000-0000-0000-0000-000000000002", "Multifactor authentication"],
    ["00000000-0000-0000-0000-000000000003", "Passwordless MFA"],
    ["00000000-0000-0000-0000-000000000004", "Phishing-resistant MFA"],
]);

/** The Windows Azure Service Management API app, which Conditional Access calls "Azure management". */
export const AZURE_MANAGEMENT_APP_ID = "797f4846-ba00-4fd7-ba43-dac1f8f63013";

/** What the coverage check knows of one user. */
export interface UserFacts {
    objectId?: string;
    isGuest: boolean;
    /** Group object ids (stack and tenant), lower-case; `undefined` when the tenant's could not be read. */
    groupIds?: ReadonlySet<string>;
    /** Stack groups, by URN, for references unknown during preview. */
    stackGroupUrns: ReadonlySet<string>;
    /** Directory role template ids, lower-case; `undefined` when the tenant's could not be read. */
    roleTemplateIds?: ReadonlySet<string>;
    /** Directory roles the user is only eligible for (PIM): they never include a user, but they can exclude one. */
    eligibleRoleTemplateIds?: ReadonlySet<string>;
    /** Display names of groups, for messages. */
    groupNames: ReadonlyMap<string, string>;
}

export type Coverage = { covers: true } | { covers: false; why: string };

/**
 * Whether a policy guarantees MFA for a user at every sign-in to the accepted applications:
 * enabled, including the user, not excluding them, for every accepted app, with no narrowing
 * condition, and granting access only with MFA.
 */
export function coverageOf(policy: ConditionalAccessPolicy, user: UserFacts, acceptedApplications: readonly string[]): Coverage {
    const no = (why: string): Coverage => ({ covers: false, why: `Conditional Access policy '${policy.displayName}' ${why}` });
    if (policy.state === undefined) return no("has a state unknown until the deployment runs");
    if (policy.state === "enabledForReportingButNotEnforced") return no("is report-only");
    if (policy.state !== "enabled") return no(`is ${policy.state}`);

    const grantProblem = mfaGrantProblem(policy.grant);
    if (grantProblem) return no(grantProblem);
    const apps = new Set(policy.includeApplications.map((a) => a.toLowerCase()));
    // "All" cloud apps includes every app, Azure management among them.
    if (!apps.has("all") && !acceptedApplications.some((a) => apps.has(a.toLowerCase()))) {
        return no(`targets ${policy.includeApplications.length ? policy.includeApplications.join(", ") : "no application"}, not ${acceptedApplications.join(" or ")}`);
    }
    if (policy.excludeApplications.length > 0) return no(`excludes applications (${policy.excludeApplications.join(", ")})`);
    if (policy.narrowedBy.length > 0) return no(`applies only under conditions (${policy.narrowedBy.join("; ")})`);

    const exclusion = exclusionOf(policy, user);
    if (exclusion) return no(exclusion);
    return isIncluded(policy, user) ? { covers: true } : no(inclusionGap(policy, user));
}

function mfaGrantProblem(grant: ConditionalAccessPolicy["grant"]): string | undefined {
    const controls = grant.builtInControls.map((c) => c.toLowerCase());
    // The azuread provider names a strength by path (/policies/authenticationStrengthPolicies/<id>), Graph by id.
    const strength = grant.authenticationStrengthId?.toLowerCase().split("/").pop();
    const mfaControls = (controls.includes("mfa") ? 1 : 0) + (strength && MFA_AUTHENTICATION_STRENGTHS.has(strength) ? 1 : 0);
    if (controls.includes("block")) return "blocks access rather than requiring MFA";
    if (mfaControls === 0) {
        if (strength) return `requires the authentication strength ${strength}, which is not one the pack knows to require MFA`;
        return `does not require MFA (grant controls: ${controls.join(", ") || "none"})`;
    }
    const otherControls = [...grant.builtInControls.filter((c) => c.toLowerCase() !== "mfa"), ...grant.otherControls];
    const others = otherControls.length + (strength && !MFA_AUTHENTICATION_STRENGTHS.has(strength) ? 1 : 0);
    if (grant.operator.toUpperCase() === "OR" && others > 0) {
        return `lets users satisfy it with another control instead of MFA (operator OR with ${otherControls.join(", ") || "another authentication strength"})`;
    }
    return undefined;
}

function exclusionOf(policy: ConditionalAccessPolicy, user: UserFacts): string | undefined {
    const id = user.objectId?.toLowerCase();
    if (id && policy.users.exclude.has(id)) return "excludes the user";
    if (user.isGuest && policy.excludeGuests) return "excludes guests and external users";
    if (policy.groups.exclude.size > 0) {
        if (!user.groupIds) return "excludes groups, and the user's group memberships could not be read";
        const excluding = [...policy.groups.exclude].find((g) => user.groupIds!.has(g));
        if (excluding) return `excludes the user through group '${user.groupNames.get(excluding) ?? excluding}'`;
    }
    if (policy.roles.exclude.size > 0) {
        if (!user.roleTemplateIds) return "excludes directory roles, and the user's roles could not be read";
        // A role the user is only eligible for still excludes them the moment they activate it.
        if ([...policy.roles.exclude].some((r) => user.roleTemplateIds!.has(r) || user.eligibleRoleTemplateIds?.has(r))) {
            return "excludes a directory role the user holds or may activate";
        }
    }
    if (policy.roles.unknown) return "names directory roles by ids unknown until the deployment runs, so it may exclude the user";
    const unknownGroup = policy.unknownStackGroups.find((g) => user.stackGroupUrns.has(g.urn));
    if (unknownGroup) return `names group '${unknownGroup.displayName}' by an id unknown until the deployment runs, so it may exclude the user`;
    if (policy.users.unknown) return "names users by ids unknown until the deployment runs, so it may leave the user out";
    return undefined;
}

function isIncluded(policy: ConditionalAccessPolicy, user: UserFacts): boolean {
    const id = user.objectId?.toLowerCase();
    if (policy.users.include.has("all")) return true;
    if (id && policy.users.include.has(id)) return true;
    if (user.isGuest && (policy.includeGuests || policy.users.include.has("guestsorexternalusers"))) return true;
    if (user.groupIds && [...policy.groups.include].some((g) => user.groupIds!.has(g))) return true;
    return !!user.roleTemplateIds && [...policy.roles.include].some((r) => user.roleTemplateIds!.has(r));
}

function inclusionGap(policy: ConditionalAccessPolicy, user: UserFacts): string {
    if (policy.groups.include.size > 0 && !user.groupIds) return "includes groups, and the user's group memberships could not be read";
    if (policy.roles.include.size > 0 && !user.roleTemplateIds) return "includes directory roles, and the user's roles could not be read";
    return "does not include the user";
}

// ------------------------------------------------------------------------------------------------
// Reading policies

const lower = (values: readonly string[]) => new Set(values.map((v) => v.toLowerCase()));

/** A policy from Graph `GET /identity/conditionalAccess/policies` (https://learn.microsoft.com/graph/api/resources/conditionalaccesspolicy). */
export function conditionalAccessPolicyFromGraph(policy: unknown): ConditionalAccessPolicy {
    const p = (policy ?? {}) as Record<string, any>;
    const users = p.conditions?.users ?? {};
    const applications = p.conditions?.applications ?? {};
    const grant = p.grantControls ?? {};
    const strings = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : []);
    return {
        displayName: typeof p.displayName === "string" ? p.displayName : String(p.id ?? "unnamed policy"),
        source: "tenant",
        state: typeof p.state === "string" ? p.state : "unknown",
        users: { include: lower(strings(users.includeUsers)), exclude: lower(strings(users.excludeUsers)), unknown: false },
        groups: { include: lower(strings(users.includeGroups)), exclude: lower(strings(users.excludeGroups)), unknown: false },
        roles: { include: lower(strings(users.includeRoles)), exclude: lower(strings(users.excludeRoles)), unknown: false },
        includeGuests: includesInvitedGuests(users.includeGuestsOrExternalUsers?.guestOrExternalUserTypes, users.includeGuestsOrExternalUsers?.externalTenants?.membershipKind),
        excludeGuests: users.excludeGuestsOrExternalUsers != null || strings(users.excludeUsers).includes("GuestsOrExternalUsers"),
        includeApplications: strings(applications.includeApplications),
        excludeApplications: strings(applications.excludeApplications),
        narrowedBy: narrowingConditions({
            clientAppTypes: strings(p.conditions?.clientAppTypes),
            includedPlatforms: strings(p.conditions?.platforms?.includePlatforms),
            excludedPlatforms: strings(p.conditions?.platforms?.excludePlatforms),
            includedLocations: strings(p.conditions?.locations?.includeLocations),
            excludedLocations: strings(p.conditions?.locations?.excludeLocations),
            signInRiskLevels: strings(p.conditions?.signInRiskLevels),
            userRiskLevels: strings(p.conditions?.userRiskLevels),
            insiderRiskLevels: typeof p.conditions?.insiderRiskLevels === "string" ? p.conditions.insiderRiskLevels : "",
            deviceFilter: p.conditions?.devices?.deviceFilter ? "a device filter" : "",
        }),
        grant: {
            operator: typeof grant.operator === "string" ? grant.operator : "OR",
            builtInControls: strings(grant.builtInControls),
            authenticationStrengthId: typeof grant.authenticationStrength?.id === "string" ? grant.authenticationStrength.id : undefined,
            otherControls: [...strings(grant.customAuthenticationFactors), ...strings(grant.termsOfUse).map((t) => `terms of use ${t}`)],
        },
        unknownStackGroups: [],
    };
}

/** A policy the stack defines, as `azuread.ConditionalAccessPolicy` outputs it. */
export function conditionalAccessPolicyFromStack(resource: StackResourceSnapshot, stackGroups: readonly StackGroupRef[]): ConditionalAccessPolicy {
    const props = resource.props;
    const conditions = bagAt(props, "conditions");
    const users = bagAt(conditions, "users");
    const applications = bagAt(conditions, "applications");
    const grant = bagAt(props, "grantControls");
    const read = (bag: PropertyBag | undefined, key: string): { values: string[]; unknown: boolean } => {
        const value: PropertyValue | undefined = bag?.[key];
        if (value === UNKNOWN) return { values: [], unknown: true };
        if (!Array.isArray(value)) return { values: [], unknown: false };
        return { values: value.filter((v): v is string => typeof v === "string"), unknown: value.some((v) => v === UNKNOWN) };
    };
    const selection = (include: string, exclude: string): Selection => {
        const included = read(users, include);
        const excluded = read(users, exclude);
        return { include: lower(included.values), exclude: lower(excluded.values), unknown: included.unknown || excluded.unknown || users === undefined };
    };
    const groups = selection("includedGroups", "excludedGroups");
    const dependencyUrns = new Set(resource.propertyDependencies.conditions ?? []);
    const displayName = typeof props.displayName === "string" ? props.displayName : resource.name;
    const state = typeof props.state === "string" ? props.state : undefined;
    const strength = grant?.authenticationStrengthPolicyId;
    return {
        displayName,
        source: "stack",
        urn: resource.urn,
        state,
        users: selection("includedUsers", "excludedUsers"),
        groups,
        roles: selection("includedRoles", "excludedRoles"),
        includeGuests: stackGuestInclusions(users?.includedGuestsOrExternalUsers),
        excludeGuests: isNonEmptyList(users?.excludedGuestsOrExternalUsers) || read(users, "excludedUsers").values.some((v) => v.toLowerCase() === "guestsorexternalusers"),
        includeApplications: read(applications, "includedApplications").values,
        excludeApplications: read(applications, "excludedApplications").values,
        narrowedBy: narrowingConditions({
            clientAppTypes: read(conditions, "clientAppTypes").values,
            includedPlatforms: read(bagAt(conditions, "platforms"), "includedPlatforms").values,
            excludedPlatforms: read(bagAt(conditions, "platforms"), "excludedPlatforms").values,
            includedLocations: read(bagAt(conditions, "locations"), "includedLocations").values,
            excludedLocations: read(bagAt(conditions, "locations"), "excludedLocations").values,
            signInRiskLevels: read(conditions, "signInRiskLevels").values,
            userRiskLevels: read(conditions, "userRiskLevels").values,
            insiderRiskLevels: typeof conditions?.insiderRiskLevels === "string" ? conditions.insiderRiskLevels : "",
            deviceFilter: isBag(bagAt(conditions, "devices")?.filter) ? "a device filter" : "",
        }),
        grant: {
            operator: typeof grant?.operator === "string" ? grant.operator : "OR",
            builtInControls: read(grant, "builtInControls").values,
            authenticationStrengthId: typeof strength === "string" && strength !== "" ? strength : undefined,
            otherControls: [...read(grant, "customAuthenticationFactors").values, ...read(grant, "termsOfUses").values.map((t) => `terms of use ${t}`)],
        },
        unknownStackGroups: groups.unknown ? stackGroups.filter((g) => dependencyUrns.has(g.urn)) : [],
    };
}

function bagAt(bag: PropertyBag | undefined, key: string): PropertyBag | undefined {
    const value = bag?.[key];
    return isBag(value) ? value : undefined;
}

/**
 * Whether a guest inclusion reaches the guests a stack invites (B2B collaboration guests) from any
 * tenant (https://learn.microsoft.com/graph/api/resources/conditionalaccessguestsorexternalusers).
 */
function includesInvitedGuests(types: unknown, membershipKind: unknown): boolean {
    const kinds = Array.isArray(types) ? types : typeof types === "string" ? types.split(",") : [];
    const allTenants = membershipKind === undefined || membershipKind === null || membershipKind === "all";
    return allTenants && kinds.some((kind) => typeof kind === "string" && kind.trim().toLowerCase() === "b2bcollaborationguest");
}

function stackGuestInclusions(value: PropertyValue | undefined): boolean {
    if (!Array.isArray(value)) return false;
    return value.some((entry) => {
        if (!isBag(entry)) return false;
        const tenants = entry.externalTenants;
        const firstTenant = Array.isArray(tenants) && isBag(tenants[0]) ? tenants[0] : undefined;
        return includesInvitedGuests(entry.guestOrExternalUserTypes, firstTenant?.membershipKind ?? undefined);
    });
}

function isNonEmptyList(value: PropertyValue | undefined): boolean {
    return Array.isArray(value) && value.length > 0;
}

function narrowingConditions(c: {
    clientAppTypes: string[];
    includedPlatforms: string[];
    excludedPlatforms: string[];
    includedLocations: string[];
    excludedLocations: string[];
    signInRiskLevels: string[];
    userRiskLevels: string[];
    insiderRiskLevels: string;
    deviceFilter: string;
}): string[] {
    const narrowing: string[] = [];
    const all = (values: string[]) => values.length === 0 || values.some((v) => v.toLowerCase() === "all");
    if (!all(c.clientAppTypes)) narrowing.push(`client apps ${c.clientAppTypes.join(", ")}`);
    if (!all(c.includedPlatforms) || c.excludedPlatforms.length) narrowing.push("device platforms");
    if (!all(c.includedLocations) || c.excludedLocations.length) narrowing.push("locations");
    if (c.signInRiskLevels.length) narrowing.push(`sign-in risk ${c.signInRiskLevels.join(", ")}`);
    if (c.userRiskLevels.length) narrowing.push(`user risk ${c.userRiskLevels.join(", ")}`);
    if (c.insiderRiskLevels) narrowing.push(`insider risk ${c.insiderRiskLevels}`);
    if (c.deviceFilter) narrowing.push(c.deviceFilter);
    return narrowing;
}
