import * as assert from "node:assert/strict";
import { PERMISSIONS } from "../../policies/graph/graphReads";
import { graphMfaEvidence, MfaEvidence } from "../../policies/graph/mfaEvidence";
import { accessToken, callEmulator } from "./emulatorClient";
import { emulatorTransport } from "./emulatorTransport";
import {
    BUILT_IN_AUTHENTICATION_STRENGTHS,
    EmulatedConditionalAccessPolicy,
    EmulatedGroup,
    EmulatedUser,
    FAULT_PATHS,
    GraphEmulator,
    startGraphEmulator,
} from "./graphEmulator";

const GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10";
const PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814";
const AU_SCOPE = "/administrativeUnits/7f000000-0000-4000-8000-000000000001";

const ALICE: EmulatedUser = { id: "2a000000-0000-4000-8000-0000000000a1", userPrincipalName: "alice@contoso.example" };
const GUEST: EmulatedUser = {
    id: "2a000000-0000-4000-8000-0000000000a2",
    userPrincipalName: "bob_fabrikam.example#EXT#@contoso.example",
    userType: "Guest",
    accountEnabled: true,
    creationType: "Invitation",
    externalUserState: "Accepted",
    identities: [{ signInType: "federated", issuer: "ExternalAzureAD" }],
};
const TEAM: EmulatedGroup = { id: "3b000000-0000-4000-8000-0000000000a1", displayName: "Team", members: [ALICE.id] };
const ADMINS: EmulatedGroup = { id: "3b000000-0000-4000-8000-0000000000a2", displayName: "Admins", members: [TEAM.id], isAssignableToRole: true };
const CUSTOM_STRENGTH = { id: "6e000000-0000-4000-8000-0000000000a1", displayName: "Password and SMS", requirementsSatisfied: "none" as const, allowedCombinations: ["password,sms"] };

/** Three policies over pages of two; the first narrowed by a condition only beta lists. */
const POLICIES: EmulatedConditionalAccessPolicy[] = Array.from({ length: 3 }, (_, i) => ({
    id: `5d000000-0000-4000-8000-0000000000a${i}`,
    displayName: `Policy ${i}`,
    state: "enabled",
    conditions: {
        users: { includeUsers: ["All"] },
        applications: { includeApplications: ["All"] },
        ...(i === 0 ? { devices: { includeDevices: ["All"], excludeDevices: ["Compliant"] } } : {}),
    },
    grantControls: { builtInControls: ["mfa"] },
}));

