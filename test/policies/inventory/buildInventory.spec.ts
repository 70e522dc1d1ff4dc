import * as assert from "node:assert/strict";
import { buildInventory } from "../../../policies/inventory/buildInventory";
import { Inventory, InventoryUser } from "../../../policies/inventory/types";
import { builtInRoleCatalog } from "../../../policies/roles/catalog";
import {
    AZURE_ROLE,
    classicAssignment,
    directoryRole,
    directoryRoleAssignment,
    directoryRoleMember,
    ENTRA_ROLE_TEMPLATE,
    group,
    groupMember,
    guidFrom,
    invitation,
    roleAssignment,
    roleDefinition,
    stack,
    storageAccount,
    TYPE,
    user,
} from "../../fixtures/resources";
import { StackResource } from "../../harness/stackResource";
import { snapshotsOf } from "../snapshots";

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
});
