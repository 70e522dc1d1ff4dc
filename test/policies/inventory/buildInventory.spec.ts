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
    pimRoleEligibilitySchedule,
    roleAssignment,
    roleDefinition,
    roleEligibilityScheduleRequest,
    stack,
    storageAccount,
    TYPE,
    user,
} from "../../fixtures/resources";
import { StackResource } from "../../harness/stackResource";
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
