/**
 * Conditional Access policies in the shape `GET /identity/conditionalAccess/policies` returns them
 * (https://learn.microsoft.com/graph/api/resources/conditionalaccesspolicy), and the partial form
 * tests write, which the emulator completes with the empty values Graph sends. The emulator holds
 * the beta shape; v1.0 answers leave out what only beta has.
 */

export type ConditionalAccessPolicyState = "enabled" | "disabled" | "enabledForReportingButNotEnforced";

/** `externalTenants` of a guests-or-external-users condition. */
export type ConditionalAccessExternalTenants =
    | { "@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants"; membershipKind: "all" }
    | { "@odata.type": "#microsoft.graph.conditionalAccessEnumeratedExternalTenants"; membershipKind: "enumerated"; members: string[] };

/**
 * Guest and external user kinds a policy includes or excludes
 * (https://learn.microsoft.com/graph/api/resources/conditionalaccessguestsorexternalusers).
 * `guestOrExternalUserTypes` is one comma-separated string, e.g. `"internalGuest,b2bCollaborationGuest"`.
 */
export interface ConditionalAccessGuestsOrExternalUsers {
    guestOrExternalUserTypes: string;
    externalTenants: ConditionalAccessExternalTenants | null;
}

/**
 * Who a policy applies to (https://learn.microsoft.com/graph/api/resources/conditionalaccessusers).
 * `includeUsers` holds user ids or `All`, `None`, `GuestsOrExternalUsers`; `includeRoles` holds
 * directory role template ids.
 */
export interface ConditionalAccessUsers {
    includeUsers: string[];
    excludeUsers: string[];
    includeGroups: string[];
    excludeGroups: string[];
    includeRoles: string[];
    excludeRoles: string[];
    includeGuestsOrExternalUsers: ConditionalAccessGuestsOrExternalUsers | null;
    excludeGuestsOrExternalUsers: ConditionalAccessGuestsOrExternalUsers | null;
}

/** Target resources: app ids or `All`, `None`, `Office365`, `MicrosoftAdminPortals`; or user actions. */
export interface ConditionalAccessApplications {
    includeApplications: string[];
    excludeApplications: string[];
    includeUserActions: string[];
    includeAuthenticationContextClassReferences: string[];
    applicationFilter: { mode: "include" | "exclude"; rule: string } | null;
}

export interface ConditionalAccessConditionSet {
    users: ConditionalAccessUsers;
    applications: ConditionalAccessApplications;
    clientAppTypes: string[];
    platforms: { includePlatforms: string[]; excludePlatforms: string[] } | null;
    locations: { includeLocations: string[]; excludeLocations: string[] } | null;
    signInRiskLevels: string[];
    userRiskLevels: string[];
    servicePrincipalRiskLevels: string[];
    clientApplications: Record<string, unknown> | null;
    /**
     * `deviceFilter` in both versions; beta also keeps the deprecated `includeDevices`,
     * `excludeDevices`, `includeDeviceStates` and `excludeDeviceStates`.
     */
    devices: Record<string, unknown> | null;
    /** E.g. `{ transferMethods: "deviceCodeFlow,authenticationTransfer" }`. */
    authenticationFlows: { transferMethods: string } | null;
    /** A comma-separated flags value, e.g. `"elevated"`. */
    insiderRiskLevels: string | null;
    /** Beta only. */
    agentIdRiskLevels: string | null;
}

/**
 * Members of the condition set, and of its `devices`, that only beta lists
 * (https://learn.microsoft.com/graph/api/resources/conditionalaccessconditionset?view=graph-rest-beta,
 * https://learn.microsoft.com/graph/api/resources/conditionalaccessdevices).
 */
export const BETA_ONLY_CONDITIONS = {
    conditions: ["agentIdRiskLevels"],
    devices: ["includeDevices", "excludeDevices", "includeDeviceStates", "excludeDeviceStates"],
} as const;

/** https://learn.microsoft.com/graph/api/resources/authenticationstrengthpolicy */
export interface AuthenticationStrengthPolicy {
    id: string;
    displayName: string;
    description: string | null;
    policyType: "builtIn" | "custom" | "unknownFutureValue";
    /** `mfa` when satisfying the strength grants the MFA claim. */
    requirementsSatisfied: "none" | "mfa" | "unknownFutureValue";
    allowedCombinations: string[];
    createdDateTime: string | null;
    modifiedDateTime: string | null;
}

