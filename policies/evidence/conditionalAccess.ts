import { isBag, PropertyValue, secretsAsUnknown, UNKNOWN } from "../inventory/propertyValues";
import { StackResourceSnapshot } from "../inventory/types";

/**
 * A Conditional Access policy, from the stack (`azuread.ConditionalAccessPolicy`) or the tenant
 * (Graph `conditionalAccessPolicy`, beta), in one shape, so the coverage rules are written once.
 * Ids and keywords are lower-case. Values unknown during preview stay unknown: they never make a
 * policy count, and never make it fail a user on their own.
 */
export interface ConditionalAccessPolicy {
    displayName: string;
    source: "stack" | "tenant";
    urn?: string;
    /** `undefined` when unknown during preview. */
    state?: string;
    include: Targets;
    exclude: Targets;
    /** Why the policy never applies to a person (it targets workload identities), if it does not. */
    notForPeople?: string;
    applications: { include: ValueList; exclude: ValueList; userActions: ValueList; authenticationContexts: ValueList };
    conditions: SignInConditions;
    /**
     * Conditions the pack does not evaluate (device filters, application filters, conditions newer
     * than the pack). Each narrows the policy to contexts the pack cannot name, so such a policy
     * guarantees nothing: it is reported, never ignored.
     */
    unsupportedConditions: string[];
    /** `null` when the policy grants nothing (session controls only). */
    grant: Grant | null;
}

/** Whom a policy includes or excludes. */
export interface Targets {
    /** Object ids, or the keywords `all`, `none`, `guestsorexternalusers`. */
    users: ValueList;
    groups: ValueList;
    /** Directory role template ids. */
    roles: ValueList;
    guests?: GuestSelection;
}

/** Guests and external users by kind (https://learn.microsoft.com/graph/api/resources/conditionalaccessguestsorexternalusers). */
export interface GuestSelection {
    /** Lower-case kinds, e.g. `b2bcollaborationguest`; `undefined` when unknown during preview. */
    kinds?: ReadonlySet<string>;
    /** `all` external tenants, or the enumerated tenant ids. */
    tenants: "all" | ReadonlySet<string>;
}

export interface SignInConditions {
    clientAppTypes: ValueList;
    includePlatforms: ValueList;
    excludePlatforms: ValueList;
    includeLocations: ValueList;
    excludeLocations: ValueList;
    signInRiskLevels: ValueList;
    userRiskLevels: ValueList;
    insiderRiskLevels: ValueList;
    /** `authenticationFlows.transferMethods`: device code flow, authentication transfer. */
    transferMethods: ValueList;
    /** The stack policy's device conditions are unknown during preview. */
    devicesUnknown?: boolean;
}

/** A list of lower-case values, some perhaps unknown until the deployment runs. */
export interface ValueList {
    values: string[];
    unknown?: UnknownEntries;
}

/** Entries of a stack policy unknown during preview, and the stack resources they may come from. */
export interface UnknownEntries {
    /** The whole list is unknown: it may hold anything, keywords such as `All` included. */
    whole: boolean;
    /** How many entries are unknown, when the list itself is known. */
    count: number;
    /** URNs (users, groups) or role template ids (roles) of the stack resources that fed `conditions`. */
    candidates: string[];
}

export interface Grant {
    /** `AND` or `OR`; `undefined` when unknown during preview. */
    operator?: string;
    builtInControls: ValueList;
    strength?: AuthenticationStrengthRef;
    /** Custom controls and terms of use, which never prove MFA. */
    otherControls: ValueList;
}

