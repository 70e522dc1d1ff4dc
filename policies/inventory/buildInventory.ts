import { RoleCatalog } from "../roles/catalog";
import {
    MalformedValue,
    PropertyBag,
    readBoolean,
    readNonEmptyString,
    readString,
    readStringList,
    StringRead,
    UNKNOWN,
} from "./propertyValues";
import { guestKindOf } from "./guestKind";
import { ResourceKind, resourceKindOf } from "./resourceTypes";
import { HeldRole, Inventory, InventoryProblem, InventoryUser, StackResourceSnapshot } from "./types";

interface KindedResource extends StackResourceSnapshot {
    kind: ResourceKind;
}

interface StackGroup {
    urn: string;
    objectId?: string;
    displayName: string;
    members: Principal[];
}

/** Whom an assignment or a membership points at. */
type Principal =
    | { kind: "user"; user: InventoryUser }
    | { kind: "group"; group: StackGroup }
    | { kind: "outside"; objectId: string }
    | { kind: "unresolved"; reason: string };

type RoleName = Pick<HeldRole, "name" | "entraPrivileged" | "unnamedBecause" | "templateId"> & { reference: string };
type DirectoryScope = Pick<HeldRole, "directoryScopeId" | "tenantWide" | "scopeUnknown">;

/** A membership the stack gives in a group outside it, to a user or to one of its groups. */
interface OutsideMembership {
    groupObjectId: string;
    member: Extract<Principal, { kind: "user" | "group" }>;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const AZURE_RBAC_KINDS: ReadonlySet<ResourceKind> = new Set(["azureRoleAssignment", "classicRoleAssignment", "azureRoleEligibility"]);

/** Azure `principalType`s that are not people; their assignments never make a user privileged. */
const NON_USER_PRINCIPAL_TYPES = new Set(["serviceprincipal", "foreigngroup", "device"]);

/**
 * Builds the identity inventory of a stack: its users, and every role each user holds through
 * the stack's Azure RBAC and Entra directory role assignments, directly or through groups.
 * Pure and total: unknown values (preview) are followed through `propertyDependencies`, and
 * anything unreadable becomes an `InventoryProblem` instead of a guess.
 */
export function buildInventory(resources: readonly StackResourceSnapshot[], catalog: RoleCatalog): Inventory {
    return new InventoryBuilder(resources, catalog).build();
}

class InventoryBuilder {
    private readonly problems: InventoryProblem[] = [];
    private readonly outsideGroupGrants: Inventory["outsideGroupGrants"] = [];
    private readonly byUrn = new Map<string, KindedResource>();
    private readonly users = new Map<string, InventoryUser>();
    /** Every stack user resource's URN, duplicates included, to the user it was read into. */
    private readonly usersByUrn = new Map<string, InventoryUser>();
    private readonly usersByObjectId = new Map<string, InventoryUser>();
    private readonly groupsByUrn = new Map<string, StackGroup>();
    private readonly groupsByObjectId = new Map<string, StackGroup>();
    private readonly outsideMemberships: OutsideMembership[] = [];
    /** Custom role definitions by every id they can be referred to by (resource id, GUID), lower-case. */
    private readonly roleDefinitionsById = new Map<string, KindedResource>();
    private readonly directoryRolesByObjectId = new Map<string, KindedResource>();

    constructor(resources: readonly StackResourceSnapshot[], private readonly catalog: RoleCatalog) {
        for (const resource of resources) {
            const kind = resourceKindOf(resource.type);
            if (!kind) continue;
            if (this.byUrn.has(resource.urn)) {
                this.problem(resource.urn, "appears twice in the stack; only its first copy is read");
                continue;
            }
            const kinded = { ...resource, kind };
            this.byUrn.set(resource.urn, kinded);
            if (kind === "azureRoleDefinition" || kind === "classicRoleDefinition") this.indexRoleDefinition(kinded);
            if (kind === "directoryRole") {
                const objectId = readString(kinded.props, "objectId");
                if (typeof objectId === "string") this.directoryRolesByObjectId.set(objectId.toLowerCase(), kinded);
            }
        }
    }

