import * as assert from "node:assert/strict";
import { BUILT_IN_AUTHENTICATION_STRENGTHS, EmulatedConditionalAccessPolicy, FAULT_PATHS, GraphEmulator } from "../emulator/graphEmulator";
import { AZURE_MANAGEMENT_APP_ID, AZURE_ROLE, conditionalAccessPolicy, guidFrom, roleAssignment, stack, user } from "../fixtures/resources";
import { StackResource } from "../harness";
import { emulatorPerSuite, MFA_POLICY, PRIVILEGED_POLICY, runPack, sharedCauses, tenantUser, UNVERIFIED_POLICY, unverifiedUserDiagnostics } from "./packUnderTest";

const PER_USER_STATE = FAULT_PATHS.mfaRequirements;
const INTUNE_ENROLLMENT_APP_ID = "d4ebce55-015a-49b5-a083-c84d1797ae8c";
const PLATFORM_GROUP_ID = guidFrom("tenant-group:platform");

/** A tenant policy as Graph lists it, for all users and apps, granting access with MFA; `changes` replace parts. */
function tenantPolicy(name: string, changes: Partial<EmulatedConditionalAccessPolicy> & { clientAppTypes?: string[] } = {}): EmulatedConditionalAccessPolicy {
    const { clientAppTypes, ...rest } = changes;
    return {
        id: guidFrom(`ca:${name}`),
        displayName: name,
        state: "enabled",
        conditions: { users: { includeUsers: ["All"] }, applications: { includeApplications: ["All"] }, ...(clientAppTypes ? { clientAppTypes } : {}) },
        grantControls: { operator: "OR", builtInControls: ["mfa"] },
        ...rest,
    };
}

/**
 * How real tenants are configured, through the engine protocol: MFA split over several
 * policies, custom strengths, app scopes, unreadable memberships, preview unknowns. Each test
 * asserts the verdict `pulumi preview` shows and its message.
 */