/** https://learn.microsoft.com/graph/api/resources/conditionalaccessgrantcontrols */
export interface ConditionalAccessGrantControls {
    operator: "OR" | "AND";
    /** `block`, `mfa`, `compliantDevice`, `domainJoinedDevice`, `approvedApplication`, `compliantApplication`, `passwordChange`. */
    builtInControls: string[];
    customAuthenticationFactors: string[];
    termsOfUse: string[];
    authenticationStrength: AuthenticationStrengthPolicy | null;
}

export interface ConditionalAccessPolicy {
    id: string;
    displayName: string;
    state: ConditionalAccessPolicyState;
    createdDateTime: string | null;
    modifiedDateTime: string | null;
    templateId: string | null;
    conditions: ConditionalAccessConditionSet;
    grantControls: ConditionalAccessGrantControls | null;
    sessionControls: Record<string, unknown> | null;
}

/**
 * A policy as a test writes it: `id`, `displayName` and `state`, and only the conditions and
 * controls that matter; the rest is filled with Graph's empty values. Leaving `grantControls` out
 * makes it `null`, as for a session-controls-only policy.
 *
 * For example:
 * ```ts
 * const requireMfa: EmulatedConditionalAccessPolicy = {
 *     id, displayName: "Require MFA", state: "enabled",
 *     conditions: { users: { includeUsers: ["All"], excludeGroups: [breakGlassGroupId] }, applications: { includeApplications: ["All"] } },
 *     grantControls: { builtInControls: ["mfa"] },
 * };
 * ```
 */
export interface EmulatedConditionalAccessPolicy {
    id: string;
    displayName: string;
    state: ConditionalAccessPolicyState;
    createdDateTime?: string | null;
    modifiedDateTime?: string | null;
    templateId?: string | null;
    conditions?: Partial<Omit<ConditionalAccessConditionSet, "users" | "applications">> & {
        users?: Partial<ConditionalAccessUsers>;
        applications?: Partial<ConditionalAccessApplications>;
    };
    grantControls?: Partial<ConditionalAccessGrantControls> | null;
    sessionControls?: Record<string, unknown> | null;
}

const BUILT_IN_STRENGTH_DATE = "2021-12-01T08:00:00Z";

/**
 * The built-in authentication strengths, with the ids and combinations Graph lists at
 * `GET /policies/authenticationStrengthPolicies` (all three grant the MFA claim).
 */
export const BUILT_IN_AUTHENTICATION_STRENGTHS = {
    multifactorAuthentication: {
        id: "00000000-0000-0000-0000-000000000002",
        displayName: "Multifactor authentication",
        description: "Combinations of methods that satisfy strong authentication, such as a password + SMS",
        policyType: "builtIn",
        requirementsSatisfied: "mfa",
        allowedCombinations: [
            "windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush",
            "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse",
            "password,microsoftAuthenticatorPush", "password,softwareOath", "password,hardwareOath",
            "password,x509CertificateSingleFactor", "password,x509CertificateMultiFactor", "password,sms", "password,voice",
            "federatedMultiFactor", "microsoftAuthenticatorPush,federatedSingleFactor", "softwareOath,federatedSingleFactor",
            "hardwareOath,federatedSingleFactor", "sms,federatedSingleFactor", "voice,federatedSingleFactor",
        ],
        createdDateTime: BUILT_IN_STRENGTH_DATE,
        modifiedDateTime: BUILT_IN_STRENGTH_DATE,
    },
    passwordlessMfa: {
        id: "00000000-0000-0000-0000-000000000003",
        displayName: "Passwordless MFA",
        description: "Passwordless methods that satisfy strong authentication, such as Passwordless sign-in with the Microsoft Authenticator",
        policyType: "builtIn",
        requirementsSatisfied: "mfa",
        allowedCombinations: ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush"],
        createdDateTime: BUILT_IN_STRENGTH_DATE,
        modifiedDateTime: BUILT_IN_STRENGTH_DATE,
    },
    phishingResistantMfa: {
        id: "00000000-0000-0000-0000-000000000004",
        displayName: "Phishing-resistant MFA",
        description: "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key",
        policyType: "builtIn",
        requirementsSatisfied: "mfa",
        allowedCombinations: ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
        createdDateTime: BUILT_IN_STRENGTH_DATE,
        modifiedDateTime: BUILT_IN_STRENGTH_DATE,
    },
} as const satisfies Record<string, AuthenticationStrengthPolicy>;