/** An authentication strength as a policy refers to it: Graph inlines it, the stack names it by id. */
export interface AuthenticationStrengthRef {
    /** Lower-case id; `unknown` when unknown during preview. */
    id: string;
    displayName?: string;
    /** `mfa` when every allowed combination is multi-factor (Graph computes it). */
    requirementsSatisfied?: string;
    allowedCombinations?: string[];
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

/** What the stack knows of the resources a stack policy's unknown ids may come from. */
export interface StackReferences {
    userUrns: ReadonlySet<string>;
    groupUrns: ReadonlySet<string>;
    /** DirectoryRole resources by URN, with their template id when known. */
    roleTemplateIdsByUrn: ReadonlyMap<string, string | undefined>;
    /** AuthenticationStrengthPolicy resources, by URN. */
    strengthUrns?: ReadonlySet<string>;
}

/** The id a stack policy gives a strength the stack creates, whose real id is unknown during preview. */
export const stackStrengthId = (urn: string) => `stack:${urn}`;

/** Whether a policy is meant to require MFA: its grant names the MFA control or an authentication strength. */
export function isMeantToRequireMfa(policy: ConditionalAccessPolicy): boolean {
    return !!policy.grant && (policy.grant.builtInControls.values.includes("mfa") || policy.grant.strength !== undefined);
}

/** References for a policy read alone, outside a stack evaluation: no stack resource to resolve unknown ids to. */
export const NO_STACK_REFERENCES: StackReferences = { userUrns: new Set(), groupUrns: new Set(), roleTemplateIdsByUrn: new Map() };

// ------------------------------------------------------------------------------------------------
// Reading

type Read = (container: unknown, key: string) => unknown;

/**
 * Condition members the pack evaluates, by the names each source gives them. Anything else that
 * is set narrows the policy in a way the pack cannot evaluate.
 */
const KNOWN = {
    tenant: {
        conditions: ["users", "applications", "clientAppTypes", "platforms", "locations", "signInRiskLevels", "userRiskLevels", "insiderRiskLevels", "devices", "authenticationFlows", "clientApplications", "servicePrincipalRiskLevels"],
        users: ["includeUsers", "excludeUsers", "includeGroups", "excludeGroups", "includeRoles", "excludeRoles", "includeGuestsOrExternalUsers", "excludeGuestsOrExternalUsers"],
        applications: ["includeApplications", "excludeApplications", "includeUserActions", "includeAuthenticationContextClassReferences"],
    },
    stack: {
        conditions: ["users", "applications", "clientAppTypes", "platforms", "locations", "signInRiskLevels", "userRiskLevels", "insiderRiskLevels", "devices", "authenticationFlowTransferMethods", "clientApplications", "servicePrincipalRiskLevels"],
        users: ["includedUsers", "excludedUsers", "includedGroups", "excludedGroups", "includedRoles", "excludedRoles", "includedGuestsOrExternalUsers", "excludedGuestsOrExternalUsers"],
        // `filter` is read below, and named once as "an application filter".
        applications: ["includedApplications", "excludedApplications", "includedUserActions", "filter"],
    },
} as const;

/** A policy from Graph `GET /beta/identity/conditionalAccess/policies` (https://learn.microsoft.com/graph/api/resources/conditionalaccesspolicy). */
export function conditionalAccessPolicyFromGraph(policy: unknown): ConditionalAccessPolicy {
    const get: Read = (container, key) => (isObject(container) ? container[key] : undefined);
    const conditions = get(policy, "conditions");
    const users = get(conditions, "users");
    const applications = get(conditions, "applications");
    const devices = get(conditions, "devices");
    const unsupported = [
        ...unreadMembers(conditions, KNOWN.tenant.conditions, "condition"),
        ...unreadMembers(users, KNOWN.tenant.users, "user condition"),
        ...unreadMembers(applications, KNOWN.tenant.applications, "application condition"),
        ...deviceNarrowing(devices, get),
    ];
    const displayName = get(policy, "displayName");
    const state = get(policy, "state");
    const grant = get(policy, "grantControls");
    const strength = get(grant, "authenticationStrength");
    const strengthId = get(strength, "id");
    return {
        displayName: typeof displayName === "string" ? displayName : String(get(policy, "id") ?? "unnamed policy"),
        source: "tenant",
        // Graph always sends a state; one it left out is not "enabled".
        state: typeof state === "string" ? state : "missing",
        include: {
            users: valueList(get(users, "includeUsers")),
            groups: valueList(get(users, "includeGroups")),
            roles: valueList(get(users, "includeRoles")),
            guests: graphGuests(get(users, "includeGuestsOrExternalUsers"), get),
        },
        exclude: {
            users: valueList(get(users, "excludeUsers")),
            groups: valueList(get(users, "excludeGroups")),
            roles: valueList(get(users, "excludeRoles")),
            guests: graphGuests(get(users, "excludeGuestsOrExternalUsers"), get),
        },
        notForPeople: workloadTargets(get(conditions, "clientApplications"), get(conditions, "servicePrincipalRiskLevels")),
        applications: {
            include: valueList(get(applications, "includeApplications")),
            exclude: valueList(get(applications, "excludeApplications")),
            userActions: valueList(get(applications, "includeUserActions")),
            authenticationContexts: valueList(get(applications, "includeAuthenticationContextClassReferences")),
        },
        conditions: {
            clientAppTypes: valueList(get(conditions, "clientAppTypes")),
            includePlatforms: valueList(get(get(conditions, "platforms"), "includePlatforms")),
            excludePlatforms: valueList(get(get(conditions, "platforms"), "excludePlatforms")),
            includeLocations: valueList(get(get(conditions, "locations"), "includeLocations")),
            excludeLocations: valueList(get(get(conditions, "locations"), "excludeLocations")),
            signInRiskLevels: valueList(get(conditions, "signInRiskLevels")),
            userRiskLevels: valueList(get(conditions, "userRiskLevels")),
            insiderRiskLevels: valueList(get(conditions, "insiderRiskLevels")),
            transferMethods: valueList(get(get(conditions, "authenticationFlows"), "transferMethods")),
        },
        unsupportedConditions: unsupported,
        grant: isObject(grant)
            ? {
                  operator: typeof get(grant, "operator") === "string" ? (get(grant, "operator") as string).toUpperCase() : "OR",
                  builtInControls: valueList(get(grant, "builtInControls")),
                  strength:
                      typeof strengthId === "string"
                          ? {
                                id: strengthId.toLowerCase(),
                                ...optionalString("displayName", get(strength, "displayName")),
                                ...optionalString("requirementsSatisfied", get(strength, "requirementsSatisfied")),
                                ...(Array.isArray(get(strength, "allowedCombinations"))
                                    ? { allowedCombinations: (get(strength, "allowedCombinations") as unknown[]).filter((c): c is string => typeof c === "string") }
                                    : {}),
                            }
                          : undefined,
                  otherControls: valueList([...strings(get(grant, "customAuthenticationFactors")), ...strings(get(grant, "termsOfUse")).map((t) => `terms of use ${t}`)]),
              }
            : null,
    };
}

/** A policy the stack defines, as `azuread.ConditionalAccessPolicy` outputs (or, in preview, inputs) it. */
export function conditionalAccessPolicyFromStack(resource: StackResourceSnapshot, references: StackReferences): ConditionalAccessPolicy {
    const get: Read = (container, key) => (isBag(container as PropertyValue) ? (container as Record<string, unknown>)[key] : container === UNKNOWN ? UNKNOWN : undefined);
    const props = secretsAsUnknown(resource.props);
    const conditions = get(props, "conditions");
    const users = get(conditions, "users");
    const applications = get(conditions, "applications");
    const grant = get(props, "grantControls");
    const dependencies = resource.propertyDependencies.conditions ?? [];
    const candidates = {
        users: dependencies.filter((urn) => references.userUrns.has(urn)),
        groups: dependencies.filter((urn) => references.groupUrns.has(urn)),
        roles: dependencies.filter((urn) => references.roleTemplateIdsByUrn.has(urn)).map((urn) => references.roleTemplateIdsByUrn.get(urn) ?? "unknown"),
    };
    const list = (value: unknown, kind?: keyof typeof candidates) => valueList(value, kind ? candidates[kind] : []);
    const unsupported = [
        ...unreadMembers(conditions, KNOWN.stack.conditions, "condition"),
        ...unreadMembers(users, KNOWN.stack.users, "user condition"),
        ...unreadMembers(applications, KNOWN.stack.applications, "application condition"),
        ...deviceNarrowing(get(conditions, "devices"), get),
    ];
    if (isMeaningful(get(applications, "filter"))) unsupported.push("an application filter");
    const displayName = get(props, "displayName");
    const state = get(props, "state");
    const strengthId = get(grant, "authenticationStrengthPolicyId");
    const operator = get(grant, "operator");
    return {
        displayName: typeof displayName === "string" ? displayName : resource.name,
        source: "stack",
        urn: resource.urn,
        state: typeof state === "string" ? state : state === UNKNOWN ? undefined : "missing",
        include: {
            users: list(get(users, "includedUsers"), "users"),
            groups: list(get(users, "includedGroups"), "groups"),
            roles: list(get(users, "includedRoles"), "roles"),
            guests: stackGuests(get(users, "includedGuestsOrExternalUsers"), get),
        },
        exclude: {
            users: list(get(users, "excludedUsers"), "users"),
            groups: list(get(users, "excludedGroups"), "groups"),
            roles: list(get(users, "excludedRoles"), "roles"),
            guests: stackGuests(get(users, "excludedGuestsOrExternalUsers"), get),
        },
        notForPeople: workloadTargets(get(conditions, "clientApplications"), get(conditions, "servicePrincipalRiskLevels")),
        applications: {
            include: list(get(applications, "includedApplications")),
            exclude: list(get(applications, "excludedApplications")),
            userActions: list(get(applications, "includedUserActions")),
            authenticationContexts: valueList(undefined),
        },
        conditions: {
            clientAppTypes: list(get(conditions, "clientAppTypes")),
            includePlatforms: list(get(get(conditions, "platforms"), "includedPlatforms")),
            excludePlatforms: list(get(get(conditions, "platforms"), "excludedPlatforms")),
            includeLocations: list(get(get(conditions, "locations"), "includedLocations")),
            excludeLocations: list(get(get(conditions, "locations"), "excludedLocations")),
            signInRiskLevels: list(get(conditions, "signInRiskLevels")),
            userRiskLevels: list(get(conditions, "userRiskLevels")),
            insiderRiskLevels: list(get(conditions, "insiderRiskLevels")),
            transferMethods: list(get(conditions, "authenticationFlowTransferMethods")),
            ...(get(conditions, "devices") === UNKNOWN ? { devicesUnknown: true } : {}),
        },
        unsupportedConditions: unsupported,
        grant:
            grant === undefined || grant === null
                ? null
                : {
                      operator: typeof operator === "string" ? operator.toUpperCase() : operator === UNKNOWN || grant === UNKNOWN ? undefined : "OR",
                      builtInControls: grant === UNKNOWN ? valueList(UNKNOWN) : list(get(grant, "builtInControls")),
                      // The provider names a strength by path (/policies/authenticationStrengthPolicies/<id>), Graph by id.
                      strength:
                          typeof strengthId === "string" && strengthId !== ""
                              ? { id: strengthId.toLowerCase().split("/").pop()! }
                              : strengthId === UNKNOWN
                                ? { id: strengthFromDependencies(resource.propertyDependencies.grantControls ?? [], references) }
                                : undefined,
                      otherControls: grant === UNKNOWN ? valueList(UNKNOWN) : stackOtherControls(get(grant, "customAuthenticationFactors"), get(grant, "termsOfUses")),
                  },
    };
}

/** A strength id unknown during preview is the stack's strength behind `grantControls`, when there is exactly one. */
function strengthFromDependencies(dependencies: readonly string[], references: StackReferences): string {
    const strengths = dependencies.filter((urn) => references.strengthUrns?.has(urn));
    return strengths.length === 1 ? stackStrengthId(strengths[0]) : "unknown";
}

/** Custom controls and terms of use by id; an id unknown during preview stays unknown, since either lets a user in without MFA. */
function stackOtherControls(customFactors: unknown, termsOfUse: unknown): ValueList {
    const entries = (value: unknown): unknown[] => (value === UNKNOWN ? [UNKNOWN] : Array.isArray(value) ? value : []);
    return valueList([...entries(customFactors), ...entries(termsOfUse).map((t) => (typeof t === "string" ? `terms of use ${t}` : t))]);
}

/** Reads a list, a comma-separated flags string (`"internalGuest,b2bCollaborationGuest"`), or an unknown. */
function valueList(value: unknown, candidates: string[] = []): ValueList {
    if (value === UNKNOWN) return { values: [], unknown: { whole: true, count: 0, candidates } };
    const items = Array.isArray(value) ? value : typeof value === "string" ? value.split(",") : [];
    const values = items.filter((v): v is string => typeof v === "string").map((v) => v.trim().toLowerCase()).filter((v) => v !== "");
    const unknownCount = items.filter((v) => v === UNKNOWN).length;
    return unknownCount > 0 ? { values, unknown: { whole: false, count: unknownCount, candidates } } : { values };
}

function graphGuests(value: unknown, get: Read): GuestSelection | undefined {
    if (!isObject(value)) return undefined;
    const kinds = valueList(get(value, "guestOrExternalUserTypes")).values;
    if (kinds.length === 0) return undefined;
    const tenants = get(value, "externalTenants");
    const kind = get(tenants, "membershipKind");
    return { kinds: new Set(kinds), tenants: kind === "enumerated" ? new Set(valueList(get(tenants, "members")).values) : "all" };
}

/** The provider's `includedGuestsOrExternalUsers`: a list of one block with a list of kinds and of tenant blocks. */
function stackGuests(value: unknown, get: Read): GuestSelection | undefined {
    if (value === UNKNOWN) return { kinds: undefined, tenants: "all" };
    const entry = Array.isArray(value) ? value[0] : value;
    if (entry === UNKNOWN) return { kinds: undefined, tenants: "all" };
    if (!isBag(entry as PropertyValue)) return undefined;
    const kinds = valueList(get(entry, "guestOrExternalUserTypes"));
    if (kinds.unknown) return { kinds: undefined, tenants: "all" };
    if (kinds.values.length === 0) return undefined;
    const tenantBlocks = get(entry, "externalTenants");
    const tenants = Array.isArray(tenantBlocks) ? tenantBlocks[0] : tenantBlocks;
    const membershipKind = get(tenants, "membershipKind");
    return { kinds: new Set(kinds.values), tenants: membershipKind === "enumerated" ? new Set(valueList(get(tenants, "members")).values) : "all" };
}

function workloadTargets(clientApplications: unknown, servicePrincipalRisk: unknown): string | undefined {
    // Unknown during preview (or secret): the user lists are unknown too, and they keep the answer open.
    if (clientApplications === UNKNOWN || servicePrincipalRisk === UNKNOWN) return undefined;
    if (isMeaningful(clientApplications)) return "targets workload identities, not people";
    if (isMeaningful(servicePrincipalRisk)) return "applies to service principal risk, not to people";
    return undefined;
}

/** Device conditions narrow to devices the pack cannot enumerate: a filter, or the legacy device states. */
function deviceNarrowing(devices: unknown, get: Read): string[] {
    // Unknown device conditions are an unknown, not a narrowing: see `devicesUnknown`.
    if (devices === UNKNOWN) return [];
    const narrowing: string[] = [];
    if (isMeaningful(get(devices, "deviceFilter")) || isMeaningful(get(devices, "filter"))) narrowing.push("a device filter");
    const included = valueList(get(devices, "includeDevices")).values;
    if (included.length > 0 && !included.includes("all")) narrowing.push(`devices ${included.join(", ")}`);
    for (const key of ["excludeDevices", "includeDeviceStates", "excludeDeviceStates"]) {
        if (isMeaningful(get(devices, key))) narrowing.push(`device condition '${key}'`);
    }
    return narrowing;
}

/** Members set on an object that the pack does not evaluate; OData annotations are not members. */
function unreadMembers(container: unknown, known: readonly string[], label: string): string[] {
    if (!isObject(container)) return [];
    return Object.keys(container)
        .filter((key) => !key.includes("@") && !known.includes(key) && isMeaningful(container[key]))
        .map((key) => `${label} '${key}'`);
}

/** Whether a condition value says anything: `null`, empty lists and strings, `false`, and objects of those say nothing. */
function isMeaningful(value: unknown): boolean {
    if (value === UNKNOWN) return true;
    if (value === null || value === undefined || value === false || value === "") return false;
    if (Array.isArray(value)) return value.length > 0;
    if (isObject(value)) return Object.keys(value).some((key) => !key.includes("@") && isMeaningful(value[key]));
    return true;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function strings(value: unknown): string[] {
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function optionalString<K extends string>(key: K, value: unknown): Partial<Record<K, string>> {
    return typeof value === "string" ? ({ [key]: value } as Record<K, string>) : {};
}
