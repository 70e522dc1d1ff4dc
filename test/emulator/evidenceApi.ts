/**
 * The Graph resources that carry MFA evidence besides the per-user state: Conditional Access
 * policies and the authentication strengths they name, security defaults, the registration report,
 * transitive group and role membership, and PIM eligibility.
 * Each answer here has already been authenticated, throttled and fault-checked.
 */
import { serializeConditionalAccessPolicy } from "./conditionalAccess";
import {
    DEFAULT_USER_PROPERTIES,
    directoryRoleRepresentation,
    EmulatedUser,
    groupRepresentation,
    SELECTABLE_USER_PROPERTIES,
    userRepresentation,
} from "./directoryObjects";
import { answerCollection, answerEntity, CollectionRequest } from "./odataCollection";
import { EmulatorResponse, graphError } from "./responses";
import { EmulatedTenant } from "./tenant";

/** A request for evidence: where it came from, and the tenant's default page size. */
export interface EvidenceRequest extends CollectionRequest {
    tenant: EmulatedTenant;
    pageSize: number;
}

/** The per-tenant service limits Graph applies apart from the resource-unit budget. */
export type ServiceLimit = "conditionalAccess" | "reports";

/**
 * Which service limit a path falls under: Conditional Access resources share 1 request/s per
 * tenant and the identity reports 5 requests per 10 s per app and tenant
 * (https://learn.microsoft.com/graph/throttling-limits).
 */
export function serviceLimitOf(segments: readonly string[]): ServiceLimit | undefined {
    const [first, second] = segments.map((segment) => segment.toLowerCase());
    if (first === "identity" && second === "conditionalaccess") return "conditionalAccess";
    if (first === "reports") return "reports";
    return undefined;
}

/** `GET /identity/conditionalAccess/policies[/{id}]`. */
export function answerConditionalAccessPolicies(request: EvidenceRequest, policyId: string | undefined): EmulatorResponse {
    const annotated = request.tenant.conditionalAccessODataAnnotations;
    const policies = request.tenant.conditionalAccessPolicies.map((policy) => serializeConditionalAccessPolicy(policy, request.graphUrl, request.version, annotated));
    const spec = {
        contextName: "identity/conditionalAccess/policies",
        typeName: "microsoft.graph.conditionalAccessPolicy",
        selectable: new Set(["id", "displayName", "state", "createdDateTime", "modifiedDateTime", "templateId", "conditions", "grantControls", "sessionControls"]),
    };
    if (policyId === undefined) return answerCollection(request, { ...spec, items: policies, filterable: true, pageSize: request.pageSize });
    const policy = policies.find((candidate) => candidate.id === policyId);
    if (policy === undefined) return notFound(policyId);
    return answerEntity(request, policy, spec);
}

/** `GET /policies/authenticationStrengthPolicies[/{id}]` (https://learn.microsoft.com/graph/api/authenticationstrengthpolicy-get). */
export function answerAuthenticationStrengths(request: EvidenceRequest, strengthId: string | undefined): EmulatorResponse {
    const strengths = [...request.tenant.authenticationStrengths.values()].map((strength) => ({
        "@odata.type": "#microsoft.graph.authenticationStrengthPolicy",
        ...strength,
        combinationConfigurations: [],
    }));
    const spec = {
        contextName: "policies/authenticationStrengthPolicies",
        typeName: "microsoft.graph.authenticationStrengthPolicy",
        selectable: new Set(["id", "displayName", "description", "policyType", "requirementsSatisfied", "allowedCombinations", "createdDateTime", "modifiedDateTime", "combinationConfigurations"]),
    };
    if (strengthId === undefined) return answerCollection(request, { ...spec, items: strengths, filterable: true, pageSize: request.pageSize });
    const strength = strengths.find((candidate) => candidate.id.toLowerCase() === strengthId.toLowerCase());
    if (strength === undefined) return notFound(strengthId);
    return answerEntity(request, strength, spec);
}

/**
 * `GET /roleManagement/directory/roleEligibilityScheduleInstances`, with `$filter` on
 * `principalId` and the other documented properties
 * (https://learn.microsoft.com/graph/api/rbacapplication-list-roleeligibilityscheduleinstances).
 */
