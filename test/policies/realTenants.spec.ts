import * as assert from "node:assert/strict";
import { BUILT_IN_AUTHENTICATION_STRENGTHS, EmulatedConditionalAccessPolicy, FAULT_PATHS, GraphEmulator } from "../emulator/graphEmulator";
import {
    authenticationStrengthPolicy,
    AZURE_MANAGEMENT_APP_ID,
    AZURE_ROLE,
    conditionalAccessPolicy,
    directoryRoleAssignment,
    ENTRA_ROLE_TEMPLATE,
    group,
    groupMember,
    guidFrom,
    invitation,
    roleAssignment,
    stack,
    user,
} from "../fixtures/resources";
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
        const azureOnly = await runPack(emulator, resources, {
            config: { [MFA_POLICY]: { conditionalAccessApplications: [AZURE_MANAGEMENT_APP_ID] }, "entra-privileged-assignment-mfa-coverage": { conditionalAccessApplications: [AZURE_MANAGEMENT_APP_ID] } },
        });
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

    it("passes a new user the stack adds to a group outside it when a tenant policy includes that group", async () => {
        emulator.upsertGroup({ id: PLATFORM_GROUP_ID, displayName: "Platform", members: [] });
        emulator.setConditionalAccessPolicies([tenantPolicy("MFA for the platform team", { conditions: { users: { includeGroups: [PLATFORM_GROUP_ID] }, applications: { includeApplications: ["All"] } } })]);
        const newcomer = user({ name: "newcomer", preview: true });
        const run = await runPack(emulator, [stack(), newcomer, groupMember({ name: "newcomer-platform", group: PLATFORM_GROUP_ID, member: newcomer, preview: true })]);
        assert.deepEqual(run.stack, []);
    });

    it("does not count a policy narrowed by a beta-only condition (device code flow), read with its OData annotations", async () => {
        emulator.setConditionalAccessODataAnnotations(true);
        const deviceCodeOnly = tenantPolicy("MFA for device code sign-ins");
        emulator.setConditionalAccessPolicies([{ ...deviceCodeOnly, conditions: { ...deviceCodeOnly.conditions, authenticationFlows: { transferMethods: "deviceCodeFlow" } } }]);
        const run = await runPack(emulator, [stack(), ...readerIn("reader")]);
        const [violation] = run.of(MFA_POLICY);
        assert.match(violation?.message ?? "", /sign-ins through other authentication flows and authentication transfer are neither challenged nor blocked/);
        assert.match(violation.message, /'MFA for device code sign-ins' requires MFA only through the device code flow/);
    });

    describe("guests of many kinds", () => {
        const notForExternalMembers = tenantPolicy("MFA except external members", {
            conditions: {
                users: { includeUsers: ["All"], excludeGuestsOrExternalUsers: { guestOrExternalUserTypes: "b2bCollaborationMember", externalTenants: { "@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants", membershipKind: "all" } } },
                applications: { includeApplications: ["All"] },
            },
        });

        it("fails an invited external member under a policy that excludes B2B collaboration members, and passes an invited guest", async () => {
            emulator.setConditionalAccessPolicies([notForExternalMembers]);
            const member = invitation({ name: "partner-member", userType: "Member" });
            const guest = invitation({ name: "partner-guest" });
            for (const invited of [member, guest]) emulator.upsertUser(tenantUser(invited, "disabled"));
            const run = await runPack(emulator, [stack(), member, guest]);
            assert.deepEqual(run.of(MFA_POLICY).map((d) => d.urn), [member.urn]);
            assert.match(run.of(MFA_POLICY)[0].message, /'MFA except external members' excludes guests and external users of the user's kind/);
        });

        it("tells a local guest outside the stack from an invited one by its profile", async () => {
            const onlyInvited = tenantPolicy("MFA for B2B guests", {
                conditions: { users: { includeGuestsOrExternalUsers: { guestOrExternalUserTypes: "b2bCollaborationGuest", externalTenants: { membershipKind: "all" } as never } }, applications: { includeApplications: ["All"] } },
            });
            emulator.setConditionalAccessPolicies([onlyInvited]);
            const localGuest = { id: guidFrom("tenant-user:local-guest"), userPrincipalName: "local-guest@contoso.onmicrosoft.com", userType: "Guest", creationType: null, externalUserState: null, perUserMfaState: "disabled" };
            const invitedGuest = { id: guidFrom("tenant-user:invited-guest"), userPrincipalName: "partner_fabrikam.com#EXT#@contoso.onmicrosoft.com", userType: "Guest", creationType: "Invitation", externalUserState: "Accepted", perUserMfaState: "disabled" };
            [localGuest, invitedGuest].forEach((u) => emulator.upsertUser(u as never));
            const run = await runPack(emulator, [stack(), roleAssignment({ name: "local", principal: localGuest.id, role: AZURE_ROLE.Reader }), roleAssignment({ name: "invited", principal: invitedGuest.id, role: AZURE_ROLE.Reader })]);
            // The SDK puts the policy description on the first line; the pack's own first line follows.
            const flagged = run.of(MFA_POLICY).map((d) => d.message.split("\n")[1]);
            assert.deepEqual(flagged, ["User 'local-guest@contoso.onmicrosoft.com' has no MFA (non-privileged: holds 'Reader')"]);
        });

        it("does not fail a user outside the stack whose profile cannot be read: it may be disabled or a guest", async () => {
            emulator.setConditionalAccessPolicies([notForExternalMembers]);
            const outsider = { id: guidFrom("tenant-user:outsider"), userPrincipalName: "outsider@contoso.onmicrosoft.com", perUserMfaState: "disabled" };
            emulator.upsertUser(outsider);
            emulator.faults.inject({ kind: "status", status: 403, code: "Authorization_RequestDenied", path: FAULT_PATHS.userProfile });
            const run = await runPack(emulator, [stack(), roleAssignment({ name: "outsider", principal: outsider.id, role: AZURE_ROLE.Reader })]);
            assert.deepEqual(run.of(MFA_POLICY), []);
            const [diagnostic] = unverifiedUserDiagnostics(run);
            assert.match(diagnostic?.message ?? "", new RegExp(`User '${outsider.id}': MFA not verified`));
            assert.match(diagnostic.message, /whether the user is a guest, and of which kind, could not be read: .*HTTP 403.*User\.Read\.All/);
        });
    });

    describe("roles", () => {
        const forAdmins = tenantPolicy("MFA for Global Administrators", { conditions: { users: { includeRoles: [ENTRA_ROLE_TEMPLATE["Global Administrator"]] }, applications: { includeApplications: ["All"] } } });

        it("does not let a role scoped to an administrative unit satisfy a policy that includes the role", async () => {
            emulator.setConditionalAccessPolicies([forAdmins]);
            const scoped = user({ name: "unit-admin" });
            const tenantWide = user({ name: "global-admin" });
            for (const u of [scoped, tenantWide]) emulator.upsertUser(tenantUser(u, "disabled"));
            const run = await runPack(emulator, [
                stack(), scoped, tenantWide,
                directoryRoleAssignment({ name: "scoped", roleId: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal: scoped, directoryScopeId: `/administrativeUnits/${guidFrom("au:emea")}` }),
                directoryRoleAssignment({ name: "tenant-wide", roleId: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal: tenantWide }),
            ]);
            assert.deepEqual(run.of(PRIVILEGED_POLICY).map((d) => d.urn), [scoped.urn]);
        });

        it("counts a role the user is eligible for in the tenant (PIM) as one a policy's role exclusion reaches", async () => {
            emulator.setConditionalAccessPolicies([tenantPolicy("MFA except Global Administrators", { conditions: { users: { includeUsers: ["All"], excludeRoles: [ENTRA_ROLE_TEMPLATE["Global Administrator"]] }, applications: { includeApplications: ["All"] } } })]);
            const [reader, ...rest] = readerIn("eligible-reader");
            emulator.setRoleEligibilities(String(reader.outputs.objectId), [{ roleDefinitionId: ENTRA_ROLE_TEMPLATE["Global Administrator"], directoryScopeId: "/" }]);
            const run = await runPack(emulator, [stack(), reader, ...rest]);
            assert.match(run.of(MFA_POLICY)[0]?.message ?? "", /'MFA except Global Administrators' excludes a directory role the user holds or may activate/);
        });

        it("checks the members of a group outside the stack nested in a stack group that holds Owner, and never asks for the group as a user's MFA", async () => {
            const lead = { id: guidFrom("tenant-user:lead"), userPrincipalName: "lead@contoso.onmicrosoft.com", perUserMfaState: "disabled" };
            emulator.upsertUser(lead);
            const contractors = { id: guidFrom("tenant-group:contractors"), displayName: "Contractors", members: [lead.id] };
            emulator.upsertGroup(contractors);
            const admins = group({ name: "admins", displayName: "Admins", members: [contractors.id] });
            const run = await runPack(emulator, [stack(), admins, roleAssignment({ name: "admins-owner", principal: admins, principalType: "Group", role: AZURE_ROLE.Owner })]);
            const messages = run.of(PRIVILEGED_POLICY).map((d) => d.message);
            assert.equal(messages.length, 1, messages.join("\n"));
            assert.match(messages[0], /User 'lead@contoso.onmicrosoft.com' has no MFA \(privileged: holds 'Owner'\)/);
            assert.ok(!emulator.requests.some((r) => (r.subRequests ?? []).some((sub) => sub.url.includes(`${contractors.id}/authentication/requirements`))));
        });

        it("merges two User resources with the same object id into one user holding both roles", async () => {
            const twin = user({ name: "twin" });
            const copy = user({ name: "twin-copy", objectId: String(twin.outputs.objectId), upn: "twin@contoso.onmicrosoft.com" });
            emulator.upsertUser(tenantUser(twin, "disabled"));
            const run = await runPack(emulator, [stack(), twin, copy, roleAssignment({ name: "reader", principal: copy, role: AZURE_ROLE.Reader }), roleAssignment({ name: "owner", principal: twin, role: AZURE_ROLE.Owner })]);
            assert.deepEqual(run.of(MFA_POLICY), []);
            assert.equal(run.of(PRIVILEGED_POLICY).length, 1);
        });
    });

    it("sets aside an exemption whose expiry is not a calendar date, and says so once", async () => {
        const resources = [stack(), ...readerIn("reader")];
        const run = await runPack(emulator, resources, { config: { [MFA_POLICY]: { exemptions: [{ user: "reader@contoso.onmicrosoft.com", reason: "Emergency access", expires: "2027-02-30" }] } } });
        assert.equal(run.of(MFA_POLICY).length, 1);
        const errors = run.of(UNVERIFIED_POLICY).filter((d) => /Configuration error/.test(d.message));
        assert.equal(errors.length, 1);
        assert.match(errors[0].message, /exemption for 'reader@contoso.onmicrosoft.com' has expires '2027-02-30', which is not a calendar date/);
    });

    describe("custom authentication strengths named by id", () => {
        const customId = guidFrom("strength:contoso-passkeys");
        const byId = (id: string) => conditionalAccessPolicy({ name: "require-strength", displayName: "Require Contoso strength", authenticationStrengthPolicyId: `/policies/authenticationStrengthPolicies/${id}` });

        it("reads a strength the tenant defines from Graph, and counts it when every combination is multi-factor", async () => {
            emulator.upsertAuthenticationStrength({ id: customId, displayName: "Contoso passkeys", allowedCombinations: ["fido2", "password,softwareOath"] });
            const run = await runPack(emulator, [stack(), ...readerIn("reader"), byId(customId)]);
            assert.deepEqual(run.stack, []);
            assert.ok(emulator.requests.some((r) => (r.subRequests ?? []).some((sub) => sub.url.includes(`/policies/authenticationStrengthPolicies/${customId}`))));
        });

        it("leaves users unverified, naming Policy.Read.All once, when the strength cannot be read", async () => {
            emulator.upsertAuthenticationStrength({ id: customId, displayName: "Contoso passkeys", allowedCombinations: ["fido2"] });
            emulator.faults.inject({ kind: "status", status: 403, code: "Authorization_RequestDenied", path: FAULT_PATHS.authenticationStrengths });
            const run = await runPack(emulator, [stack(), ...readerIn("reader"), ...readerIn("writer"), byId(customId)]);
            assert.deepEqual(run.of(MFA_POLICY), []);
            const [shared, ...more] = sharedCauses(run);
            assert.deepEqual(more, []);
            assert.match(shared, new RegExp(`authentication strength ${customId} could not be read: .*HTTP 403.*Policy\\.Read\\.All`));
        });

        it("reads a strength the stack defines from the stack, asking Graph nothing about it", async () => {
            const strength = authenticationStrengthPolicy({ name: "passkeys", allowedCombinations: ["fido2", "windowsHelloForBusiness"] });
            const strengthId = String(strength.outputs.id).split("/").pop()!;
            const run = await runPack(emulator, [stack(), ...readerIn("reader"), strength, byId(strengthId)]);
            assert.deepEqual(run.stack, []);
            assert.ok(!emulator.requests.some((r) => (r.subRequests ?? []).some((sub) => sub.url.includes("/policies/authenticationStrengthPolicies/"))));
        });

        it("fails users under a stack strength that allows a single factor", async () => {
            const strength = authenticationStrengthPolicy({ name: "weak", displayName: "Password or SMS", allowedCombinations: ["password", "password,sms"] });
            const run = await runPack(emulator, [stack(), ...readerIn("reader"), strength, byId(String(strength.outputs.id).split("/").pop()!)]);
            assert.match(run.of(MFA_POLICY)[0]?.message ?? "", /'Require Contoso strength' \(in this stack\) requires the authentication strength '.*', which allows a single factor/);
        });
    });

    it("checks the members of a group outside the stack that a directory role assignment names", async () => {
        const lead = { id: guidFrom("tenant-user:helpdesk-lead"), userPrincipalName: "helpdesk-lead@contoso.onmicrosoft.com", perUserMfaState: "disabled" };
        emulator.upsertUser(lead);
        const helpdesk = { id: guidFrom("tenant-group:helpdesk"), displayName: "Helpdesk", members: [lead.id] };
        emulator.upsertGroup(helpdesk);
        const run = await runPack(emulator, [stack(), directoryRoleAssignment({ name: "helpdesk-admins", roleId: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal: helpdesk.id })]);
        const messages = run.of(PRIVILEGED_POLICY).map((d) => d.message);
        assert.equal(messages.length, 1, messages.join("\n"));
        assert.match(messages[0], /User 'helpdesk-lead@contoso.onmicrosoft.com' has no MFA \(privileged: holds 'Global Administrator'\)/);
    });
});