    private indexRoleDefinition(definition: KindedResource): void {
        for (const property of ["id", "name", "roleDefinitionId", "roleDefinitionResourceId"]) {
            const value = definition.props[property];
            if (typeof value !== "string") continue;
            const id = value.toLowerCase();
            if (!this.roleDefinitionsById.has(id)) this.roleDefinitionsById.set(id, definition);
            const guid = lastGuidSegment(id);
            if (guid && !this.roleDefinitionsById.has(guid)) this.roleDefinitionsById.set(guid, definition);
        }
    }

    build(): Inventory {
        const all = [...this.byUrn.values()];
        all.filter((r) => r.kind === "user").forEach((r) => this.addUser(r));
        all.filter((r) => r.kind === "invitation").forEach((r) => this.addInvitation(r));
        all.filter((r) => r.kind === "group").forEach((r) => this.addGroup(r));
        all.filter((r) => r.kind === "group").forEach((r) => this.addGroupMembers(r));
        all.filter((r) => r.kind === "groupMember").forEach((r) => this.addGroupMember(r));
        for (const resource of all) {
            switch (resource.kind) {
                case "azureRoleAssignment":
                case "classicRoleAssignment":
                    this.addAzureRoleAssignment(resource);
                    break;
                case "directoryRoleAssignment":
                    this.grant(resource, "principalObjectId", { ...this.entraRoleOfAssignment(resource), ...this.directoryScopeOf(resource) });
                    break;
                case "directoryRoleMember":
                    // The directoryRoles API adds members to the role over the whole tenant.
                    this.grant(resource, "memberObjectId", { ...this.entraRoleOfMember(resource), directoryScopeId: "/", tenantWide: true });
                    break;
                case "directoryRoleEligibility":
                    this.grant(resource, "principalId", { ...this.entraRoleOfAssignment(resource, "roleDefinitionId"), ...this.directoryScopeOf(resource), eligible: true });
                    break;
                case "azureRoleEligibility":
                    this.addAzureRoleAssignment(resource, true);
                    break;
            }
        }
        const groups = [...this.groupsByUrn.values()].map((group) => {
            const users = this.usersInGroup(group);
            const ref = { urn: group.urn, objectId: group.objectId, displayName: group.displayName };
            users.forEach((user) => user.stackGroups.push(ref));
            return { ...ref, userKeys: users.map((user) => user.key) };
        });
        for (const { groupObjectId, member } of this.outsideMemberships) {
            const users = member.kind === "user" ? [member.user] : this.usersInGroup(member.group);
            for (const user of users) {
                const ids = (user.outsideGroupIds ??= []);
                if (!ids.includes(groupObjectId)) ids.push(groupObjectId);
            }
        }
        return {
            users: [...this.users.values()],
            problems: this.problems,
            groups,
            conditionalAccessPolicies: all.filter((r) => r.kind === "conditionalAccessPolicy").map(({ kind: _kind, ...snapshot }) => snapshot),
            authenticationStrengthPolicies: all.filter((r) => r.kind === "authenticationStrengthPolicy").map((r) => {
                const id = readString(r.props, "id");
                const displayName = readString(r.props, "displayName");
                const combinations = r.props.allowedCombinations;
                return {
                    urn: r.urn,
                    // The provider's id is the Graph path /policies/authenticationStrengthPolicies/<id>.
                    ...(typeof id === "string" ? { id: id.toLowerCase().split("/").pop() } : {}),
                    ...(typeof displayName === "string" ? { displayName } : {}),
                    ...(Array.isArray(combinations) && combinations.every((c) => typeof c === "string") ? { allowedCombinations: combinations as string[] } : {}),
                };
            }),
            directoryRoles: all.filter((r) => r.kind === "directoryRole").map((r) => {
                const templateId = readString(r.props, "templateId");
                return { urn: r.urn, ...(typeof templateId === "string" ? { templateId: templateId.toLowerCase() } : {}) };
            }),
            outsideGroupGrants: this.outsideGroupGrants,
        };
    }