export function answerRoleEligibilityInstances(request: EvidenceRequest): EmulatorResponse {
    const instances = request.tenant.roleEligibilities.map((eligibility) => ({
        id: eligibility.id,
        principalId: eligibility.principalId,
        roleDefinitionId: eligibility.roleDefinitionId,
        directoryScopeId: eligibility.directoryScopeId,
        appScopeId: null,
        startDateTime: eligibility.startDateTime,
        endDateTime: null,
        memberType: "Direct",
        roleEligibilityScheduleId: eligibility.id,
    }));
    return answerCollection(request, {
        items: instances,
        contextName: "roleManagement/directory/roleEligibilityScheduleInstances",
        typeName: "microsoft.graph.unifiedRoleEligibilityScheduleInstance",
        selectable: new Set(["id", "principalId", "roleDefinitionId", "directoryScopeId", "appScopeId", "startDateTime", "endDateTime", "memberType", "roleEligibilityScheduleId"]),
        filterable: true,
        pageSize: request.pageSize,
    });
}

const SECURITY_DEFAULTS_DESCRIPTION =
    "Security defaults is a set of basic identity security mechanisms recommended by Microsoft. When enabled, these recommendations will be automatically enforced in your organization. Administrators and users will be better protected from common identity related attacks.";

/** `GET /policies/identitySecurityDefaultsEnforcementPolicy`, a singleton. */
export function answerSecurityDefaults(request: EvidenceRequest): EmulatorResponse {
    const policy = {
        id: "00000000-0000-0000-0000-000000000005",
        displayName: "Security Defaults",
        description: SECURITY_DEFAULTS_DESCRIPTION,
        isEnabled: request.tenant.securityDefaultsEnabled,
    };
    return answerEntity(request, policy, {
        contextName: "policies/identitySecurityDefaultsEnforcementPolicy",
        typeName: "microsoft.graph.identitySecurityDefaultsEnforcementPolicy",
        selectable: new Set(Object.keys(policy)),
        singleton: true,
    });
}

/** `GET /reports/authenticationMethods/userRegistrationDetails[/{id}]`; only users with a row are listed. */
export function answerRegistrationDetails(request: EvidenceRequest, userId: string | undefined): EmulatorResponse {
    const rows = [...request.tenant.users.byId.values()]
        .filter((user) => user.isMfaCapable !== undefined || user.isMfaRegistered !== undefined)
        .map((user) => registrationRow(request.tenant, user));
    const spec = {
        contextName: "reports/authenticationMethods/userRegistrationDetails",
        typeName: "microsoft.graph.userRegistrationDetails",
        selectable: new Set(Object.keys(registrationRow(request.tenant, { id: "", userPrincipalName: "" }))),
    };
    if (userId === undefined) return answerCollection(request, { ...spec, items: rows, filterable: true, pageSize: request.pageSize });
    const row = rows.find((candidate) => String(candidate.id).toLowerCase() === userId.toLowerCase());
    if (row === undefined) return notFound(userId);
    return answerEntity(request, row, spec);
}

/**
 * One user's row in the registration report
 * (https://learn.microsoft.com/graph/api/resources/userregistrationdetails). A registered user is
 * shown with the Authenticator app, the method most tenants steer users to.
 */
function registrationRow(tenant: EmulatedTenant, user: EmulatedUser): Record<string, unknown> {
    const registered = user.isMfaRegistered ?? false;
    return {
        id: user.id,
        userPrincipalName: user.userPrincipalName,
        userDisplayName: user.displayName ?? null,
        // The report spells its userType values in lower case, unlike the user resource.
        userType: user.userType === "Guest" ? "guest" : "member",
        isAdmin: tenant.transitiveDirectoryRolesOf(user.id).length > 0,
        isSsprRegistered: false,
        isSsprEnabled: false,
        isSsprCapable: false,
        isMfaRegistered: registered,
        isMfaCapable: user.isMfaCapable ?? false,
        isPasswordlessCapable: false,
        methodsRegistered: registered ? ["microsoftAuthenticatorPush"] : [],
        defaultMfaMethod: registered ? "microsoftAuthenticatorPush" : "none",
        isSystemPreferredAuthenticationMethodEnabled: true,
        systemPreferredAuthenticationMethods: registered ? ["push"] : [],
        userPreferredMethodForSecondaryAuthentication: registered ? "push" : "none",
        lastUpdatedDateTime: tenant.userUpdatedDateTime(user.id),
    };
}

/** OData casts Graph accepts after a directory-object collection, by lower-cased segment. */
const CASTS = {
    "microsoft.graph.user": { type: "user", contextName: "users" },
    "microsoft.graph.group": { type: "group", contextName: "groups" },
    "microsoft.graph.directoryrole": { type: "directoryRole", contextName: "directoryRoles" },
} as const;

type DirectoryObjectType = (typeof CASTS)[keyof typeof CASTS]["type"];