/** A custom authentication strength as a test writes it; the rest is filled as Graph fills it for a new one. */
export type EmulatedAuthenticationStrength = Pick<AuthenticationStrengthPolicy, "id" | "displayName" | "allowedCombinations"> & Partial<AuthenticationStrengthPolicy>;

export function completeAuthenticationStrength(strength: EmulatedAuthenticationStrength): AuthenticationStrengthPolicy {
    return {
        description: null,
        policyType: "custom",
        requirementsSatisfied: "mfa",
        createdDateTime: null,
        modifiedDateTime: null,
        ...structuredClone(strength),
    };
}

/** Fills what a test left out of a policy with the empty values Graph sends. */
export function completeConditionalAccessPolicy(policy: EmulatedConditionalAccessPolicy): ConditionalAccessPolicy {
    const conditions = policy.conditions ?? {};
    const grantControls = policy.grantControls;
    return structuredClone({
        id: policy.id,
        displayName: policy.displayName,
        state: policy.state,
        createdDateTime: policy.createdDateTime ?? null,
        modifiedDateTime: policy.modifiedDateTime ?? null,
        templateId: policy.templateId ?? null,
        conditions: {
            users: {
                includeUsers: [],
                excludeUsers: [],
                includeGroups: [],
                excludeGroups: [],
                includeRoles: [],
                excludeRoles: [],
                includeGuestsOrExternalUsers: null,
                excludeGuestsOrExternalUsers: null,
                ...conditions.users,
            },
            applications: {
                includeApplications: [],
                excludeApplications: [],
                includeUserActions: [],
                includeAuthenticationContextClassReferences: [],
                applicationFilter: null,
                ...conditions.applications,
            },
            clientAppTypes: conditions.clientAppTypes ?? ["all"],
            platforms: conditions.platforms ?? null,
            locations: conditions.locations ?? null,
            signInRiskLevels: conditions.signInRiskLevels ?? [],
            userRiskLevels: conditions.userRiskLevels ?? [],
            servicePrincipalRiskLevels: conditions.servicePrincipalRiskLevels ?? [],
            clientApplications: conditions.clientApplications ?? null,
            devices: conditions.devices ?? null,
            authenticationFlows: conditions.authenticationFlows ?? null,
            insiderRiskLevels: conditions.insiderRiskLevels ?? null,
            agentIdRiskLevels: conditions.agentIdRiskLevels ?? null,
        },
        grantControls: grantControls === undefined || grantControls === null ? null : {
            operator: "OR",
            builtInControls: [],
            customAuthenticationFactors: [],
            termsOfUse: [],
            authenticationStrength: null,
            ...grantControls,
        },
        sessionControls: policy.sessionControls ?? null,
    });
}

/**
 * A policy as Graph serializes it in `version`: `grantControls` carries an
 * `authenticationStrength@odata.context` next to the (expanded) authentication strength, as real
 * responses do; v1.0 leaves out the beta-only conditions. With `annotated`, every object names its
 * `@odata.type` and every typed property gets a `name@odata.type` beside it, as beta exports show.
 */
export function serializeConditionalAccessPolicy(policy: ConditionalAccessPolicy, graphUrl: string, version: string, annotated = false): Record<string, unknown> {
    const body: Record<string, unknown> = structuredClone(policy) as unknown as Record<string, unknown>;
    if (version !== "beta") {
        const conditions = body.conditions as Record<string, unknown>;
        for (const name of BETA_ONLY_CONDITIONS.conditions) delete conditions[name];
        const devices = conditions.devices as Record<string, unknown> | null;
        if (devices !== null) for (const name of BETA_ONLY_CONDITIONS.devices) delete devices[name];
    }
    if (policy.grantControls !== null) {
        body.grantControls = {
            ...(body.grantControls as Record<string, unknown>),
            "authenticationStrength@odata.context":
                `${graphUrl}/${version}/$metadata#identity/conditionalAccess/policies('${policy.id}')/grantControls/authenticationStrength/$entity`,
        };
    }
    return annotated ? { "@odata.type": "#microsoft.graph.conditionalAccessPolicy", ...withODataTypes(body) } : body;
}