    private problem(urn: string, message: string): void {
        this.problems.push({ urn, message });
    }

    /** A string property; a malformed one is recorded as a problem and read as absent. */
    private string(resource: KindedResource, property: string, read = readString): string | typeof UNKNOWN | undefined {
        const value: StringRead = read(resource.props, property);
        if (value instanceof MalformedValue) {
            this.problem(resource.urn, `cannot be read: ${value.describe()}`);
            return undefined;
        }
        return value;
    }

    private addUser(resource: KindedResource): void {
        const objectId = this.string(resource, "objectId", readNonEmptyString);
        const userPrincipalName = this.string(resource, "userPrincipalName", readNonEmptyString);
        const userType = this.string(resource, "userType", readNonEmptyString);
        const creationType = this.string(resource, "creationType", readNonEmptyString);
        const externalUserState = this.string(resource, "externalUserState", readNonEmptyString);
        const enabled = readBoolean(resource.props, "accountEnabled");
        if (enabled instanceof MalformedValue) this.problem(resource.urn, `cannot be read: ${enabled.describe()}`);
        const orNull = (value: string | typeof UNKNOWN | undefined) => (typeof value === "string" ? value : null);
        this.addStackUser(resource, {
            objectId,
            userPrincipalName: typeof userPrincipalName === "string" ? userPrincipalName : undefined,
            // The provider creates accounts enabled unless told otherwise.
            accountEnabled: enabled === undefined ? true : typeof enabled === "boolean" ? enabled : undefined,
            isGuest: userType === "Guest",
            // The provider cannot set userType: the accounts it creates are internal members, and the
            // fields that say otherwise are Graph's, unknown only while the account is still to be created.
            guestKind: guestKindOf({
                userType: typeof userType === "string" ? userType : "Member",
                creationType: orNull(creationType),
                externalUserState: orNull(externalUserState),
                userPrincipalName: typeof userPrincipalName === "string" ? userPrincipalName : undefined,
            }),
            displayName: typeof userPrincipalName === "string" ? userPrincipalName : resource.name,
        });
    }

    private addInvitation(resource: KindedResource): void {
        const email = this.string(resource, "userEmailAddress", readNonEmptyString);
        const userType = this.string(resource, "userType", readNonEmptyString);
        this.addStackUser(resource, {
            objectId: this.string(resource, "userId", readNonEmptyString),
            accountEnabled: true,
            // An invitation makes a Guest unless it asks for a Member.
            isGuest: userType !== "Member",
            guestKind: userType === UNKNOWN ? "unknown" : userType === "Member" ? "b2bCollaborationMember" : "b2bCollaborationGuest",
            displayName: typeof email === "string" ? email : resource.name,
        });
    }

