import * as assert from "node:assert/strict";
import { ConditionalAccessPolicy, conditionalAccessPolicyFromStack, NO_STACK_REFERENCES } from "../../../policies/evidence/conditionalAccess";
import { conditionalAccessCoverage, UserFacts } from "../../../policies/evidence/coverage";
import { buildInventory } from "../../../policies/inventory/buildInventory";
import { Inventory } from "../../../policies/inventory/types";
import { builtInRoleCatalog } from "../../../policies/roles/catalog";
import { AZURE_ROLE, conditionalAccessPolicy, group, roleAssignment, stack, user } from "../../fixtures/resources";
import { StackResource } from "../../harness/stackResource";
import { snapshotOf, snapshotsOf } from "../snapshots";

/** A resource as `pulumi policy analyze` sends it when the export's secrets could not be decrypted. */
function withUndecryptable(resource: StackResource, ...properties: string[]): StackResource {
    const outputs = { ...resource.outputs };
    for (const property of properties) outputs[property] = "[secret]";
    return { ...resource, outputs };
}

function inventoryOf(...resources: StackResource[]): Inventory {
    return buildInventory(snapshotsOf(resources), builtInRoleCatalog);
}

describe("buildInventory with secrets that could not be decrypted", () => {
    const alice = user({ name: "alice" });

    it("names a user whose UPN is secret by resource name and object id, and says why", () => {
        const inventory = inventoryOf(stack(), withUndecryptable(alice, "userPrincipalName"));
        const [found] = inventory.users;
        assert.equal(found.userPrincipalName, undefined);
        assert.equal(found.displayName, "alice");
        assert.equal(found.objectId, alice.outputs.objectId);
        assert.equal(found.isNew, false);
        assert.deepEqual(inventory.problems, [{ urn: alice.urn, message: "cannot be read: property 'userPrincipalName' is secret and could not be decrypted" }]);
    });

    it("does not take a secret object id for an id, nor for a user created by this deployment", () => {
        const inventory = inventoryOf(withUndecryptable(alice, "objectId"));
        const [found] = inventory.users;
        assert.equal(found.objectId, undefined);
        assert.equal(found.isNew, false);
        assert.deepEqual(inventory.problems.map((p) => p.message), ["cannot be read: property 'objectId' is secret and could not be decrypted"]);
    });

    it("does not give a role to a principal whose id is secret, and says so on the assignment", () => {
        const assignment = withUndecryptable(roleAssignment({ name: "alice-owner", principal: alice, role: AZURE_ROLE.Owner }), "principalId");
        const inventory = inventoryOf(alice, assignment);
        assert.deepEqual(inventory.users[0].roles, []);
        assert.deepEqual(inventory.problems.map((p) => p.urn), [assignment.urn, assignment.urn]);
        assert.match(inventory.problems[0].message, /'principalId' is secret and could not be decrypted/);
    });

    it("reads nothing from a group whose member list holds a secret, and says so", () => {
        const admins = group({ name: "admins", members: [alice] });
        const secretMembers = { ...admins, outputs: { ...admins.outputs, members: ["[secret]"] } };
        const inventory = inventoryOf(alice, secretMembers, roleAssignment({ name: "admins-owner", principal: admins, role: AZURE_ROLE.Owner }));
        assert.deepEqual(inventory.users[0].roles, []);
        assert.deepEqual(inventory.problems.map((p) => p.message), ["cannot be read: an element of property 'members' is secret and could not be decrypted"]);
    });
});

describe("conditionalAccessPolicyFromStack with secrets that could not be decrypted", () => {
    const alice = user({ name: "alice" });
    const facts: UserFacts = {
        objectId: String(alice.outputs.objectId),
        stackUrns: new Set([alice.urn]),
        guestKind: "member",
        groupIds: new Set(),
        roleTemplateIds: new Set(),
        eligibleRoleTemplateIds: new Set(),
        groupNames: new Map(),
    };

    /** "Require MFA" for all users, all apps, with `change` applied to its outputs. */
    function requireMfa(change: (outputs: Record<string, any>) => void = () => {}): ConditionalAccessPolicy {
        const resource = conditionalAccessPolicy({ name: "require-mfa", displayName: "Require MFA" });
        const outputs = structuredClone(resource.outputs) as Record<string, any>;
        change(outputs);
        return conditionalAccessPolicyFromStack(snapshotOf({ ...resource, outputs }), NO_STACK_REFERENCES);
    }

    const verdictFor = (policy: ConditionalAccessPolicy) => conditionalAccessCoverage([policy], { acceptedApplications: ["All"] })(facts).kind;

    it("covers the user when nothing is secret (the baseline the next cases change)", () => {
        assert.equal(verdictFor(requireMfa()), "covered");
    });

    it("cannot tell whether a policy whose excluded users hold a secret covers the user, who may be the one excluded", () => {
        const policy = requireMfa((outputs) => (outputs.conditions.users.excludedUsers = ["[secret]"]));
        assert.ok(policy.exclude.users.unknown);
        assert.equal(verdictFor(policy), "unknown");
    });

    it("cannot tell whether a policy whose state or grant is secret covers anyone", () => {
        assert.equal(requireMfa((outputs) => (outputs.state = "[secret]")).state, undefined);
        assert.equal(verdictFor(requireMfa((outputs) => (outputs.state = "[secret]"))), "unknown");
        assert.equal(verdictFor(requireMfa((outputs) => (outputs.grantControls = "[secret]"))), "unknown");
    });
});