/** Complex types of the nested objects, by property name (https://learn.microsoft.com/graph/api/resources/conditionalaccesspolicy). */
const COMPLEX_TYPES: Record<string, string> = {
    conditions: "conditionalAccessConditionSet",
    users: "conditionalAccessUsers",
    applications: "conditionalAccessApplications",
    includeGuestsOrExternalUsers: "conditionalAccessGuestsOrExternalUsers",
    excludeGuestsOrExternalUsers: "conditionalAccessGuestsOrExternalUsers",
    applicationFilter: "conditionalAccessFilter",
    deviceFilter: "conditionalAccessFilter",
    platforms: "conditionalAccessPlatforms",
    locations: "conditionalAccessLocations",
    devices: "conditionalAccessDevices",
    clientApplications: "conditionalAccessClientApplications",
    authenticationFlows: "conditionalAccessAuthenticationFlows",
    grantControls: "conditionalAccessGrantControls",
    authenticationStrength: "authenticationStrengthPolicy",
    sessionControls: "conditionalAccessSessionControls",
    signInFrequency: "signInFrequencySessionControl",
    persistentBrowser: "persistentBrowserSessionControl",
};

/** Types of the typed scalar and collection properties; plain strings carry no annotation in OData JSON. */
const PROPERTY_TYPES: Record<string, string> = {
    state: "#microsoft.graph.conditionalAccessPolicyState",
    createdDateTime: "#DateTimeOffset",
    modifiedDateTime: "#DateTimeOffset",
    clientAppTypes: "#Collection(microsoft.graph.conditionalAccessClientApp)",
    signInRiskLevels: "#Collection(microsoft.graph.riskLevel)",
    userRiskLevels: "#Collection(microsoft.graph.riskLevel)",
    servicePrincipalRiskLevels: "#Collection(microsoft.graph.riskLevel)",
    includePlatforms: "#Collection(microsoft.graph.conditionalAccessDevicePlatform)",
    excludePlatforms: "#Collection(microsoft.graph.conditionalAccessDevicePlatform)",
    builtInControls: "#Collection(microsoft.graph.conditionalAccessGrantControl)",
    allowedCombinations: "#Collection(microsoft.graph.authenticationMethodModes)",
    guestOrExternalUserTypes: "#microsoft.graph.conditionalAccessGuestOrExternalUserTypes",
    insiderRiskLevels: "#microsoft.graph.conditionalAccessInsiderRiskLevels",
    transferMethods: "#microsoft.graph.conditionalAccessTransferMethods",
    mode: "#microsoft.graph.filterMode",
    requirementsSatisfied: "#microsoft.graph.authenticationStrengthRequirements",
    policyType: "#microsoft.graph.authenticationStrengthPolicyType",
};

function withODataTypes(object: Record<string, unknown>): Record<string, unknown> {
    const annotated: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(object)) {
        if (name.includes("@")) {
            annotated[name] = value;
            continue;
        }
        const complexType = COMPLEX_TYPES[name];
        if (value !== null && typeof value === "object" && !Array.isArray(value)) {
            const inner = withODataTypes(value as Record<string, unknown>);
            const type = (inner["@odata.type"] as string | undefined) ?? (complexType === undefined ? undefined : `#microsoft.graph.${complexType}`);
            if (type !== undefined) annotated[`${name}@odata.type`] = type;
            annotated[name] = type === undefined || "@odata.type" in inner ? inner : { "@odata.type": type, ...inner };
            continue;
        }
        if (value !== null) {
            const type = PROPERTY_TYPES[name] ?? (Array.isArray(value) ? "#Collection(String)" : undefined);
            if (type !== undefined) annotated[`${name}@odata.type`] = type;
        }
        annotated[name] = value;
    }
    return annotated;
}