    private addStackUser(
        resource: KindedResource,
        fields: Omit<InventoryUser, "key" | "urn" | "objectId" | "isNew" | "roles" | "stackGroups" | "principalKind" | "outsideGroupIds"> & {
            objectId: string | typeof UNKNOWN | undefined;
        },
    ): void {
        const { objectId } = fields;
        const twin = typeof objectId === "string" ? this.usersByObjectId.get(objectId.toLowerCase()) : undefined;
        if (twin) {
            // Two resources for one account: whatever either is given, the one account holds.
            this.usersByUrn.set(resource.urn, twin);
            this.problem(resource.urn, `has the object id ${twin.objectId} of ${twin.urn}; both are read as one user, holding the roles and groups of both`);
            return;
        }
        // Every field named: the rest object (`{ objectId, ...rest }`) spread into this literal took
        // V8's slow path, 3.4 KB of garbage a user (37 MB at 10,000 users, in AnalyzeStack).
        const user: InventoryUser = {
            key: resource.urn,
            urn: resource.urn,
            objectId: typeof objectId === "string" ? objectId : undefined,
            displayName: fields.displayName,
            accountEnabled: fields.accountEnabled,
            isGuest: fields.isGuest,
            isNew: objectId === UNKNOWN,
            roles: [],
            stackGroups: [],
            principalKind: "user",
            guestKind: fields.guestKind,
            outsideGroupIds: [],
        };
        if (fields.userPrincipalName !== undefined) user.userPrincipalName = fields.userPrincipalName;
        this.users.set(user.key, user);
        this.usersByUrn.set(resource.urn, user);
        if (user.objectId) this.usersByObjectId.set(user.objectId.toLowerCase(), user);
    }

    private addGroup(resource: KindedResource): void {
        const objectId = this.string(resource, "objectId", readNonEmptyString);
        const displayName = this.string(resource, "displayName", readNonEmptyString);
        const group: StackGroup = {
            urn: resource.urn,
            objectId: typeof objectId === "string" ? objectId : undefined,
            displayName: typeof displayName === "string" ? displayName : resource.name,
            members: [],
        };
        this.groupsByUrn.set(group.urn, group);
        if (group.objectId) this.groupsByObjectId.set(group.objectId.toLowerCase(), group);
    }

    private addGroupMembers(resource: KindedResource): void {
        const group = this.groupsByUrn.get(resource.urn)!;
        const members = readStringList(resource.props, "members");
        if (members instanceof MalformedValue) {
            this.problem(resource.urn, `cannot be read: ${members.describe()}`);
            return;
        }
        if (members === undefined) return;
        const known = members === UNKNOWN ? [] : members.filter((m): m is string => typeof m === "string");
        group.members.push(...known.map((id) => this.principalById(id)));
        if (members === UNKNOWN || members.some((m) => m === UNKNOWN)) {
            const fromDependencies = this.principalsFromDependencies(resource, "members");
            group.members.push(...fromDependencies);
            const unresolved = this.unresolvedMembers(resource, members, fromDependencies);
            if (unresolved) this.problem(resource.urn, `group '${group.displayName}' has ${unresolved}; they are not checked for the group's roles`);
        }
    }

    /**
     * Says which unknown members of a preview no user or group of the stack accounts for, if any.
     * Only a member still to be created (no object id yet) can account for an unknown element.
     */
    private unresolvedMembers(resource: KindedResource, members: (string | typeof UNKNOWN)[] | typeof UNKNOWN, fromDependencies: Principal[]): string | undefined {
        const strangers = (resource.propertyDependencies.members ?? []).filter((urn) => !this.usersByUrn.has(urn) && !this.groupsByUrn.has(urn));
        const cause = strangers.length > 0 ? ` (fed by ${strangers.join(", ")}, which is no user or group of the stack)` : "";
        if (members === UNKNOWN) {
            // Every resource that fed a wholly unknown list is a member. None at all means the program
            // left `members` unset: the provider then reads back whatever membership others manage.
            return strangers.length > 0 ? `members unknown until the deployment runs that come from no user or group of the stack${cause}` : undefined;
        }
        const unknownCount = members.filter((m) => m === UNKNOWN).length;
        const newCount = fromDependencies.filter((p) => (p.kind === "user" ? p.user.isNew : p.kind === "group" && !p.group.objectId)).length;
        return unknownCount > newCount ? `${unknownCount - newCount} member(s) unknown until the deployment runs that come from no user or group of the stack${cause}` : undefined;
    }

