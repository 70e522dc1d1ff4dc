import * as assert from "node:assert/strict";
import { buildInventory } from "../../../policies/inventory/buildInventory";
import { Inventory, InventoryUser } from "../../../policies/inventory/types";
import { builtInRoleCatalog } from "../../../policies/roles/catalog";
import {
    AZURE_ROLE,
    classicAssignment,
    conditionalAccessPolicy,
    directoryRole,
    directoryRoleAssignment,
    directoryRoleEligibilityScheduleRequest,
    directoryRoleMember,
    ENTRA_ROLE_TEMPLATE,
    group,
    groupMember,
    guidFrom,
    invitation,
    outputOf,
    pimRoleEligibilitySchedule,
    roleAssignment,
    roleDefinition,
    roleEligibilityScheduleRequest,
    stack,
    storageAccount,
    TYPE,
    user,
} from "../../fixtures/resources";
import { StackResource, UNKNOWN } from "../../harness/stackResource";
import { snapshotOf, snapshotsOf } from "../snapshots";

function inventoryOf(...resources: StackResource[]): Inventory {
    return buildInventory(snapshotsOf(resources), builtInRoleCatalog);
}

function userNamed(inventory: Inventory, displayName: string): InventoryUser {
    const found = inventory.users.find((u) => u.displayName === displayName);
    assert.ok(found, `no user ${displayName} in ${inventory.users.map((u) => u.displayName).join(", ")}`);
    return found;
}

const roleNames = (u: InventoryUser) => u.roles.map((r) => r.name);
const problemsAbout = (inventory: Inventory, urn: string) => inventory.problems.filter((p) => p.urn === urn).map((p) => p.message);

/** Microsoft Entra "User Administrator" (entra-docs permissions-reference.md), labelled PRIVILEGED. */
const USER_ADMINISTRATOR_TEMPLATE = "fe930be7-5e62-47db-91af-98c3a49a38b1";
const ADMINISTRATIVE_UNIT_SCOPE = `/administrativeUnits/${guidFrom("au:berlin")}`;

