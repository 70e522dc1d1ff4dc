import * as assert from "node:assert/strict";
import { FAULT_PATHS, GraphEmulator } from "../emulator/graphEmulator";
import { AZURE_ROLE, directoryRoleAssignment, ENTRA_ROLE_TEMPLATE, guidFrom, roleAssignment, user } from "../fixtures/resources";
import { StackResource } from "../harness";
import { askedUrls, emulatorPerSuite, runPack, tenantUser } from "./packUnderTest";

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

    async function warningsFor(assignment: StackResource, config?: Record<string, unknown>) {
        const run = await runPack(emulator, [assignment], config ? { config: { [POLICY]: config } as never } : {});
        return run.analyze.filter((d) => d.policyName === POLICY);
    }

    /** The assignment's user exists in the tenant, with per-user MFA in the given state. */
    function inTenant(perUserMfaState: string): void {
        emulator.upsertUser({ id: principal, userPrincipalName: "someone@contoso.onmicrosoft.com", perUserMfaState });
    }

    it("warns, on the assignment, when it makes a user privileged and no evidence shows MFA for them, naming the user by UPN", async () => {
        inTenant("disabled");
        const assignment = roleAssignment({ name: "owner", principal, role: AZURE_ROLE.Owner });
        const warnings = await warningsFor(assignment);
        assert.equal(warnings.length, 1);
        assert.equal(warnings[0].urn, assignment.urn);
        assert.equal(warnings[0].enforcementLevel, "advisory");
        assert.match(warnings[0].message, /gives user 'someone@contoso.onmicrosoft.com' a privileged role without MFA \(privileged: holds 'Owner'\)/);
        assert.match(warnings[0].message, /per-user MFA state is 'disabled'/);
    });

    it("reads a user of the stack from its inputs, matched by name, not asking Graph who the assignment's principal is", async () => {
        const carol = user({ name: "carol" });
        emulator.upsertUser(tenantUser(carol, "disabled"));
        const assignment = roleAssignment({ name: "carol-owner", principal: carol, role: AZURE_ROLE.Owner });
        const run = await runPack(emulator, [carol, assignment]);
        const warnings = run.analyze.filter((d) => d.policyName === POLICY);
        assert.equal(warnings.length, 1);
        assert.match(warnings[0].message, new RegExp(`gives user '${String(carol.inputs.userPrincipalName)}' a privileged role without MFA`));
        const profileReads = askedUrls(emulator).filter((url) => /^\/users\/[^/?]+\?\$select=/.test(url));
        assert.deepEqual(profileReads, []);
        assert.ok(askedUrls(emulator).some((url) => url.startsWith("/users?$filter=")), askedUrls(emulator).join("\n"));
    });

    it("says nothing of a user whose per-user MFA is enforced: it uses the stack rules' evidence", async () => {
        inTenant("enforced");
        assert.deepEqual(await warningsFor(roleAssignment({ name: "owner", principal, role: AZURE_ROLE.Owner })), []);
    });

    it("follows the configured privilegedRolePatterns, as the stack rules do", async () => {
        inTenant("disabled");
        const contributor = roleAssignment({ name: "contributor", principal, role: AZURE_ROLE.Contributor });
        assert.equal((await warningsFor(contributor)).length, 1);
        assert.deepEqual(await warningsFor(contributor, { privilegedRolePatterns: ["Owner"] }), []);
    });

    it("says once when its settings differ from the stack rules', since Pulumi configures each policy apart", async () => {
        inTenant("enforced");
        const assignment = roleAssignment({ name: "owner", principal, role: AZURE_ROLE.Owner });
        const differing = await runPack(emulator, [assignment], { config: { [POLICY]: { privilegedRolePatterns: ["Owner"] } } as never });
        const notes = differing.stack.filter((d) => /ran with settings that differ/.test(d.message));
        assert.equal(notes.length, 1);
        assert.match(notes[0].message, /entra-privileged-assignment-mfa-coverage ran with settings that differ from entra-non-privileged-user-mfa's: privilegedRolePatterns\./);
        const same = await runPack(emulator, [assignment], { config: { [POLICY]: { privilegedRolePatterns: ["Owner"] }, "entra-non-privileged-user-mfa": { privilegedRolePatterns: ["Owner"] } } as never });
        assert.deepEqual(same.stack.filter((d) => /ran with settings that differ/.test(d.message)), []);
    });

    it("stays silent when it cannot know: a user the tenant does not answer for", async () => {
        assert.deepEqual(await warningsFor(roleAssignment({ name: "owner", principal, role: AZURE_ROLE.Owner })), []);
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
        inTenant("disabled");
        assert.deepEqual(await warningsFor(roleAssignment({ name: "reader", principal, role: AZURE_ROLE.Reader })), []);
    });

    it("stays silent rather than guess when the tenant's policies cannot be read", async () => {
        inTenant("disabled");
        emulator.faults.inject({ kind: "status", status: 403, path: FAULT_PATHS.conditionalAccessPolicies });
        assert.deepEqual(await warningsFor(roleAssignment({ name: "owner", principal, role: AZURE_ROLE.Owner })), []);
    });
});

describe("entra-privileged-assignment-mfa-coverage on a large stack", function () {
    this.timeout(120_000);
    let emulator!: GraphEmulator;
    emulatorPerSuite((started) => (emulator = started));

    it("holds the engine's Analyze calls for Graph no longer than its bank in all, however many assignments wait", async () => {
        const assignments = Array.from({ length: 12 }, (_, i) => {
            const id = guidFrom(`user:slow-${i}`);
            emulator.upsertUser({ id, userPrincipalName: `slow-${i}@contoso.onmicrosoft.com`, perUserMfaState: "disabled" });
            return roleAssignment({ name: `owner-${i}`, principal: id, role: AZURE_ROLE.Owner });
        });
        // Every per-user answer takes 1.5 s: a wait per assignment would hold Analyze for 18 s or more.
        emulator.faults.inject({ kind: "delay", ms: 1_500, path: "/beta/$batch", subRequestPath: FAULT_PATHS.mfaRequirements });
        const started = Date.now();
        const run = await runPack(emulator, assignments, { config: { "entra-non-privileged-user-mfa": { verificationBudgetSeconds: 10 } } as never });
        const elapsed = Date.now() - started;
        // 1 s of bank, the stack rules' own round trips, and the pack's start; far below 12 × 1.5 s.
        assert.ok(elapsed < 10_000, `the preview took ${elapsed} ms`);
        assert.equal(run.of("entra-privileged-user-mfa").length, 12);
    });
});