    private addGroupMember(resource: KindedResource): void {
        const members = this.principalsOf(resource, "memberObjectId");
        for (const target of this.principalsOf(resource, "groupObjectId")) {
            switch (target.kind) {
                case "group":
                    target.group.members.push(...members);
                    this.reportUnresolvedMembers(resource, members, `group '${target.group.displayName}'`);
                    break;
                case "outside":
                    // Only the stack's users matter here: an outside member of an outside group is the tenant's business.
                    for (const member of members) {
                        if (member.kind === "user" || member.kind === "group") this.outsideMemberships.push({ groupObjectId: target.objectId.toLowerCase(), member });
                    }
                    this.reportUnresolvedMembers(resource, members, `group ${target.objectId}, which is not in the stack`);
                    break;
                case "user":
                    this.problem(resource.urn, `adds a member to ${target.user.displayName}, which is a user, not a group; the membership is not read`);
                    break;
                case "unresolved":
                    this.problem(resource.urn, `adds a member to a group the pack cannot identify: ${target.reason}; the membership is not read`);
                    break;
            }
        }
    }

    private reportUnresolvedMembers(resource: KindedResource, members: Principal[], groupName: string): void {
        for (const member of members) {
            if (member.kind === "unresolved") this.problem(resource.urn, `adds a member the pack cannot identify to ${groupName}: ${member.reason}; it is not checked`);
        }
    }

    /** Resolves a principal-valued property to principals, following dependencies when unknown. */
    private principalsOf(resource: KindedResource, property: string): Principal[] {
        const value = this.string(resource, property, readNonEmptyString);
        if (typeof value === "string") return [this.principalById(value)];
        if (value === UNKNOWN) {
            const principals = this.principalsFromDependencies(resource, property);
            return principals.length > 0
                ? principals
                : [{ kind: "unresolved", reason: `its '${property}' is unknown until the deployment runs and comes from no user or group of the stack` }];
        }
        return [{ kind: "unresolved", reason: `it has no '${property}'` }];
    }

    private principalsFromDependencies(resource: KindedResource, property: string): Principal[] {
        const principals: Principal[] = [];
        for (const urn of resource.propertyDependencies[property] ?? []) {
            const user = this.usersByUrn.get(urn);
            const group = this.groupsByUrn.get(urn);
            if (user) principals.push({ kind: "user", user });
            else if (group) principals.push({ kind: "group", group });
        }
        return principals;
    }

    private principalById(objectId: string): Principal {
        const id = objectId.toLowerCase();
        const user = this.usersByObjectId.get(id);
        if (user) return { kind: "user", user };
        const group = this.groupsByObjectId.get(id);
        if (group) return { kind: "group", group };
        return { kind: "outside", objectId };
    }

    private addAzureRoleAssignment(resource: KindedResource, eligible = false): void {
        const principalType = this.string(resource, "principalType", readNonEmptyString);
        const type = typeof principalType === "string" ? principalType.toLowerCase() : undefined;
        if (type && NON_USER_PRINCIPAL_TYPES.has(type)) return;
        const role = this.azureRoleOfAssignment(resource);
        this.grant(resource, "principalId", eligible ? { ...role, eligible } : role, type === "group");
    }

    /** Gives `role` to every user the assignment's principal property resolves to. */
    private grant(resource: KindedResource, principalProperty: string, role: RoleName & DirectoryScope & { eligible?: boolean }, principalIsGroup = false): void {
        for (const principal of this.principalsOf(resource, principalProperty)) {
            const held: HeldRole = {
                ...role,
                system: AZURE_RBAC_KINDS.has(resource.kind) ? "azure-rbac" : "entra-directory",
                assignmentUrn: resource.urn,
            };
            switch (principal.kind) {
                case "user":
                    principal.user.roles.push(held);
                    break;
                case "group":
                    for (const user of this.usersInGroup(principal.group)) {
                        user.roles.push({ ...held, viaGroup: principal.group.displayName });
                    }
                    break;
                case "outside":
                    if (principalIsGroup) {
                        this.outsideGroupGrants.push({ groupObjectId: principal.objectId, role: held });
                    } else {
                        this.outsideUser(principal.objectId).roles.push(held);
                    }
                    break;
                case "unresolved":
                    this.problem(resource.urn, `gives ${describeRole(role)} to a principal the pack cannot identify: ${principal.reason}`);
                    break;
            }
        }
    }

