/** The resource kinds the inventory reads, by the provider type tokens that carry them. */
export type ResourceKind =
    | "user"
    | "invitation"
    | "group"
    | "groupMember"
    | "directoryRole"
    | "directoryRoleMember"
    | "directoryRoleAssignment"
    | "azureRoleAssignment"
    | "azureRoleDefinition"
    | "classicRoleAssignment"
    | "classicRoleDefinition"
    | "conditionalAccessPolicy"
    | "directoryRoleEligibility"
    | "azureRoleEligibility";

const KIND_BY_TYPE: Record<string, ResourceKind> = {
    "azuread:index/user:User": "user",
    "azuread:index/invitation:Invitation": "invitation",
    "azuread:index/group:Group": "group",
    "azuread:index/groupMember:GroupMember": "groupMember",
    "azuread:index/directoryRole:DirectoryRole": "directoryRole",
    "azuread:index/directoryRoleMember:DirectoryRoleMember": "directoryRoleMember",
    "azuread:index/directoryRoleAssignment:DirectoryRoleAssignment": "directoryRoleAssignment",
    "azure-native:authorization:RoleAssignment": "azureRoleAssignment",
    "azure-native:authorization:RoleDefinition": "azureRoleDefinition",
    "azure:authorization/assignment:Assignment": "classicRoleAssignment",
    // The classic provider's older module name, still accepted as an alias.
    "azure:role/assignment:Assignment": "classicRoleAssignment",
    "azure:authorization/roleDefinition:RoleDefinition": "classicRoleDefinition",
    "azure:role/definition:Definition": "classicRoleDefinition",
    "azuread:index/conditionalAccessPolicy:ConditionalAccessPolicy": "conditionalAccessPolicy",
    // Roles a user may activate through Privileged Identity Management count as held.
    "azuread:index/directoryRoleEligibilityScheduleRequest:DirectoryRoleEligibilityScheduleRequest": "directoryRoleEligibility",
    "azure-native:authorization:PimRoleEligibilitySchedule": "azureRoleEligibility",
    "azure-native:authorization:RoleEligibilityScheduleRequest": "azureRoleEligibility",
};

/**
 * azure-native publishes every API version as its own module, e.g.
 * `azure-native:authorization/v20220401:RoleAssignment`; they are the same resource.
 */
const API_VERSION_MODULE = /^([^:]+):([^:/]+)\/v\d{8}(?:preview|privatepreview)?:([^:]+)$/i;

export function resourceKindOf(type: string): ResourceKind | undefined {
    const direct = KIND_BY_TYPE[type];
    if (direct) return direct;
    const versioned = API_VERSION_MODULE.exec(type);
    return versioned ? KIND_BY_TYPE[`${versioned[1]}:${versioned[2]}:${versioned[3]}`] : undefined;
}

/**
 * The properties the pack reads, per kind: only these are copied out of the SDK's proxies, which
 * is most of the pack's own cost on a large stack.
 */
export const READ_PROPERTIES: Record<ResourceKind, readonly string[]> = {
    user: ["objectId", "userPrincipalName", "userType", "accountEnabled", "creationType", "externalUserState"],
    invitation: ["userEmailAddress", "userType", "userId"],
    group: ["objectId", "displayName", "members"],
    groupMember: ["groupObjectId", "memberObjectId"],
    directoryRole: ["objectId", "displayName", "templateId"],
    directoryRoleMember: ["roleObjectId", "memberObjectId"],
    directoryRoleAssignment: ["roleId", "principalObjectId", "directoryScopeId", "appScopeId"],
    azureRoleAssignment: ["principalId", "principalType", "roleDefinitionId"],
    azureRoleDefinition: ["id", "name", "roleName", "roleDefinitionId", "roleDefinitionResourceId"],
    classicRoleAssignment: ["principalId", "principalType", "roleDefinitionId", "roleDefinitionName"],
    classicRoleDefinition: ["id", "name", "roleDefinitionId", "roleDefinitionResourceId"],
    conditionalAccessPolicy: ["displayName", "state", "conditions", "grantControls"],
    directoryRoleEligibility: ["roleDefinitionId", "principalId", "directoryScopeId"],
    azureRoleEligibility: ["principalId", "principalType", "roleDefinitionId"],
};
