import * as assert from "node:assert/strict";
import { FAULT_PATHS, GraphEmulator } from "../emulator/graphEmulator";
import {
    AZURE_ROLE,
    directoryRoleAssignment,
    directoryRoleEligibilityScheduleRequest,
    ENTRA_ROLE_TEMPLATE,
    group,
    guidFrom,
    pimRoleEligibilitySchedule,
    roleAssignment,
    stack,
    user,
} from "../fixtures/resources";
import { StackResource } from "../harness";
import { emulatorPerSuite, MFA_POLICY, PRIVILEGED_POLICY, runPack, tenantUser } from "./packUnderTest";

/** Runs through the engine protocol against the Graph emulator: the pack as `pulumi preview` runs it. */
describe("entra-privileged-user-mfa, through the engine protocol", function () {
    this.timeout(60_000);
    let emulator!: GraphEmulator;
    emulatorPerSuite((started) => (emulator = started));

    function inTenant(resource: StackResource, state: string | null | undefined): StackResource {
        emulator.upsertUser(tenantUser(resource, state));
        return resource;
    }

    it("fails a user eligible for Global Administrator through PIM, and says so", async () => {
        const eligibleAdmin = inTenant(user({ name: "eligible-ga" }), "disabled");
        const run = await runPack(emulator, [
            stack(),
            eligibleAdmin,
            directoryRoleEligibilityScheduleRequest({ name: "eligible-ga", role: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal: eligibleAdmin }),
        ]);
        assert.deepEqual(run.of(MFA_POLICY), []);
        const violations = run.of(PRIVILEGED_POLICY);
        assert.deepEqual(violations.map((d) => d.urn), [eligibleAdmin.urn]);
        assert.equal(violations[0].enforcementLevel, "mandatory");
        assert.match(violations[0].message, /privileged: holds 'Global Administrator'[\s\S]*Roles: 'Global Administrator' \(eligible through PIM\)/);
        assert.match(violations[0].message, /per-user MFA state is 'disabled'/);
    });

    it("fails a user eligible for the Azure Owner role through PIM, and says so", async () => {
        const eligibleOwner = inTenant(user({ name: "eligible-owner" }), "disabled");
        const run = await runPack(emulator, [
            stack(),
            eligibleOwner,
            pimRoleEligibilitySchedule({ name: "eligible-owner", principal: eligibleOwner, role: AZURE_ROLE.Owner }),
        ]);
        assert.deepEqual(run.of(MFA_POLICY), []);
        const violations = run.of(PRIVILEGED_POLICY);
        assert.deepEqual(violations.map((d) => d.urn), [eligibleOwner.urn]);
        assert.match(violations[0].message, /privileged: holds 'Owner'[\s\S]*Roles: 'Owner' \(eligible through PIM\)/);
    });

    it("passes a privileged user whose per-user MFA is enforced", async () => {
        const owner = inTenant(user({ name: "owner" }), "enforced");
        const run = await runPack(emulator, [stack(), owner, roleAssignment({ name: "owner", principal: owner, role: AZURE_ROLE.Owner })]);
        assert.deepEqual(run.stack, []);
        assert.equal(emulator.countRequests(FAULT_PATHS.mfaRequirements), 1);
    });

    it("passes a stack Global Administrator under a tenant policy requiring MFA for that directory role, but not an Azure Owner", async () => {
        const globalAdmin = inTenant(user({ name: "ga" }), "disabled");
        const owner = inTenant(user({ name: "owner" }), "disabled");
        emulator.setConditionalAccessPolicies([
            {
                id: guidFrom("ca:require-mfa-admins"),
                displayName: "Require MFA for admins",
                state: "enabled",
                conditions: { users: { includeRoles: [ENTRA_ROLE_TEMPLATE["Global Administrator"]] }, applications: { includeApplications: ["All"] } },
                grantControls: { builtInControls: ["mfa"] },
            },
        ]);
        const run = await runPack(emulator, [
            stack(),
            globalAdmin,
            owner,
            directoryRoleAssignment({ name: "ga", roleId: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal: globalAdmin }),
            roleAssignment({ name: "owner", principal: owner, role: AZURE_ROLE.Owner }),
        ]);
        const violations = run.of(PRIVILEGED_POLICY);
        // Directory-role conditions match Entra roles only; an Azure RBAC role is not one.
        assert.deepEqual(violations.map((d) => d.urn), [owner.urn]);
        assert.match(violations[0].message, /'Require MFA for admins' does not include the user/);
    });

    it("checks a user in a stack group nested in a group given Owner under the privileged rule", async () => {
        const developer = inTenant(user({ name: "developer" }), "disabled");
        const onCall = group({ name: "on-call", members: [developer] });
        const admins = group({ name: "admins", members: [onCall] });
        const run = await runPack(emulator, [
            stack(),
            developer,
            onCall,
            admins,
            roleAssignment({ name: "admins-owner", principal: admins, principalType: "Group", role: AZURE_ROLE.Owner }),
        ]);
        assert.deepEqual(run.of(MFA_POLICY), []);
        const violations = run.of(PRIVILEGED_POLICY);
        assert.deepEqual(violations.map((d) => d.urn), [developer.urn]);
        assert.match(violations[0].message, /'Owner' through group 'admins'/);
    });

    it("checks the transitive members of a group outside the stack given Owner under the privileged rule", async () => {
        const member = (name: string, perUserMfaState: string) => ({ id: guidFrom(`tenant-user:${name}`), userPrincipalName: `${name}@contoso.onmicrosoft.com`, perUserMfaState });
        const direct = member("platform-lead", "disabled");
        const nested = member("on-call-engineer", "disabled");
        const nestedWithMfa = member("on-call-senior", "enforced");
        [direct, nested, nestedWithMfa].forEach((u) => emulator.upsertUser(u));
        const onCall = { id: guidFrom("tenant-group:on-call"), displayName: "On-call", members: [nested.id, nestedWithMfa.id] };
        const platformAdmins = { id: guidFrom("tenant-group:platform-admins"), displayName: "Platform admins", members: [direct.id, onCall.id] };
        emulator.upsertGroup(onCall);
        emulator.upsertGroup(platformAdmins);
        const assignment = roleAssignment({ name: "platform-admins-owner", principal: platformAdmins.id, principalType: "Group", role: AZURE_ROLE.Owner });

        const run = await runPack(emulator, [stack(), assignment]);
        assert.deepEqual(run.of(MFA_POLICY), []);
        const violations = run.of(PRIVILEGED_POLICY);
        assert.equal(violations.length, 2, JSON.stringify(violations));
        assert.ok(violations.every((d) => d.urn === assignment.urn));
        for (const flagged of [direct, nested]) {
            const message = violations.find((d) => d.message.includes(`Object id: ${flagged.id}`))?.message;
            assert.ok(message, `${flagged.userPrincipalName} was not reported`);
            assert.match(message, /privileged: holds 'Owner'[\s\S]*Roles: 'Owner' through group/);
        }
        assert.equal(emulator.countRequests(FAULT_PATHS.transitiveMembers), 1);
    });

    it("moves a holder of an Entra role Microsoft labels PRIVILEGED to the privileged rule when useEntraPrivilegedLabel is on", async () => {
        const globalReader = inTenant(user({ name: "global-reader" }), "disabled");
        const resources = [
            stack(),
            globalReader,
            directoryRoleAssignment({ name: "global-reader", roleId: ENTRA_ROLE_TEMPLATE["Global Reader"], principal: globalReader }),
        ];
        const [byPattern, byLabel] = await Promise.all([
            runPack(emulator, resources),
            runPack(emulator, resources, { config: { [MFA_POLICY]: { useEntraPrivilegedLabel: true } } }),
        ]);
        assert.deepEqual(byPattern.of(MFA_POLICY).map((d) => d.urn), [globalReader.urn]);
        assert.deepEqual(byPattern.of(PRIVILEGED_POLICY), []);

        assert.deepEqual(byLabel.of(MFA_POLICY), []);
        assert.deepEqual(byLabel.of(PRIVILEGED_POLICY).map((d) => d.urn), [globalReader.urn]);
        assert.match(byLabel.of(PRIVILEGED_POLICY)[0].message, /privileged: holds 'Global Reader'/);
    });

    describe("guests and disabled accounts, the same in both rules", () => {
        /** A guest and a disabled account on each side of the privileged line, none with MFA. */
        function guestsAndDisabledAccounts() {
            const users = {
                guestReader: inTenant(user({ name: "guest-reader", userType: "Guest" }), "disabled"),
                guestOwner: inTenant(user({ name: "guest-owner", userType: "Guest" }), "disabled"),
                disabledReader: inTenant(user({ name: "disabled-reader", accountEnabled: false }), "disabled"),
                disabledOwner: inTenant(user({ name: "disabled-owner", accountEnabled: false }), "disabled"),
            };
            const resources = [
                stack(),
                ...Object.values(users),
                roleAssignment({ name: "guest-reader", principal: users.guestReader, role: AZURE_ROLE.Reader }),
                roleAssignment({ name: "guest-owner", principal: users.guestOwner, role: AZURE_ROLE.Owner }),
                roleAssignment({ name: "disabled-reader", principal: users.disabledReader, role: AZURE_ROLE.Reader }),
                roleAssignment({ name: "disabled-owner", principal: users.disabledOwner, role: AZURE_ROLE.Owner }),
            ];
            return { users, resources };
        }

        it("checks guests and skips disabled accounts by default", async () => {
            const { users, resources } = guestsAndDisabledAccounts();
            const run = await runPack(emulator, resources);
            assert.deepEqual(run.of(MFA_POLICY).map((d) => d.urn), [users.guestReader.urn]);
            assert.deepEqual(run.of(PRIVILEGED_POLICY).map((d) => d.urn), [users.guestOwner.urn]);
        });

        it("skips guests and checks disabled accounts when configured so", async () => {
            const { users, resources } = guestsAndDisabledAccounts();
            const run = await runPack(emulator, resources, { config: { [MFA_POLICY]: { includeGuests: false, includeDisabledAccounts: true } } });
            assert.deepEqual(run.of(MFA_POLICY).map((d) => d.urn), [users.disabledReader.urn]);
            assert.deepEqual(run.of(PRIVILEGED_POLICY).map((d) => d.urn), [users.disabledOwner.urn]);
        });
    });

    it("never says a user 'will be created' during an update, where every id is known", async () => {
        const reader = inTenant(user({ name: "reader" }), "disabled");
        const owner = inTenant(user({ name: "owner" }), "disabled");
        const run = await runPack(
            emulator,
            [
                stack(),
                reader,
                owner,
                roleAssignment({ name: "reader", principal: reader, role: AZURE_ROLE.Reader }),
                roleAssignment({ name: "owner", principal: owner, role: AZURE_ROLE.Owner }),
            ],
            { operation: "up" },
        );
        assert.deepEqual(run.of(MFA_POLICY).map((d) => d.urn), [reader.urn]);
        assert.deepEqual(run.of(PRIVILEGED_POLICY).map((d) => d.urn), [owner.urn]);
        const messages = [...run.analyze, ...run.stack].map((d) => d.message);
        assert.deepEqual(messages.filter((m) => /will be created|created by this deployment/.test(m)), []);
        assert.ok(messages.every((m) => !/^User /.test(m) || /has no multi-factor authentication/.test(m)), messages.join("\n"));
    });
});
