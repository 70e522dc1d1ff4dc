import * as assert from "node:assert/strict";
import { FAULT_PATHS, GraphEmulator } from "../emulator/graphEmulator";
import { AZURE_ROLE, directoryRoleAssignment, ENTRA_ROLE_TEMPLATE, guidFrom, roleAssignment } from "../fixtures/resources";
import { StackResource } from "../harness";
import { emulatorPerSuite, runPack } from "./packUnderTest";

const POLICY = "entra-privileged-assignment-mfa-coverage";
const ALL_USERS_MFA = {
    id: guidFrom("ca:all"),
    displayName: "Require MFA for all users",
    state: "enabled" as const,
    conditions: { users: { includeUsers: ["All"] }, applications: { includeApplications: ["All"] } },
    grantControls: { operator: "OR" as const, builtInControls: ["mfa"] },
};

/** Analyze-time warnings on one role assignment, through the engine protocol. */
describe("entra-privileged-assignment-mfa-coverage, through the engine protocol", function () {
    this.timeout(60_000);
    let emulator!: GraphEmulator;
    emulatorPerSuite((started) => (emulator = started));
    const principal = guidFrom("user:someone");

    async function warningsFor(assignment: StackResource) {
        const run = await runPack(emulator, [assignment]);
        return run.analyze.filter((d) => d.policyName === POLICY);
    }

    it("warns, on the assignment, when it makes a user privileged and no tenant policy requires MFA of them", async () => {
        const assignment = roleAssignment({ name: "owner", principal, role: AZURE_ROLE.Owner });
        const warnings = await warningsFor(assignment);
        assert.equal(warnings.length, 1);
        assert.equal(warnings[0].urn, assignment.urn);
        assert.equal(warnings[0].enforcementLevel, "advisory");
        assert.match(warnings[0].message, new RegExp(`gives user ${principal} the privileged role 'Owner'`));
    });

    it("says nothing when an enabled tenant policy requires MFA for all users", async () => {
        emulator.setConditionalAccessPolicies([ALL_USERS_MFA]);
        assert.deepEqual(await warningsFor(roleAssignment({ name: "owner", principal, role: AZURE_ROLE.Owner })), []);
    });

    it("counts a tenant policy for the directory role the assignment gives", async () => {
        emulator.setConditionalAccessPolicies([
            { ...ALL_USERS_MFA, conditions: { users: { includeRoles: [ENTRA_ROLE_TEMPLATE["Global Administrator"]] }, applications: { includeApplications: ["All"] } } },
        ]);
        const admin = directoryRoleAssignment({ name: "ga", roleId: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal });
        assert.deepEqual(await warningsFor(admin), []);
    });

    it("says nothing of a role that is not privileged", async () => {
        assert.deepEqual(await warningsFor(roleAssignment({ name: "reader", principal, role: AZURE_ROLE.Reader })), []);
    });

    it("stays silent rather than guess when the tenant's policies cannot be read", async () => {
        emulator.faults.inject({ kind: "status", status: 403, path: FAULT_PATHS.conditionalAccessPolicies });
        assert.deepEqual(await warningsFor(roleAssignment({ name: "owner", principal, role: AZURE_ROLE.Owner })), []);
    });
});