    /** Every user in a group, through nested groups; membership cycles are walked once. */
    private usersInGroup(group: StackGroup, seen = new Set<StackGroup>()): InventoryUser[] {
        if (seen.has(group)) return [];
        seen.add(group);
        const users = new Set<InventoryUser>();
        for (const member of group.members) {
            if (member.kind === "user") users.add(member.user);
            else if (member.kind === "group") this.usersInGroup(member.group, seen).forEach((u) => users.add(u));
            else if (member.kind === "outside") users.add(this.outsideUser(member.objectId));
        }
        return [...users];
    }

    /** A principal the stack does not create but gives a role or a stack group to; Graph is asked about it by id. */
    private outsideUser(objectId: string): InventoryUser {
        const key = `objectId:${objectId.toLowerCase()}`;
        let user = this.users.get(key);
        if (!user) {
            user = {
                key,
                objectId,
                displayName: objectId,
                isGuest: false,
                isNew: false,
                roles: [],
                stackGroups: [],
                // Named where a user or a group may stand: only Graph can tell which it is.
                principalKind: "unknown",
                guestKind: "unknown",
                outsideGroupIds: [],
            };
            this.users.set(key, user);
            this.usersByObjectId.set(objectId.toLowerCase(), user);
        }
        return user;
    }

    private azureRoleOfAssignment(resource: KindedResource): RoleName {
        if (resource.kind === "classicRoleAssignment") {
            const name = this.string(resource, "roleDefinitionName", readNonEmptyString);
            if (typeof name === "string") return { name, reference: name };
        }
        const id = this.string(resource, "roleDefinitionId", readNonEmptyString);
        if (id === UNKNOWN) {
            const definition = this.dependency(resource, "roleDefinitionId", ["azureRoleDefinition", "classicRoleDefinition"]);
            const name = definition && this.customRoleName(definition);
            return name
                ? { name, reference: definition.urn }
                : { reference: "a role definition id unknown until the deployment runs", unnamedBecause: "its id is unknown during preview and comes from no role definition of the stack" };
        }
        if (id === undefined) {
            return { reference: "no role definition", unnamedBecause: "the assignment names no role definition" };
        }
        const guid = lastGuidSegment(id);
        const custom = this.roleDefinitionsById.get(id.toLowerCase()) ?? (guid ? this.roleDefinitionsById.get(guid) : undefined);
        const name = (custom && this.customRoleName(custom)) ?? (guid && this.catalog.azureRoleName(guid));
        return name
            ? { name, reference: id }
            : { reference: id, unnamedBecause: "it is neither an Azure built-in role nor a role definition of this stack" };
    }

    private customRoleName(definition: KindedResource): string | undefined {
        // azure-native calls it roleName; the classic provider calls it name.
        const name = this.string(definition, definition.kind === "azureRoleDefinition" ? "roleName" : "name", readNonEmptyString);
        return typeof name === "string" ? name : undefined;
    }

    private entraRoleOfAssignment(resource: KindedResource, property = "roleId"): RoleName {
        const roleId = this.string(resource, property, readNonEmptyString);
        if (typeof roleId === "string") {
            const role = this.catalog.entraRole(roleId);
            return role
                ? { name: role.name, entraPrivileged: role.privileged, reference: roleId, templateId: roleId.toLowerCase() }
                : { reference: roleId, unnamedBecause: "it is not an Entra built-in role template id (a custom directory role?)" };
        }
        if (roleId === UNKNOWN) {
            const directoryRole = this.dependency(resource, property, ["directoryRole"]);
            if (directoryRole) return this.entraRoleOfDirectoryRole(directoryRole);
        }
        return { reference: "an unknown directory role", unnamedBecause: "its role id is unknown and comes from no directory role of the stack" };
    }