/** `graphMfaEvidence` wired to the emulator through its loopback endpoint. */
describe("graphMfaEvidence against the emulator", () => {
    let emulator: GraphEmulator;
    let evidence: MfaEvidence;
    const soon = () => ({ deadline: Date.now() + 30_000 });

    before(async () => {
        emulator = await startGraphEmulator({
            users: [ALICE, GUEST],
            groups: [TEAM, ADMINS],
            directoryRoles: [{ templateId: GLOBAL_ADMINISTRATOR, displayName: "Global Administrator", members: [ADMINS.id] }],
            conditionalAccessPolicies: POLICIES,
            conditionalAccessODataAnnotations: true,
            authenticationStrengths: [CUSTOM_STRENGTH],
            roleEligibilities: [
                { principalId: ALICE.id, roleDefinitionId: GLOBAL_ADMINISTRATOR },
                { principalId: ALICE.id, roleDefinitionId: PRIVILEGED_ROLE_ADMINISTRATOR, directoryScopeId: AU_SCOPE },
                { principalId: ALICE.id, roleDefinitionId: "f2ef992c-3afb-46b9-b7cf-a126ee74c451" },
            ],
            pageSize: 2,
        });
    });

    beforeEach(() => {
        // A fresh evidence object per test: its answers are kept for the run.
        evidence = graphMfaEvidence({ env: { ENTRA_MFA_GUARD_GRAPH_ENDPOINT: emulator.url }, transportFor: () => emulatorTransport(emulator) });
    });

    afterEach(() => emulator.reset());

    after(async () => {
        await emulator.close();
    });

    it("reads the policies from beta across pages exactly as served, annotations and beta-only conditions included", async () => {
        const token = await accessToken(emulator);
        const first = (await callEmulator(emulator, "GET", "/beta/identity/conditionalAccess/policies", { token })).json();
        const second = (await callEmulator(emulator, "GET", first["@odata.nextLink"].slice(emulator.url.length), { token })).json();
        emulator.reset();

        const answer = await evidence.conditionalAccessPolicies(soon());

        assert.deepEqual(answer, { kind: "value", value: [...first.value, ...second.value] });
        const [narrowed] = (answer as { value: Record<string, any>[] }).value;
        assert.equal(narrowed["@odata.type"], "#microsoft.graph.conditionalAccessPolicy");
        assert.deepEqual(narrowed.conditions.devices.excludeDevices, ["Compliant"]);
        assert.deepEqual(emulator.requests.map((request) => `${request.method} ${request.path}`).filter((line) => line.includes("$batch")), ["POST /beta/$batch", "POST /beta/$batch"]);
    });

    it("reads built-in and custom authentication strengths, and a strength Graph lacks as unverified", async () => {
        const missing = "6e000000-0000-4000-8000-0000000000ff";
        const { phishingResistantMfa } = BUILT_IN_AUTHENTICATION_STRENGTHS;

        const answers = await evidence.authenticationStrengths([phishingResistantMfa.id, CUSTOM_STRENGTH.id, missing], soon());

        assert.deepEqual(answers.get(phishingResistantMfa.id), {
            kind: "value",
            value: { id: phishingResistantMfa.id, displayName: phishingResistantMfa.displayName, requirementsSatisfied: "mfa", allowedCombinations: [...phishingResistantMfa.allowedCombinations] },
        });
        assert.deepEqual(answers.get(CUSTOM_STRENGTH.id), { kind: "value", value: CUSTOM_STRENGTH });
        assert.deepEqual(answers.get(missing), {
            kind: "unverified",
            reason: `Graph has no authentication strength with id ${missing} (HTTP 404 Request_ResourceNotFound); the read uses ${PERMISSIONS.authenticationStrengths}`,
        });
    });

    it("reads a user's PIM eligibilities across pages, each with its scope", async () => {
        const answers = await evidence.roleEligibilities([ALICE.id, GUEST.id], soon());

        assert.deepEqual(answers.get(ALICE.id), {
            kind: "value",
            value: [
                { roleTemplateId: GLOBAL_ADMINISTRATOR, directoryScopeId: "/" },
                { roleTemplateId: PRIVILEGED_ROLE_ADMINISTRATOR, directoryScopeId: AU_SCOPE },
                { roleTemplateId: "f2ef992c-3afb-46b9-b7cf-a126ee74c451", directoryScopeId: "/" },
            ],
        });
        assert.deepEqual(answers.get(GUEST.id), { kind: "value", value: [] });
        assert.equal(emulator.countRequests(FAULT_PATHS.roleEligibilities), 3, "two pages for Alice, one for the guest");
    });

    it("tells a group's id from a user's: not-found for the group, the guest's invitation and identities for the guest", async () => {
        const answers = await evidence.userProfiles([TEAM.id, GUEST.id], soon());

        assert.deepEqual(answers.get(TEAM.id), { kind: "not-found" });
        assert.deepEqual(answers.get(GUEST.id), {
            kind: "value",
            value: {
                userPrincipalName: GUEST.userPrincipalName,
                accountEnabled: true,
                userType: "Guest",
                creationType: "Invitation",
                externalUserState: "Accepted",
                identities: [{ signInType: "federated", issuer: "ExternalAzureAD" }],
            },
        });
    });

    it("reads the groups and roles a group is in, through nesting", async () => {
        const answers = await evidence.groupMemberships([TEAM.id], soon());

        assert.deepEqual(answers.get(TEAM.id), { kind: "value", value: { groups: [{ id: ADMINS.id, displayName: "Admins" }], roleTemplateIds: [GLOBAL_ADMINISTRATOR] } });
    });

    it("names the permission when Graph denies a group's memberships, and asks again later", async () => {
        emulator.faults.inject({ kind: "status", status: 403, path: FAULT_PATHS.groupTransitiveMemberOf, times: 1 });

        const denied = await evidence.groupMemberships([TEAM.id], soon());
        const later = await evidence.groupMemberships([TEAM.id], soon());

        assert.deepEqual(denied.get(TEAM.id), {
            kind: "unverified",
            reason: `Graph denied access to the group's own group memberships (HTTP 403 Authorization_RequestDenied); the identity the pack runs as needs ${PERMISSIONS.groupMemberships}`,
        });
        assert.equal(later.get(TEAM.id)?.kind, "value");
    });
});