const GROUP_PROPERTIES: ReadonlySet<string> = new Set(Object.keys(groupRepresentation({ id: "", displayName: "", members: [] })));
const ROLE_PROPERTIES: ReadonlySet<string> = new Set(Object.keys(directoryRoleRepresentation({ id: "", templateId: "", displayName: "", members: [] })));
const PROPERTIES_BY_TYPE: Record<DirectoryObjectType, ReadonlySet<string>> = { user: SELECTABLE_USER_PROPERTIES, group: GROUP_PROPERTIES, directoryRole: ROLE_PROPERTIES };

interface DirectoryObject {
    type: DirectoryObjectType;
    representation: Record<string, unknown>;
}

/** `GET /users/{id}/transitiveMemberOf[/{cast}]`: groups, nested ones included, then directory roles. */
export function answerTransitiveMemberOf(request: EvidenceRequest, idOrUpn: string, cast: string | undefined): EmulatorResponse {
    const user = request.tenant.users.find(idOrUpn);
    if (user === undefined) return notFound(idOrUpn);
    return answerMemberOf(request, user.id, cast);
}

/** `GET /groups/{id}/transitiveMemberOf[/{cast}]`: the groups a group is nested in, then the directory roles it holds, itself or through them. */
export function answerGroupTransitiveMemberOf(request: EvidenceRequest, groupId: string, cast: string | undefined): EmulatorResponse {
    if (!request.tenant.groups.has(groupId)) return notFound(groupId);
    return answerMemberOf(request, groupId, cast);
}

function answerMemberOf(request: EvidenceRequest, objectId: string, cast: string | undefined): EmulatorResponse {
    const objects: DirectoryObject[] = [
        ...request.tenant.transitiveGroupsOf(objectId).map((group) => ({ type: "group" as const, representation: groupRepresentation(group) })),
        ...request.tenant.transitiveDirectoryRolesOf(objectId).map((role) => ({ type: "directoryRole" as const, representation: directoryRoleRepresentation(role) })),
    ];
    return answerDirectoryObjects(request, objects, cast, ["group", "directoryRole"]);
}

/** `GET /groups/{id}/transitiveMembers[/{cast}]`: users and nested groups, flattened. */
export function answerTransitiveMembers(request: EvidenceRequest, groupId: string, cast: string | undefined): EmulatorResponse {
    if (!request.tenant.groups.has(groupId)) return notFound(groupId);
    const { users, groups } = request.tenant.transitiveMembersOf(groupId);
    const objects: DirectoryObject[] = [
        ...users.map((user) => ({ type: "user" as const, representation: userRepresentation(user) })),
        ...groups.map((group) => ({ type: "group" as const, representation: groupRepresentation(group) })),
    ];
    return answerDirectoryObjects(request, objects, cast, ["user", "group"]);
}

/**
 * A directory-object collection: mixed items carry `@odata.type`; after a cast only that type is
 * listed, without it. Users show the version's default properties unless `$select` names others.
 */
function answerDirectoryObjects(
    request: EvidenceRequest,
    objects: DirectoryObject[],
    castSegment: string | undefined,
    possibleTypes: DirectoryObjectType[],
): EmulatorResponse {
    const cast = castSegment === undefined ? undefined : CASTS[castSegment.toLowerCase() as keyof typeof CASTS];
    if (castSegment !== undefined && (cast === undefined || !possibleTypes.includes(cast.type))) {
        return graphError(400, { code: "BadRequest", message: `Resource not found for the segment '${castSegment}'.` });
    }
    const listed = cast === undefined ? objects : objects.filter((object) => object.type === cast.type);
    const types = cast === undefined ? possibleTypes : [cast.type];
    const typeOf = new Map<Record<string, unknown>, DirectoryObjectType>();
    const items = listed.map((object) => {
        const item = cast === undefined ? { "@odata.type": `#microsoft.graph.${object.type}`, ...object.representation } : object.representation;
        typeOf.set(item, object.type);
        return item;
    });
    return answerCollection(request, {
        items,
        contextName: cast?.contextName ?? "directoryObjects",
        typeName: cast === undefined ? "microsoft.graph.directoryObject" : `microsoft.graph.${cast.type}`,
        selectable: new Set(types.flatMap((type) => [...PROPERTIES_BY_TYPE[type]])),
        defaultProperties: (item) => (typeOf.get(item) === "user" ? DEFAULT_USER_PROPERTIES[request.version] : Object.keys(item)),
        filterable: false,
        pageSize: request.pageSize,
    });
}

function notFound(id: string): EmulatorResponse {
    return graphError(404, { message: `Resource '${id}' does not exist or one of its queried reference-property objects are not present.` });
}