    /**
     * Where an Entra role applies. Conditional Access targets roles only over the whole tenant
     * (https://learn.microsoft.com/entra/identity/conditional-access/concept-conditional-access-users-groups),
     * so a role scoped to an administrative unit or an app is marked, and an unknown scope stays unknown.
     */
    private directoryScopeOf(resource: KindedResource): DirectoryScope {
        const directoryScopeId = this.string(resource, "directoryScopeId", readNonEmptyString);
        if (typeof directoryScopeId === "string") return { directoryScopeId, tenantWide: directoryScopeId === "/" };
        const appScopeId = resource.kind === "directoryRoleAssignment" ? this.string(resource, "appScopeId", readNonEmptyString) : undefined;
        if (typeof appScopeId === "string") return { tenantWide: false };
        // The provider computes an unset scope, so a preview shows it unknown: only a scope that comes
        // from another resource (an administrative unit the stack creates) is really unknown.
        const fedBy = (property: string) => (resource.propertyDependencies[property] ?? []).length > 0;
        if ((directoryScopeId === UNKNOWN && fedBy("directoryScopeId")) || (appScopeId === UNKNOWN && fedBy("appScopeId"))) return { scopeUnknown: true };
        // Neither set: the provider assigns the role over the whole tenant.
        return { directoryScopeId: "/", tenantWide: true };
    }

    private entraRoleOfMember(resource: KindedResource): RoleName {
        const roleObjectId = this.string(resource, "roleObjectId", readNonEmptyString);
        const directoryRole =
            typeof roleObjectId === "string"
                ? this.directoryRolesByObjectId.get(roleObjectId.toLowerCase())
                : roleObjectId === UNKNOWN
                  ? this.dependency(resource, "roleObjectId", ["directoryRole"])
                  : undefined;
        if (directoryRole) return this.entraRoleOfDirectoryRole(directoryRole);
        return {
            reference: typeof roleObjectId === "string" ? roleObjectId : "an unknown directory role",
            unnamedBecause: "the directory role it adds to is not a DirectoryRole resource of this stack",
        };
    }

    private entraRoleOfDirectoryRole(directoryRole: KindedResource): RoleName {
        const templateId = this.string(directoryRole, "templateId", readNonEmptyString);
        const displayName = this.string(directoryRole, "displayName", readNonEmptyString);
        const byTemplate = typeof templateId === "string" ? this.catalog.entraRole(templateId) : undefined;
        const byName = typeof displayName === "string" ? this.catalog.entraRoleByName(displayName) : undefined;
        const name = byTemplate?.name ?? (typeof displayName === "string" ? displayName : undefined);
        const knownTemplateId = typeof templateId === "string" ? templateId.toLowerCase() : byName?.templateId;
        return name
            ? { name, entraPrivileged: (byTemplate ?? byName)?.privileged, reference: directoryRole.urn, templateId: knownTemplateId }
            : { reference: directoryRole.urn, unnamedBecause: "the directory role has neither a known template id nor a display name" };
    }

    /** The first resource of the given kinds that fed `property`. */
    private dependency(resource: KindedResource, property: string, kinds: ResourceKind[]): KindedResource | undefined {
        return (resource.propertyDependencies[property] ?? [])
            .map((urn) => this.byUrn.get(urn))
            .find((r): r is KindedResource => r !== undefined && kinds.includes(r.kind));
    }
}

function lastGuidSegment(id: string): string | undefined {
    const last = id.split("/").pop()?.toLowerCase();
    return last && GUID.test(last) ? last : undefined;
}

export function describeRole(role: Pick<HeldRole, "name" | "reference">): string {
    return role.name ? `'${role.name}'` : `the role ${role.reference}`;
}

export type { PropertyBag };
