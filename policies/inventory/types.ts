import { PropertyBag } from "./propertyValues";

/** A stack resource as the inventory sees it: plain properties, dependencies by URN. */
export interface StackResourceSnapshot {
    urn: string;
    type: string;
    name: string;
    props: PropertyBag;
    /** Input property name -> URNs of the resources whose outputs fed it. */
    propertyDependencies: Record<string, string[]>;
}

/** A user in scope of the MFA rules: a user resource of the stack, or a user a stack role points at. */
export interface InventoryUser {
    /** Stable identity within one evaluation: the URN for stack users, `objectId:<id>` for others. */
    key: string;
    /** Set when the user is a resource of the stack. */
    urn?: string;
    objectId?: string;
    userPrincipalName?: string;
    /** How the user is named in messages: UPN, e-mail, object id or resource name. */
    displayName: string;
    /** `undefined` when the stack does not say (users outside the stack, unknown in preview). */
    accountEnabled?: boolean;
    isGuest: boolean;
    /** The object id is unknown because the user is created by this deployment. */
    isNew: boolean;
    roles: HeldRole[];
    /** The stack's groups the user is in, through nested groups. */
    stackGroups: StackGroupRef[];
    // The three fields below are always set by `buildInventory`; they are optional only so that
    // users built elsewhere (from Graph answers) keep compiling until they set them too.
    /**
     * `"user"` for the stack's users and invitations; `"unknown"` for an id outside the stack that is
     * named where a user or a group may stand, so only Graph can tell which it is.
     */
    principalKind?: PrincipalKind;
    /** The user's kind in Conditional Access terms; `"unknown"` for users outside the stack. */
    guestKind?: GuestKind;
    /**
     * Lower-case object ids of groups outside the stack that the stack makes the user a member of
     * (`GroupMember`), directly or through stack groups nested in them.
     */
    outsideGroupIds?: string[];
}

export type PrincipalKind = "user" | "unknown";

/**
 * Conditional Access's guest and external user types that a user object can be
 * (https://learn.microsoft.com/graph/api/resources/conditionalaccessguestsorexternalusers).
 */
export type GuestKind = "member" | "internalGuest" | "b2bCollaborationGuest" | "b2bCollaborationMember" | "unknown";

export interface StackGroupRef {
    urn: string;
    objectId?: string;
    displayName: string;
}

/** A role a user holds through an assignment in the stack. */
export interface HeldRole {
    /** The role's name; absent when the pack could not name it (see `unnamedBecause`). */
    name?: string;
    /** The role as the assignment refers to it (role definition id, template id or name). */
    reference: string;
    system: "azure-rbac" | "entra-directory";
    /** Microsoft's PRIVILEGED label, for Entra built-in roles. */
    entraPrivileged?: boolean;
    /** The Entra role template id, which Conditional Access policies name roles by. */
    templateId?: string;
    /** Eligible through Privileged Identity Management: the user can activate it at will. */
    eligible?: boolean;
    /** The group the role was given to, when the user holds it through membership. */
    viaGroup?: string;
    assignmentUrn: string;
    unnamedBecause?: string;
    /** Entra roles: the directory scope assigned, `"/"` for the whole tenant; absent when unknown or scoped to an app. */
    directoryScopeId?: string;
    /**
     * Entra roles: whether the role applies to the whole tenant. Conditional Access cannot target
     * roles scoped to an administrative unit or an app. Absent for Azure roles and when `scopeUnknown`.
     */
    tenantWide?: boolean;
    /** Entra roles: the scope is unknown until the deployment runs. */
    scopeUnknown?: true;
}

/** Something in the stack the inventory could not read; it is reported, never guessed. */
export interface InventoryProblem {
    urn: string;
    message: string;
}

export interface Inventory {
    users: InventoryUser[];
    problems: InventoryProblem[];
    /** The stack's groups, with the keys of the users in each (transitively). */
    groups: (StackGroupRef & { userKeys: string[] })[];
    /** Conditional Access policies defined in the stack, as read from it. */
    conditionalAccessPolicies: StackResourceSnapshot[];
    /** The stack's DirectoryRole resources, for references to them unknown during preview. */
    directoryRoles: { urn: string; templateId?: string }[];
    /** Roles given to groups that are not in the stack; their members come from Graph. */
    outsideGroupGrants: { groupObjectId: string; role: HeldRole }[];
}