describe("buildInventory", () => {
    const alice = user({ name: "alice" });
    const bob = user({ name: "bob" });

    it("lists a stack user with no role, with its object id and UPN", () => {
        const inventory = inventoryOf(stack(), alice);
        assert.equal(inventory.users.length, 1);
        const found = inventory.users[0];
        assert.equal(found.urn, alice.urn);
        assert.equal(found.objectId, alice.outputs.objectId);
        assert.equal(found.userPrincipalName, "alice@contoso.onmicrosoft.com");
        assert.deepEqual(found.roles, []);
        assert.equal(found.isNew, false);
        assert.equal(found.accountEnabled, true);
        assert.deepEqual(inventory.problems, []);
    });

    it("names a built-in Azure role given directly to a user", () => {
        const inventory = inventoryOf(alice, roleAssignment({ name: "alice-owner", principal: alice, role: AZURE_ROLE.Owner }));
        assert.deepEqual(roleNames(userNamed(inventory, "alice@contoso.onmicrosoft.com")), ["Owner"]);
    });

    it("reads role assignments of a versioned azure-native module", () => {
        const assignment = roleAssignment({ name: "a", principal: alice, role: AZURE_ROLE.Reader, type: TYPE.roleAssignmentV20220401 });
        assert.deepEqual(roleNames(inventoryOf(alice, assignment).users[0]), ["Reader"]);
    });

    it("gives a group's role to its members, through nested groups", () => {
        const inner = group({ name: "inner", members: [bob] });
        const outer = group({ name: "outer", members: [alice, inner] });
        const assignment = roleAssignment({ name: "outer-contrib", principal: outer, principalType: "Group", role: AZURE_ROLE.Contributor });
        const inventory = inventoryOf(alice, bob, inner, outer, assignment);
        for (const upn of ["alice@contoso.onmicrosoft.com", "bob@contoso.onmicrosoft.com"]) {
            const held = userNamed(inventory, upn).roles;
            assert.deepEqual(held.map((r) => [r.name, r.viaGroup]), [["Contributor", "outer"]]);
        }
    });

    it("walks a cycle of group memberships once", () => {
        const groupA = group({ name: "a", objectId: guidFrom("group:a"), members: [alice, guidFrom("group:b")] });
        const groupB = group({ name: "b", members: [groupA] });
        const assignment = roleAssignment({ name: "b-reader", principal: groupB, principalType: "Group", role: AZURE_ROLE.Reader });
        const inventory = inventoryOf(alice, groupA, groupB, assignment);
        assert.deepEqual(roleNames(userNamed(inventory, "alice@contoso.onmicrosoft.com")), ["Reader"]);
    });

    it("counts memberships made with GroupMember resources", () => {
        const admins = group({ name: "admins" });
        const membership = groupMember({ name: "bob-in-admins", group: admins, member: bob });
        const assignment = roleAssignment({ name: "admins-owner", principal: admins, principalType: "Group", role: AZURE_ROLE.Owner });
        assert.deepEqual(roleNames(userNamed(inventoryOf(bob, admins, membership, assignment), "bob@contoso.onmicrosoft.com")), ["Owner"]);
    });

    it("names a custom role from the stack's RoleDefinition", () => {
        const custom = roleDefinition({ name: "ops", roleName: "Ops Contributor" });
        const assignment = roleAssignment({ name: "alice-ops", principal: alice, role: custom });
        assert.deepEqual(roleNames(inventoryOf(alice, custom, assignment).users[0]), ["Ops Contributor"]);
    });

    it("names a custom role created in the same preview through propertyDependencies", () => {
        const custom = roleDefinition({ name: "ops", roleName: "Ops Contributor", preview: true });
        const assignment = roleAssignment({ name: "alice-ops", principal: alice, role: custom, preview: true });
        assert.deepEqual(roleNames(inventoryOf(alice, custom, assignment).users[0]), ["Ops Contributor"]);
    });

    it("reads classic-provider assignments by role name and by role id, under both type tokens", () => {
        const byName = classicAssignment({ name: "by-name", principal: alice, roleDefinitionName: "Data Lake Analytics Developer" });
        const byId = classicAssignment({ name: "by-id", principal: bob, role: AZURE_ROLE.Owner, type: TYPE.classicAssignmentLegacy });
        const inventory = inventoryOf(alice, bob, byName, byId);
        assert.deepEqual(roleNames(userNamed(inventory, "alice@contoso.onmicrosoft.com")), ["Data Lake Analytics Developer"]);
        assert.deepEqual(roleNames(userNamed(inventory, "bob@contoso.onmicrosoft.com")), ["Owner"]);
    });

    it("names Entra directory roles with Microsoft's privileged label", () => {
        const assignment = directoryRoleAssignment({ name: "alice-ga", roleId: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal: alice });
        const reader = directoryRole({ name: "global-reader", displayName: "Global Reader" });
        const member = directoryRoleMember({ name: "bob-reader", role: reader, member: bob });
        const inventory = inventoryOf(alice, bob, assignment, reader, member);
        const aliceRole = userNamed(inventory, "alice@contoso.onmicrosoft.com").roles[0];
        assert.equal(aliceRole.name, "Global Administrator");
        assert.equal(aliceRole.entraPrivileged, true);
        assert.equal(aliceRole.system, "entra-directory");
        assert.deepEqual(roleNames(userNamed(inventory, "bob@contoso.onmicrosoft.com")), ["Global Reader"]);
    });

    it("adds users outside the stack that a stack assignment points at", () => {
        const outsider = guidFrom("user:outsider");
        const inventory = inventoryOf(roleAssignment({ name: "outsider-reader", principal: outsider, role: AZURE_ROLE.Reader }));
        assert.equal(inventory.users.length, 1);
        assert.equal(inventory.users[0].objectId, outsider);
        assert.equal(inventory.users[0].urn, undefined);
        assert.deepEqual(roleNames(inventory.users[0]), ["Reader"]);
    });

    it("follows an unknown principal to the new user it comes from during preview", () => {
        const newUser = user({ name: "carol", preview: true });
        const assignment = roleAssignment({ name: "carol-reader", principal: newUser, role: AZURE_ROLE.Reader, preview: true });
        const inventory = inventoryOf(newUser, assignment);
        const carol = userNamed(inventory, "carol@contoso.onmicrosoft.com");
        assert.equal(carol.isNew, true);
        assert.equal(carol.objectId, undefined);
        assert.deepEqual(roleNames(carol), ["Reader"]);
        assert.deepEqual(inventory.problems, []);
    });

    it("ignores assignments to service principals", () => {
        const sp = guidFrom("sp");
        const inventory = inventoryOf(roleAssignment({ name: "sp-owner", principal: sp, principalType: "ServicePrincipal", role: AZURE_ROLE.Owner }));
        assert.deepEqual(inventory.users, []);
    });

    it("keeps a role it cannot name, saying why", () => {
        const unknownRole = guidFrom("role:not-built-in");
        const inventory = inventoryOf(alice, roleAssignment({ name: "mystery", principal: alice, role: unknownRole }));
        const held = inventory.users[0].roles[0];
        assert.equal(held.name, undefined);
        assert.match(held.reference, new RegExp(unknownRole));
        assert.match(held.unnamedBecause ?? "", /neither an Azure built-in role nor a role definition of this stack/);
    });

    it("reports a malformed principal id instead of guessing", () => {
        const assignment = roleAssignment({ name: "broken", principal: alice, role: AZURE_ROLE.Owner });
        assignment.outputs.principalId = 42;
        const inventory = inventoryOf(alice, assignment);
        assert.deepEqual(roleNames(inventory.users[0]), []);
        assert.equal(inventory.problems.length, 2);
        assert.match(inventory.problems[0].message, /'principalId' should be a string but is a number/);
        assert.equal(inventory.problems[0].urn, assignment.urn);
    });

    it("reads guests from invitations", () => {
        const guest = invitation({ name: "dave", email: "dave@fabrikam.com" });
        const found = inventoryOf(guest).users[0];
        assert.equal(found.isGuest, true);
        assert.equal(found.displayName, "dave@fabrikam.com");
        assert.equal(found.objectId, guest.outputs.userId);
    });

    it("ignores resource types it does not read", () => {
        const inventory = inventoryOf(stack(), storageAccount({ name: "logs" }), alice);
        assert.equal(inventory.users.length, 1);
        assert.deepEqual(inventory.problems, []);
    });

    it("reads a URN that appears twice once, and says so", () => {
        const inventory = inventoryOf(alice, alice);
        assert.equal(inventory.users.length, 1);
        assert.match(inventory.problems[0].message, /appears twice/);
    });
    describe("roles made eligible through Privileged Identity Management", () => {
        const eligibleRoles = (u: InventoryUser) => u.roles.map((r) => ({ name: r.name, system: r.system, eligible: r.eligible }));

        it("holds an Entra role requested by template id as eligible", () => {
            const request = directoryRoleEligibilityScheduleRequest({ name: "alice-ga", role: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal: alice });
            const inventory = inventoryOf(alice, request);
            const eligibleAlice = userNamed(inventory, "alice@contoso.onmicrosoft.com");
            const held = eligibleAlice.roles;
            assert.deepEqual(eligibleRoles(eligibleAlice), [{ name: "Global Administrator", system: "entra-directory", eligible: true }]);
            assert.equal(held[0].entraPrivileged, true);
            assert.equal(held[0].templateId, ENTRA_ROLE_TEMPLATE["Global Administrator"]);
            assert.equal(held[0].assignmentUrn, request.urn);
            assert.deepEqual(inventory.problems, []);
        });

        it("holds an Entra role requested through a DirectoryRole resource as eligible", () => {
            const role = directoryRole({ name: "pra", displayName: "Privileged Role Administrator" });
            const request = directoryRoleEligibilityScheduleRequest({ name: "bob-pra", role, principal: bob });
            const eligibleBob = userNamed(inventoryOf(bob, role, request), "bob@contoso.onmicrosoft.com");
            const held = eligibleBob.roles;
            assert.deepEqual(eligibleRoles(eligibleBob), [
                { name: "Privileged Role Administrator", system: "entra-directory", eligible: true },
            ]);
            assert.equal(held[0].templateId, ENTRA_ROLE_TEMPLATE["Privileged Role Administrator"]);
        });

        it("names an Entra role requested through a DirectoryRole created in the same preview", () => {
            const role = directoryRole({ name: "pra", displayName: "Privileged Role Administrator", preview: true });
            const request = directoryRoleEligibilityScheduleRequest({ name: "bob-pra", role, principal: bob, preview: true });
            const inventory = inventoryOf(bob, role, request);
            const eligibleBob = userNamed(inventory, "bob@contoso.onmicrosoft.com");
            const held = eligibleBob.roles;
            assert.deepEqual(eligibleRoles(eligibleBob), [
                { name: "Privileged Role Administrator", system: "entra-directory", eligible: true },
            ]);
            assert.equal(held[0].templateId, ENTRA_ROLE_TEMPLATE["Privileged Role Administrator"]);
            assert.deepEqual(inventory.problems, []);
        });

        it("holds an Azure role of a PimRoleEligibilitySchedule as eligible", () => {
            const schedule = pimRoleEligibilitySchedule({ name: "alice-owner", principal: alice, role: AZURE_ROLE.Owner });
            const inventory = inventoryOf(alice, schedule);
            assert.deepEqual(eligibleRoles(userNamed(inventory, "alice@contoso.onmicrosoft.com")), [{ name: "Owner", system: "azure-rbac", eligible: true }]);
            assert.deepEqual(inventory.problems, []);
        });

        it("holds a custom Azure role of a RoleEligibilityScheduleRequest as eligible", () => {
            const custom = roleDefinition({ name: "ops", roleName: "Ops Contributor" });
            const request = roleEligibilityScheduleRequest({ name: "bob-ops", principal: bob, role: custom });
            const inventory = inventoryOf(bob, custom, request);
            assert.deepEqual(eligibleRoles(userNamed(inventory, "bob@contoso.onmicrosoft.com")), [{ name: "Ops Contributor", system: "azure-rbac", eligible: true }]);
        });

        it("gives an eligible role of a group to its members", () => {
            const admins = group({ name: "admins", members: [alice] });
            const schedule = pimRoleEligibilitySchedule({ name: "admins-contributor", principal: admins, principalType: "Group", role: AZURE_ROLE.Contributor });
            const held = userNamed(inventoryOf(alice, admins, schedule), "alice@contoso.onmicrosoft.com").roles;
            assert.deepEqual(held.map((r) => [r.name, r.eligible, r.viaGroup]), [["Contributor", true, "admins"]]);
        });
    });

    it("gives Entra roles their template id, however they are assigned, and Azure roles none", () => {
        const assignment = directoryRoleAssignment({ name: "alice-ga", roleId: ENTRA_ROLE_TEMPLATE["Global Administrator"].toUpperCase(), principal: alice });
        const reader = directoryRole({ name: "global-reader", displayName: "Global Reader" });
        const member = directoryRoleMember({ name: "bob-reader", role: reader, member: bob });
        const owner = roleAssignment({ name: "bob-owner", principal: bob, role: AZURE_ROLE.Owner });
        const inventory = inventoryOf(alice, bob, assignment, reader, member, owner);
        const templates = (upn: string) => userNamed(inventory, upn).roles.map((r) => [r.name, r.templateId]);
        assert.deepEqual(templates("alice@contoso.onmicrosoft.com"), [["Global Administrator", ENTRA_ROLE_TEMPLATE["Global Administrator"]]]);
        assert.deepEqual(templates("bob@contoso.onmicrosoft.com"), [["Global Reader", ENTRA_ROLE_TEMPLATE["Global Reader"]], ["Owner", undefined]]);
    });

    it("lists the stack's groups with their users, through nested groups, and each user's groups", () => {
        const inner = group({ name: "inner", displayName: "Inner", members: [bob] });
        const outer = group({ name: "outer", displayName: "Outer", members: [alice, inner] });
        const empty = group({ name: "empty", displayName: "Empty" });
        const inventory = inventoryOf(alice, bob, inner, outer, empty);
        const refOf = (g: StackResource) => ({ urn: g.urn, objectId: g.outputs.objectId, displayName: g.outputs.displayName });
        assert.deepEqual(inventory.groups, [
            { ...refOf(inner), userKeys: [bob.urn] },
            { ...refOf(outer), userKeys: [alice.urn, bob.urn] },
            { ...refOf(empty), userKeys: [] },
        ]);
        assert.deepEqual(userNamed(inventory, "alice@contoso.onmicrosoft.com").stackGroups, [refOf(outer)]);
        assert.deepEqual(userNamed(inventory, "bob@contoso.onmicrosoft.com").stackGroups, [refOf(inner), refOf(outer)]);
    });

    it("lists a new group of the preview without an object id, with its members", () => {
        const admins = group({ name: "admins", members: [alice], preview: true });
        const inventory = inventoryOf(alice, admins);
        assert.deepEqual(inventory.groups, [{ urn: admins.urn, objectId: undefined, displayName: "admins", userKeys: [alice.urn] }]);
        assert.deepEqual(userNamed(inventory, "alice@contoso.onmicrosoft.com").stackGroups.map((g) => g.urn), [admins.urn]);
    });

    it("keeps the stack's Conditional Access policies as they came", () => {
        const requireMfa = conditionalAccessPolicy({ name: "require-mfa", excludedUsers: [bob] });
        const blockLegacy = conditionalAccessPolicy({ name: "block-legacy", builtInControls: ["block"], clientAppTypes: ["exchangeActiveSync", "other"] });
        const inventory = inventoryOf(alice, bob, requireMfa, storageAccount({ name: "logs" }), blockLegacy);
        assert.deepEqual(inventory.conditionalAccessPolicies, [snapshotOf(requireMfa), snapshotOf(blockLegacy)]);
        assert.deepEqual(inventory.problems, []);
    });

    it("keeps a role given to a group outside the stack for Graph to expand, not as a user", () => {
        const outsideGroup = guidFrom("group:outside");
        const assignment = roleAssignment({ name: "outside-owner", principal: outsideGroup, principalType: "Group", role: AZURE_ROLE.Owner });
        const inventory = inventoryOf(assignment);
        assert.deepEqual(inventory.users, []);
        assert.deepEqual(inventory.problems, []);
        assert.equal(inventory.outsideGroupGrants.length, 1);
        const grant = inventory.outsideGroupGrants[0];
        assert.equal(grant.groupObjectId, outsideGroup);
        assert.equal(grant.role.name, "Owner");
        assert.equal(grant.role.system, "azure-rbac");
        assert.equal(grant.role.assignmentUrn, assignment.urn);
    });

    describe("memberships in groups outside the stack", () => {
        const outsideGroup = guidFrom("group:outside-admins");

        it("records a stack user a GroupMember puts in an outside group, by lower-case object id", () => {
            const membership = groupMember({ name: "alice-in-outside", group: outsideGroup.toUpperCase(), member: alice });
            const inventory = inventoryOf(alice, bob, membership);
            assert.deepEqual(userNamed(inventory, "alice@contoso.onmicrosoft.com").outsideGroupIds, [outsideGroup]);
            assert.deepEqual(userNamed(inventory, "bob@contoso.onmicrosoft.com").outsideGroupIds, []);
            assert.deepEqual(inventory.problems, []);
        });

        it("records the outside group for every user of a stack group put in it, through nested groups", () => {
            const inner = group({ name: "inner", members: [bob] });
            const outer = group({ name: "outer", members: [alice, inner] });
            const membership = groupMember({ name: "outer-in-outside", group: outsideGroup, member: outer });
            const carol = user({ name: "carol" });
            const inventory = inventoryOf(alice, bob, carol, inner, outer, membership);
            assert.deepEqual(userNamed(inventory, "alice@contoso.onmicrosoft.com").outsideGroupIds, [outsideGroup]);
            assert.deepEqual(userNamed(inventory, "bob@contoso.onmicrosoft.com").outsideGroupIds, [outsideGroup]);
            assert.deepEqual(userNamed(inventory, "carol@contoso.onmicrosoft.com").outsideGroupIds, []);
        });

        it("records a user in the same outside group once, however many ways the stack puts it there", () => {
            const admins = group({ name: "admins", members: [alice] });
            const direct = groupMember({ name: "alice-in-outside", group: outsideGroup, member: alice });
            const viaGroup = groupMember({ name: "admins-in-outside", group: outsideGroup, member: admins });
            const other = groupMember({ name: "alice-in-other", group: guidFrom("group:other"), member: alice });
            const inventory = inventoryOf(alice, admins, direct, viaGroup, other);
            assert.deepEqual(userNamed(inventory, "alice@contoso.onmicrosoft.com").outsideGroupIds, [outsideGroup, guidFrom("group:other")]);
        });

        it("follows a new user of the preview into the outside group", () => {
            const carol = user({ name: "carol", preview: true });
            const membership = groupMember({ name: "carol-in-outside", group: outsideGroup, member: carol, preview: true });
            const inventory = inventoryOf(carol, membership);
            assert.deepEqual(userNamed(inventory, "carol@contoso.onmicrosoft.com").outsideGroupIds, [outsideGroup]);
            assert.deepEqual(inventory.problems, []);
        });

        it("adds no user for an outside principal put in an outside group", () => {
            const membership = groupMember({ name: "stranger-in-outside", group: outsideGroup, member: guidFrom("user:stranger") });
            const inventory = inventoryOf(membership);
            assert.deepEqual(inventory.users, []);
            assert.deepEqual(inventory.problems, []);
        });
    });

    describe("principals of unknown kind", () => {
        it("marks the stack's users and invitations as users", () => {
            const inventory = inventoryOf(alice, invitation({ name: "dave" }));
            assert.deepEqual(inventory.users.map((u) => u.principalKind), ["user", "user"]);
        });

        it("keeps an outside member of a stack group holding a role as a principal of unknown kind", () => {
            const nested = guidFrom("group:outside-nested");
            const admins = group({ name: "admins", members: [alice, nested] });
            const assignment = directoryRoleAssignment({ name: "admins-ga", roleId: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal: admins });
            const inventory = inventoryOf(alice, admins, assignment);
            const outside = inventory.users.find((u) => u.key === `objectId:${nested}`);
            assert.ok(outside);
            assert.equal(outside.principalKind, "unknown");
            assert.equal(outside.guestKind, "unknown");
            assert.deepEqual(outside.roles.map((r) => [r.name, r.viaGroup]), [["Global Administrator", "admins"]]);
            assert.equal(userNamed(inventory, "alice@contoso.onmicrosoft.com").principalKind, "user");
        });

        // The azure-native SDK sends principalType "User" when the program leaves it unset, so it proves nothing.
        it("does not trust principalType User on an Azure assignment", () => {
            const outsider = guidFrom("user:outsider");
            const assignment = roleAssignment({ name: "outsider-owner", principal: outsider, principalType: "User", role: AZURE_ROLE.Owner });
            assert.equal(assignment.inputs.principalType, "User");
            const inventory = inventoryOf(assignment);
            assert.deepEqual(inventory.users.map((u) => [u.objectId, u.principalKind]), [[outsider, "unknown"]]);
        });

        it("marks outside principals of Entra assignments, role members and eligibility requests as of unknown kind", () => {
            const [a, b, c] = ["a", "b", "c"].map((seed) => guidFrom(`principal:${seed}`));
            const reader = directoryRole({ name: "global-reader", displayName: "Global Reader" });
            const inventory = inventoryOf(
                directoryRoleAssignment({ name: "a-ga", roleId: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal: a }),
                reader,
                directoryRoleMember({ name: "b-reader", role: reader, member: b }),
                directoryRoleEligibilityScheduleRequest({ name: "c-pra", role: ENTRA_ROLE_TEMPLATE["Privileged Role Administrator"], principal: c }),
            );
            assert.deepEqual(inventory.users.map((u) => [u.objectId, u.principalKind]), [[a, "unknown"], [b, "unknown"], [c, "unknown"]]);
            assert.deepEqual(inventory.outsideGroupGrants, []);
        });

        it("keeps an outside principal declared Group out of the users", () => {
            const outsideGroup = guidFrom("group:outside");
            const classic = classicAssignment({ name: "outside-owner", principal: outsideGroup, principalType: "Group", roleDefinitionName: "Data Lake Analytics Developer" });
            const inventory = inventoryOf(classic);
            assert.deepEqual(inventory.users, []);
            assert.deepEqual(inventory.outsideGroupGrants.map((g) => g.groupObjectId), [outsideGroup]);
        });
    });

    describe("members that cannot be resolved", () => {
        // A storage account stands in for any resource that is no user or group, such as a service principal.
        const notAPrincipal = storageAccount({ name: "logs", preview: true });

        it("reports a stack group's unknown member that comes from no user or group of the stack, naming the group", () => {
            const admins = group({ name: "admins", displayName: "Admins", members: [alice, outputOf(notAPrincipal, "id")], preview: true });
            const inventory = inventoryOf(alice, notAPrincipal, admins);
            const messages = problemsAbout(inventory, admins.urn);
            assert.equal(messages.length, 1);
            assert.match(messages[0], /group 'Admins' has 1 member\(s\) unknown until the deployment runs/);
            assert.ok(messages[0].includes(notAPrincipal.urn));
            assert.deepEqual(inventory.groups[0].userKeys, [alice.urn]);
        });

        it("reports nothing when each unknown member is a new user or group of the stack", () => {
            const carol = user({ name: "carol", preview: true });
            const team = group({ name: "team", preview: true });
            const admins = group({ name: "admins", members: [alice, carol, team], preview: true });
            const inventory = inventoryOf(alice, carol, team, admins);
            assert.deepEqual(inventory.problems, []);
        });

        it("reports more unknown members than new users and groups feeding them", () => {
            const carol = user({ name: "carol", preview: true });
            const admins = group({ name: "admins", members: [carol, outputOf(carol, "mail")], preview: true });
            const inventory = inventoryOf(carol, admins);
            assert.equal(problemsAbout(inventory, admins.urn).length, 1);
            assert.match(problemsAbout(inventory, admins.urn)[0], /has 1 member\(s\) unknown/);
        });

        // The bridge may report a whole set as unknown in a preview when one element is.
        it("reads a wholly unknown member list from its dependencies, and reports one fed by something else", () => {
            const carol = user({ name: "carol", preview: true });
            const fromUsers = group({ name: "from-users", members: [carol], preview: true });
            fromUsers.outputs.members = UNKNOWN;
            const fromOther = group({ name: "from-other", members: [carol, outputOf(notAPrincipal, "id")], preview: true });
            fromOther.outputs.members = UNKNOWN;
            const inventory = inventoryOf(carol, notAPrincipal, fromUsers, fromOther);
            assert.deepEqual(inventory.groups.map((g) => g.userKeys), [[carol.urn], [carol.urn]]);
            assert.deepEqual(problemsAbout(inventory, fromUsers.urn), []);
            assert.equal(problemsAbout(inventory, fromOther.urn).length, 1);
            assert.match(problemsAbout(inventory, fromOther.urn)[0], /group 'from-other' has members unknown until the deployment runs/);
        });

        // The provider computes `members` when the program leaves it unset, so a preview shows it unknown.
        it("reports nothing for a new group whose members the program does not manage", () => {
            const team = group({ name: "team", preview: true });
            assert.equal(team.outputs.members, UNKNOWN);
            assert.deepEqual(inventoryOf(team).problems, []);
        });

        it("reports a GroupMember whose unknown member is no user or group of the stack, naming the group", () => {
            const admins = group({ name: "admins", displayName: "Admins" });
            const membership = groupMember({ name: "sp-in-admins", group: admins, member: outputOf(notAPrincipal, "id"), preview: true });
            const inventory = inventoryOf(admins, notAPrincipal, membership);
            const messages = problemsAbout(inventory, membership.urn);
            assert.equal(messages.length, 1);
            assert.match(messages[0], /adds a member the pack cannot identify to group 'Admins'/);
        });

        it("reports a GroupMember of an outside group whose unknown member is no user or group of the stack", () => {
            const outsideGroup = guidFrom("group:outside");
            const membership = groupMember({ name: "sp-in-outside", group: outsideGroup, member: outputOf(notAPrincipal, "id"), preview: true });
            const messages = problemsAbout(inventoryOf(notAPrincipal, membership), membership.urn);
            assert.equal(messages.length, 1);
            assert.ok(messages[0].includes(`to group ${outsideGroup}, which is not in the stack`));
        });

        it("reports a GroupMember whose group cannot be identified", () => {
            const unknownGroup = groupMember({ name: "alice-in-unknown", group: outputOf(notAPrincipal, "id"), member: alice, preview: true });
            const noGroup = groupMember({ name: "alice-in-nothing", group: guidFrom("group:x"), member: alice });
            delete noGroup.outputs.groupObjectId;
            const inventory = inventoryOf(alice, notAPrincipal, unknownGroup, noGroup);
            assert.match(problemsAbout(inventory, unknownGroup.urn).join("\n"), /adds a member to a group the pack cannot identify: its 'groupObjectId' is unknown/);
            assert.match(problemsAbout(inventory, noGroup.urn).join("\n"), /adds a member to a group the pack cannot identify: it has no 'groupObjectId'/);
            assert.deepEqual(userNamed(inventory, "alice@contoso.onmicrosoft.com").outsideGroupIds, []);
        });

        it("reports a GroupMember whose group is a user", () => {
            const membership = groupMember({ name: "bob-in-alice", group: alice, member: bob });
            assert.match(problemsAbout(inventoryOf(alice, bob, membership), membership.urn).join("\n"), /which is a user, not a group/);
        });
    });

    describe("two resources for one account", () => {
        it("merges users with the same object id, whatever its case, keeping the roles and groups of both", () => {
            const twin = user({ name: "alice-again", objectId: String(alice.outputs.objectId).toUpperCase() });
            const admins = group({ name: "admins", members: [twin] });
            const inventory = inventoryOf(
                alice,
                twin,
                admins,
                roleAssignment({ name: "alice-owner", principal: alice, role: AZURE_ROLE.Owner }),
                roleAssignment({ name: "twin-reader", principal: twin, role: AZURE_ROLE.Reader }),
                groupMember({ name: "twin-in-outside", group: guidFrom("group:outside"), member: twin }),
            );
            assert.equal(inventory.users.length, 1);
            const merged = inventory.users[0];
            assert.equal(merged.urn, alice.urn);
            assert.deepEqual(roleNames(merged), ["Owner", "Reader"]);
            assert.deepEqual(merged.stackGroups.map((g) => g.urn), [admins.urn]);
            assert.deepEqual(merged.outsideGroupIds, [guidFrom("group:outside")]);
            assert.deepEqual(inventory.groups[0].userKeys, [alice.urn]);
            const messages = problemsAbout(inventory, twin.urn);
            assert.equal(messages.length, 1);
            assert.ok(messages[0].includes(alice.urn));
            assert.match(messages[0], /read as one user/);
        });

        it("merges an invitation with a user of the same object id", () => {
            const guest = invitation({ name: "dave", userId: String(alice.outputs.objectId) });
            const inventory = inventoryOf(alice, guest, directoryRoleAssignment({ name: "dave-ga", roleId: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal: guest }));
            assert.equal(inventory.users.length, 1);
            assert.deepEqual(roleNames(inventory.users[0]), ["Global Administrator"]);
            assert.equal(problemsAbout(inventory, guest.urn).length, 1);
        });

        it("follows a dependency on the second resource to the merged user during preview", () => {
            const twin = user({ name: "alice-again", objectId: String(alice.outputs.objectId) });
            const admins = group({ name: "admins", members: [twin], preview: true });
            admins.outputs.members = UNKNOWN;
            const inventory = inventoryOf(alice, twin, admins);
            assert.deepEqual(inventory.groups[0].userKeys, [alice.urn]);
            assert.deepEqual(problemsAbout(inventory, admins.urn), []);
        });

        it("keeps users apart whose object ids are both unknown during preview", () => {
            const inventory = inventoryOf(user({ name: "carol", preview: true }), user({ name: "dan", preview: true }));
            assert.equal(inventory.users.length, 2);
            assert.deepEqual(inventory.problems, []);
        });
    });

    describe("directory scope of Entra roles", () => {
        const scopeOf = (u: InventoryUser) => u.roles.map((r) => ({ name: r.name, directoryScopeId: r.directoryScopeId, tenantWide: r.tenantWide, scopeUnknown: r.scopeUnknown }));

        it("marks a role assigned over the whole tenant", () => {
            const inventory = inventoryOf(alice, directoryRoleAssignment({ name: "alice-ga", roleId: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal: alice }));
            assert.deepEqual(scopeOf(inventory.users[0]), [{ name: "Global Administrator", directoryScopeId: "/", tenantWide: true, scopeUnknown: undefined }]);
        });

        it("marks a role scoped to an administrative unit, which stays privileged by name", () => {
            const assignment = directoryRoleAssignment({ name: "alice-ua", roleId: USER_ADMINISTRATOR_TEMPLATE, principal: alice, directoryScopeId: ADMINISTRATIVE_UNIT_SCOPE });
            const held = inventoryOf(alice, assignment).users[0].roles;
            assert.deepEqual(scopeOf({ roles: held } as InventoryUser), [{ name: "User Administrator", directoryScopeId: ADMINISTRATIVE_UNIT_SCOPE, tenantWide: false, scopeUnknown: undefined }]);
            assert.equal(held[0].entraPrivileged, true);
        });

        it("marks a role scoped to an app", () => {
            const assignment = directoryRoleAssignment({ name: "alice-app", roleId: USER_ADMINISTRATOR_TEMPLATE, principal: alice });
            assignment.outputs.directoryScopeId = "";
            assignment.outputs.appScopeId = `/${guidFrom("app:payroll")}`;
            assert.deepEqual(scopeOf(inventoryOf(alice, assignment).users[0]), [{ name: "User Administrator", directoryScopeId: undefined, tenantWide: false, scopeUnknown: undefined }]);
        });

        it("reads an unset scope of a new assignment, which the provider computes, as the whole tenant during preview", () => {
            const assignment = directoryRoleAssignment({ name: "alice-ga", roleId: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal: alice, preview: true });
            assert.equal(assignment.outputs.directoryScopeId, UNKNOWN);
            assert.deepEqual(scopeOf(inventoryOf(alice, assignment).users[0]), [{ name: "Global Administrator", directoryScopeId: "/", tenantWide: true, scopeUnknown: undefined }]);
        });

        it("keeps a scope unknown when another resource of the stack feeds it (a new administrative unit)", () => {
            const assignment = directoryRoleAssignment({ name: "alice-ga", roleId: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal: alice, preview: true });
            const fedByUnit = { ...assignment, propertyDependencies: { ...assignment.propertyDependencies, directoryScopeId: ["urn:pulumi:dev::identity::azuread:index/administrativeUnit:AdministrativeUnit::platform"] } };
            assert.deepEqual(scopeOf(inventoryOf(alice, fedByUnit).users[0]), [{ name: "Global Administrator", directoryScopeId: undefined, tenantWide: undefined, scopeUnknown: true }]);
        });

        it("keeps a scope given in the program during preview", () => {
            const assignment = directoryRoleAssignment({ name: "alice-ua", roleId: USER_ADMINISTRATOR_TEMPLATE, principal: alice, directoryScopeId: ADMINISTRATIVE_UNIT_SCOPE, preview: true });
            assert.deepEqual(scopeOf(inventoryOf(alice, assignment).users[0]).map((r) => r.tenantWide), [false]);
        });

        it("marks the scope of eligibility requests, and role members as tenant-wide", () => {
            const scoped = directoryRoleEligibilityScheduleRequest({ name: "alice-ua", role: USER_ADMINISTRATOR_TEMPLATE, principal: alice, directoryScopeId: ADMINISTRATIVE_UNIT_SCOPE });
            const tenant = directoryRoleEligibilityScheduleRequest({ name: "alice-ga", role: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal: alice });
            const reader = directoryRole({ name: "global-reader", displayName: "Global Reader" });
            const member = directoryRoleMember({ name: "alice-reader", role: reader, member: alice });
            const held = inventoryOf(alice, scoped, tenant, reader, member).users[0].roles;
            assert.deepEqual(held.map((r) => [r.name, r.eligible, r.tenantWide, r.directoryScopeId]), [
                ["User Administrator", true, false, ADMINISTRATIVE_UNIT_SCOPE],
                ["Global Administrator", true, true, "/"],
                ["Global Reader", undefined, true, "/"],
            ]);
        });

        it("gives a scoped role to the members of a group it is assigned to, scope and all", () => {
            const admins = group({ name: "admins", members: [alice] });
            const assignment = directoryRoleAssignment({ name: "admins-ua", roleId: USER_ADMINISTRATOR_TEMPLATE, principal: admins, directoryScopeId: ADMINISTRATIVE_UNIT_SCOPE });
            const held = userNamed(inventoryOf(alice, admins, assignment), "alice@contoso.onmicrosoft.com").roles;
            assert.deepEqual(held.map((r) => [r.viaGroup, r.tenantWide]), [["admins", false]]);
        });

        it("gives Azure roles no directory scope", () => {
            const held = inventoryOf(alice, roleAssignment({ name: "alice-owner", principal: alice, role: AZURE_ROLE.Owner })).users[0].roles;
            assert.deepEqual(scopeOf({ roles: held } as InventoryUser), [{ name: "Owner", directoryScopeId: undefined, tenantWide: undefined, scopeUnknown: undefined }]);
        });
    });

    describe("guest kind from the stack", () => {
        const guestKindOfOnly = (...resources: StackResource[]) => inventoryOf(...resources).users.map((u) => u.guestKind);

        it("calls a user the stack creates a member, known or still to be created", () => {
            assert.deepEqual(guestKindOfOnly(alice, user({ name: "carol", preview: true })), ["member", "member"]);
        });

        it("calls a stack user of userType Guest with no external identity an internal guest", () => {
            const found = inventoryOf(user({ name: "erin", userType: "Guest" })).users[0];
            assert.equal(found.guestKind, "internalGuest");
            assert.equal(found.isGuest, true);
        });

        // A guest brought under the stack with `pulumi import` keeps Graph's invitation fields.
        it("calls an imported invited guest a B2B collaboration guest", () => {
            const imported = user({ name: "frank", userType: "Guest", upn: `frank_fabrikam.com#EXT#@contoso.onmicrosoft.com` });
            imported.outputs.creationType = "Invitation";
            imported.outputs.externalUserState = "Accepted";
            assert.deepEqual(guestKindOfOnly(imported), ["b2bCollaborationGuest"]);
        });

        // Microsoft lets an internal account be invited to B2B collaboration; it keeps its UPN and creationType.
        it("reads each of the user's external-identity fields on its own", () => {
            const converted = user({ name: "hana" });
            converted.outputs.externalUserState = "PendingAcceptance";
            const signedUp = user({ name: "ivan", userType: "Guest" });
            signedUp.outputs.creationType = "SelfServiceSignUp";
            assert.deepEqual(guestKindOfOnly(converted, signedUp), ["b2bCollaborationMember", "b2bCollaborationGuest"]);
        });

        it("calls invitations B2B collaboration guests, or members when they ask for Member", () => {
            assert.deepEqual(guestKindOfOnly(invitation({ name: "dave" }), invitation({ name: "gina", userType: "Member" })), ["b2bCollaborationGuest", "b2bCollaborationMember"]);
        });

        it("cannot tell the kind of an invitation whose userType is unknown", () => {
            const guest = invitation({ name: "dave" });
            guest.outputs.userType = UNKNOWN;
            assert.deepEqual(guestKindOfOnly(guest), ["unknown"]);
        });

        it("leaves users outside the stack to Graph", () => {
            assert.deepEqual(guestKindOfOnly(roleAssignment({ name: "outsider-reader", principal: guidFrom("user:outsider"), role: AZURE_ROLE.Reader })), ["unknown"]);
        });
    });

    describe("regressions", () => {
        // PIM reports principalType "Group" on the schedule, as on a role assignment, but eligibility
        // grants are read without it, so an outside group's object id becomes a user Graph is asked about.
        it("keeps an eligible role given to a group outside the stack for Graph to expand, not as a user", () => {
            const outsideGroup = guidFrom("group:outside");
            const schedule = pimRoleEligibilitySchedule({ name: "outside-owner", principal: outsideGroup, principalType: "Group", role: AZURE_ROLE.Owner });
            const inventory = inventoryOf(schedule);
            assert.deepEqual(inventory.users, []);
            assert.deepEqual(inventory.outsideGroupGrants.map((g) => [g.groupObjectId, g.role.name, g.role.eligible]), [[outsideGroup, "Owner", true]]);
        });

        // Same gap for service principals: role assignments skip them, eligibility schedules do not.
        it("ignores an eligible role given to a service principal", () => {
            const sp = guidFrom("sp");
            const schedule = pimRoleEligibilitySchedule({ name: "sp-owner", principal: sp, principalType: "ServicePrincipal", role: AZURE_ROLE.Owner });
            assert.deepEqual(inventoryOf(schedule).users, []);
        });
    });
});