describe("verdicts in tenants configured as real ones are, through the engine protocol", function () {
    this.timeout(60_000);
    let emulator!: GraphEmulator;
    emulatorPerSuite((started) => (emulator = started));

    /** A user of the stack that the tenant knows, with per-user MFA disabled: only Conditional Access can pass it. */
    function readerIn(name: string): StackResource[] {
        const reader = user({ name });
        emulator.upsertUser(tenantUser(reader, "disabled"));
        return [reader, roleAssignment({ name: `${name}-reader`, principal: reader, role: AZURE_ROLE.Reader })];
    }

    describe("MFA split over several policies", () => {
        const modernClients = tenantPolicy("Require MFA on browser and modern clients", { clientAppTypes: ["browser", "mobileAppsAndDesktopClients"] });
        const blockLegacy = tenantPolicy("Block legacy authentication", { clientAppTypes: ["exchangeActiveSync", "other"], grantControls: { operator: "OR", builtInControls: ["block"] } });

        it("passes a user when MFA on modern clients and a legacy-authentication block together leave no sign-in open", async () => {
            emulator.setConditionalAccessPolicies([modernClients, blockLegacy]);
            const run = await runPack(emulator, [stack(), ...readerIn("reader")]);
            assert.deepEqual(run.stack, []);
            assert.equal(emulator.countRequests(PER_USER_STATE), 0);
        });

        it("fails the user and names the clients left open when the block is report-only", async () => {
            emulator.setConditionalAccessPolicies([modernClients, { ...blockLegacy, state: "enabledForReportingButNotEnforced" }]);
            const run = await runPack(emulator, [stack(), ...readerIn("reader")]);
            const [violation, ...more] = run.of(MFA_POLICY);
            assert.deepEqual(more, []);
            assert.match(violation.message, /User 'reader@contoso.onmicrosoft.com' has no MFA \(non-privileged: holds 'Reader'\)/);
            assert.match(violation.message, /Conditional Access: sign-ins from Exchange ActiveSync and other clients are neither challenged nor blocked/);
            assert.match(violation.message, /'Require MFA on browser and modern clients' requires MFA only from browsers and mobile apps and desktop clients/);
            assert.match(violation.message, /'Block legacy authentication' is report-only/);
        });
    });

    it("passes a user under a custom authentication strength Graph shows as satisfying MFA", async () => {
        const custom = { ...BUILT_IN_AUTHENTICATION_STRENGTHS.multifactorAuthentication, id: guidFrom("strength:contoso"), displayName: "Contoso MFA", policyType: "custom" as const };
        emulator.setConditionalAccessPolicies([tenantPolicy("Require Contoso MFA", { grantControls: { operator: "OR", builtInControls: [], authenticationStrength: custom } })]);
        const run = await runPack(emulator, [stack(), ...readerIn("reader")]);
        assert.deepEqual(run.stack, []);
    });

    it("counts a policy on all apps that excludes an unrelated app when only Azure management is accepted", async () => {
        emulator.setConditionalAccessPolicies([tenantPolicy("MFA except Intune Enrollment", { conditions: { users: { includeUsers: ["All"] }, applications: { includeApplications: ["All"], excludeApplications: [INTUNE_ENROLLMENT_APP_ID] } } })]);
        const resources = [stack(), ...readerIn("reader")];
        const azureOnly = await runPack(emulator, resources, { config: { [MFA_POLICY]: { conditionalAccessApplications: [AZURE_MANAGEMENT_APP_ID] } } });
        assert.deepEqual(azureOnly.stack, []);
        const everyApp = await runPack(emulator, resources);
        assert.match(everyApp.of(MFA_POLICY)[0]?.message ?? "", new RegExp(`sign-ins to ${INTUNE_ENROLLMENT_APP_ID} are neither challenged nor blocked`));
    });

    it("leaves users unverified, not failed, when a policy names a group and Graph denies their memberships, saying the cause and permission once", async () => {
        emulator.setConditionalAccessPolicies([tenantPolicy("MFA for the platform team", { conditions: { users: { includeGroups: [PLATFORM_GROUP_ID] }, applications: { includeApplications: ["All"] } } })]);
        emulator.faults.inject({ kind: "status", status: 403, path: FAULT_PATHS.transitiveMemberOf });
        const owner = user({ name: "owner" });
        emulator.upsertUser(tenantUser(owner, "disabled"));
        const run = await runPack(emulator, [stack(), ...readerIn("reader"), owner, roleAssignment({ name: "owner", principal: owner, role: AZURE_ROLE.Owner })]);
        assert.deepEqual(run.of(MFA_POLICY), []);
        assert.deepEqual(run.of(PRIVILEGED_POLICY), []);
        const [shared, ...more] = sharedCauses(run);
        assert.deepEqual(more, []);
        assert.match(shared, /Could not verify MFA for 2 users \(cause 1\):\n  the user's group and role memberships could not be read: .*HTTP 403.*GroupMember\.Read\.All/);
        const users = unverifiedUserDiagnostics(run);
        assert.equal(users.length, 2);
        // The privileged user's line says which rule it is under, as failures do.
        assert.match(users.find((d) => d.message.includes("owner@"))!.message, /User 'owner@contoso.onmicrosoft.com': MFA not verified \(privileged: holds 'Owner'\)/);
        assert.ok(run.of(UNVERIFIED_POLICY).every((d) => d.message.split("\n")[1].length <= 140 || !/^User /.test(d.message.split("\n")[1])));
    });

    describe("stack policies during preview", () => {
        it("checks every other user under a stack policy whose only unknown exclusion is a new break-glass user", async () => {
            const breakGlass = user({ name: "breakglass", preview: true });
            const policy = conditionalAccessPolicy({ name: "require-mfa", displayName: "Require MFA (stack)", includedUsers: ["All"], excludedUsers: [breakGlass], preview: true });
            const run = await runPack(emulator, [stack(), ...readerIn("reader"), breakGlass, policy]);
            // The reader is covered by the stack policy; only the excluded new user is flagged.
            assert.deepEqual(run.of(MFA_POLICY).map((d) => d.urn), [breakGlass.urn]);
            assert.match(run.of(MFA_POLICY)[0].message, /'Require MFA \(stack\)' \(in this stack\) excludes the user \(created by this deployment\)/);
            assert.deepEqual(run.of(UNVERIFIED_POLICY), []);
        });
    });
});
