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
    /** Which kind of guest or external user it is, as Conditional Access tells them apart; `unknown` until read. */
    guestKind?: "member" | "internalGuest" | "b2bCollaborationGuest" | "b2bCollaborationMember" | "unknown";
    /** Groups outside the stack that the stack makes the user a member of (lower-case ids). */
    outsideGroupIds?: string[];
}

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
    /** The Entra directory scope (`/` for the whole tenant, `/administrativeUnits/<id>` for one unit). */
    directoryScopeId?: string;
    /** The group the role was given to, when the user holds it through membership. */
    viaGroup?: string;
    assignmentUrn: string;
    unnamedBecause?: string;
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
