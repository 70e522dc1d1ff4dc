import * as assert from "node:assert/strict";
import { BatchRunner } from "../../../policies/graph/batch";
import { GRAPH_DEFAULTS } from "../../../policies/graph/defaults";
import {
    Answer,
    PERMISSIONS,
    readAuthenticationStrengths,
    readCollections,
    readGroupMemberships,
    readGroupUsers,
    readMemberships,
    readMfaCapable,
    readSecurityDefaults,
    readRoleEligibilities,
    readUserIdsByPrincipalName,
    readUserProfiles,
} from "../../../policies/graph/graphReads";
import { graphMfaEvidence } from "../../../policies/graph/mfaEvidence";
import { GraphTransportError } from "../../../policies/graph/types";
import { FakeClock, FakeGraphTransport, reply, TransportScript } from "./fakeTransport";

const GROUP_TYPE = "#microsoft.graph.group";
const ROLE_TYPE = "#microsoft.graph.directoryRole";
const GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10";
const PRIVILEGED_ROLE_ADMINISTRATOR = "e8611ab8-c189-46e8-94e1-60213ab1f814";
const PHISHING_RESISTANT = "00000000-0000-0000-0000-000000000004";

const notFound = () => reply(404, { error: { code: "Request_ResourceNotFound", message: "Resource does not exist." } });
const page = (value: unknown[], nextLink?: string) => reply(200, { value, ...(nextLink ? { "@odata.nextLink": nextLink } : {}) });

/** A runner on virtual time, so retries and back-off cost nothing, and the transport that records what it sent. */
function runnerWith(script: TransportScript, version: "v1.0" | "beta" = "v1.0") {
    const clock = new FakeClock();
    const transport = new FakeGraphTransport(script, clock);
    const runner = new BatchRunner(transport, { ...GRAPH_DEFAULTS, version, deadline: 600_000 }, clock);
    const sent = () => transport.requests.map((request) => `${request.version} ${request.path} ${(request.subRequests ?? []).join(" | ")}`);
    return { runner, transport, sent };
}

/** `graphMfaEvidence` over one fake transport, with the Graph requests it sent. */
function evidenceWith(script: TransportScript) {
    const transport = new FakeGraphTransport(script);
    const evidence = graphMfaEvidence({ env: {}, transportFor: () => transport });
    return { evidence, transport, subRequests: () => transport.requests.map((request) => `${request.version} ${(request.subRequests ?? []).join(" | ")}`) };
}

const inOneMinute = () => ({ deadline: Date.now() + 60_000 });

function reasonOf<T>(answer: Answer<T> | { kind: "not-found" } | undefined): string {
    assert.ok(answer?.kind === "unverified", `expected unverified, got ${JSON.stringify(answer)}`);
    return answer.reason;
}

describe("conditionalAccessPolicies", () => {
    const POLICIES = "/identity/conditionalAccess/policies";
    /** A policy as a beta export writes it, annotations and beta-only conditions included. */
    const annotated = {
        "@odata.type": "#microsoft.graph.conditionalAccessPolicy",
        id: "5d000000-0000-4000-8000-000000000001",
        displayName: "Require MFA",
        state: "enabled",
        "state@odata.type": "#microsoft.graph.conditionalAccessPolicyState",
        "conditions@odata.type": "#microsoft.graph.conditionalAccessConditionSet",
        conditions: {
            "@odata.type": "#microsoft.graph.conditionalAccessConditionSet",
            users: { "@odata.type": "#microsoft.graph.conditionalAccessUsers", includeUsers: ["All"], "includeUsers@odata.type": "#Collection(String)" },
            authenticationFlows: { "@odata.type": "#microsoft.graph.conditionalAccessAuthenticationFlows", transferMethods: "deviceCodeFlow" },
            devices: { "@odata.type": "#microsoft.graph.conditionalAccessDevices", includeDevices: ["All"], excludeDevices: ["Compliant"] },
        },
        grantControls: { "@odata.type": "#microsoft.graph.conditionalAccessGrantControls", operator: "OR", builtInControls: ["mfa"] },
    };

    it("lists the policies from beta across pages and keeps every annotation and beta-only condition as Graph sent it", async () => {
        const second = { id: "5d000000-0000-4000-8000-000000000002", displayName: "Block legacy", state: "enabled" };
        const { evidence, subRequests } = evidenceWith({
            perUrl: {
                [POLICIES]: [page([annotated], `https://graph.microsoft.com/beta${POLICIES}?$skiptoken=page2`)],
                [`${POLICIES}?$skiptoken=page2`]: [page([second])],
            },
        });

        const answer = await evidence.conditionalAccessPolicies(inOneMinute());

        assert.deepEqual(subRequests(), [`beta 1 ${POLICIES}`, `beta 1 ${POLICIES}?$skiptoken=page2`]);
        assert.deepEqual(answer, { kind: "value", value: [annotated, second] });
    });

    it("is unverified with the status, code and Policy.Read.All when Graph denies the list", async () => {
        const { evidence } = evidenceWith({ perUrl: { [POLICIES]: [reply(403, { error: { code: "Authorization_RequestDenied" } })] } });

        const answer = await evidence.conditionalAccessPolicies(inOneMinute());

        assert.equal(
            reasonOf(answer),
            "Graph denied access to the tenant's Conditional Access policies (HTTP 403 Authorization_RequestDenied); the identity the pack runs as needs the Microsoft Graph permission Policy.Read.All",
        );
    });
});

describe("readAuthenticationStrengths", () => {
    const path = (id: string) => `/policies/authenticationStrengthPolicies/${id}`;
    const builtIn = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#policies/authenticationStrengthPolicies/$entity",
        "@odata.type": "#microsoft.graph.authenticationStrengthPolicy",
        id: PHISHING_RESISTANT,
        displayName: "Phishing-resistant MFA",
        description: "Phishing-resistant, Passwordless methods for the strongest authentication, such as a FIDO2 security key",
        policyType: "builtIn",
        requirementsSatisfied: "mfa",
        allowedCombinations: ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"],
        combinationConfigurations: [],
    };

    it("asks for each strength in one batch and keeps what Conditional Access needs", async () => {
        const custom = { id: "c0ffee00-0000-4000-8000-000000000001", displayName: "Passwords and SMS", requirementsSatisfied: "none", allowedCombinations: ["password", "sms"] };
        const { runner, sent } = runnerWith({ perUrl: { [path(PHISHING_RESISTANT)]: [reply(200, builtIn)], [path(custom.id)]: [reply(200, custom)] } });

        const answers = await readAuthenticationStrengths(runner, [PHISHING_RESISTANT, custom.id]);

        assert.deepEqual(sent(), [`v1.0 /$batch 1 ${path(PHISHING_RESISTANT)} | 2 ${path(custom.id)}`]);
        assert.deepEqual([...answers], [
            [PHISHING_RESISTANT, { kind: "value", value: { id: PHISHING_RESISTANT, displayName: "Phishing-resistant MFA", requirementsSatisfied: "mfa", allowedCombinations: builtIn.allowedCombinations } }],
            [custom.id, { kind: "value", value: custom }],
        ]);
    });

    it("is unverified, naming the id, for a strength Graph does not have", async () => {
        const { runner } = runnerWith({ perUrl: { [path("gone")]: [notFound()] } });

        const answers = await readAuthenticationStrengths(runner, ["gone"]);

        assert.equal(
            reasonOf(answers.get("gone")),
            "Graph has no authentication strength with id gone (HTTP 404 Request_ResourceNotFound); the read uses the Microsoft Graph permission Policy.Read.All",
        );
    });

    it("is unverified for an answer without a list of allowed combinations, never an empty strength", async () => {
        const { runner } = runnerWith({ perUrl: { [path(PHISHING_RESISTANT)]: [reply(200, { ...builtIn, allowedCombinations: undefined })] } });

        const answers = await readAuthenticationStrengths(runner, [PHISHING_RESISTANT]);

        assert.equal(reasonOf(answers.get(PHISHING_RESISTANT)), `Graph's answer for the authentication strength ${PHISHING_RESISTANT} has no allowedCombinations list`);
    });

    it("is asked once per run through graphMfaEvidence", async () => {
        const { evidence, subRequests } = evidenceWith({ otherwise: reply(200, builtIn) });

        await evidence.authenticationStrengths([PHISHING_RESISTANT], inOneMinute());
        const later = await evidence.authenticationStrengths([PHISHING_RESISTANT, "00000000-0000-0000-0000-000000000002"], inOneMinute());

        assert.deepEqual(subRequests(), [`v1.0 1 ${path(PHISHING_RESISTANT)}`, `v1.0 1 ${path("00000000-0000-0000-0000-000000000002")}`]);
        assert.equal(later.get(PHISHING_RESISTANT)?.kind, "value");
    });

    it("is unverified when a combination is not a string, and keeps only well-typed fields otherwise", async () => {
        const { runner } = runnerWith({
            perUrl: {
                [path("mixed")]: [reply(200, { id: "mixed", allowedCombinations: ["fido2", 3] })],
                [path("sparse")]: [reply(200, { id: 9, displayName: null, requirementsSatisfied: 1, allowedCombinations: ["fido2"] })],
            },
        });
        const answers = await readAuthenticationStrengths(runner, ["mixed", "sparse"]);
        assert.equal(reasonOf(answers.get("mixed")), "Graph's answer for the authentication strength mixed has no allowedCombinations list");
        assert.deepEqual(answers.get("sparse"), { kind: "value", value: { id: "sparse", allowedCombinations: ["fido2"] } });
    });
});

describe("readRoleEligibilities", () => {
    const SELECT = "$select=principalId,roleDefinitionId,directoryScopeId";
    const path = (filterValue: string) => `/roleManagement/directory/roleEligibilityScheduleInstances?$filter=principalId%20eq%20'${filterValue}'&${SELECT}`;
    const instance = (roleDefinitionId: string, directoryScopeId = "/") => ({
        id: `${roleDefinitionId}-instance`,
        principalId: "u1",
        roleDefinitionId,
        directoryScopeId,
        appScopeId: null,
        startDateTime: "2026-01-01T00:00:00Z",
        endDateTime: null,
        memberType: "Direct",
        roleEligibilityScheduleId: "schedule",
    });

    it("filters the schedule instances by principal, follows the pages and gives each role's template id and scope", async () => {
        const secondPage = `/roleManagement/directory/roleEligibilityScheduleInstances?$filter=principalId%20eq%20%27u1%27&${SELECT}&$skiptoken=x`;
        const { runner, sent } = runnerWith({
            perUrl: {
                [path("u1")]: [page([instance(GLOBAL_ADMINISTRATOR)], `https://graph.microsoft.com/v1.0${secondPage}`)],
                [secondPage]: [page([instance(PRIVILEGED_ROLE_ADMINISTRATOR, "/administrativeUnits/au1")])],
                [path("u2")]: [page([])],
            },
        });

        const answers = await readRoleEligibilities(runner, ["u1", "u2"]);

        assert.deepEqual(sent(), [`v1.0 /$batch 1 ${path("u1")} | 2 ${path("u2")}`, `v1.0 /$batch 1 ${secondPage}`]);
        assert.deepEqual(answers.get("u1"), {
            kind: "value",
            value: [
                { roleTemplateId: GLOBAL_ADMINISTRATOR, directoryScopeId: "/" },
                { roleTemplateId: PRIVILEGED_ROLE_ADMINISTRATOR, directoryScopeId: "/administrativeUnits/au1" },
            ],
        });
        assert.deepEqual(answers.get("u2"), { kind: "value", value: [] });
    });

    it("doubles a quote in the id, so the id cannot end the OData string early", async () => {
        const { runner, sent } = runnerWith({ otherwise: page([]) });

        await readRoleEligibilities(runner, ["o'brien"]);

        assert.deepEqual(sent(), [`v1.0 /$batch 1 ${path("o''brien")}`]);
    });

    it("is unverified, saying which licence is missing, when the tenant has no PIM", async () => {
        const message = "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.";
        const { runner } = runnerWith({ otherwise: reply(400, { error: { code: "AadPremiumLicenseRequired", message } }) });

        const answers = await readRoleEligibilities(runner, ["u1"]);

        assert.equal(
            reasonOf(answers.get("u1")),
            `Graph answered HTTP 400 AadPremiumLicenseRequired for the principal's role eligibilities; the read uses ${PERMISSIONS.roleEligibilities}; PIM eligibility needs a Microsoft Entra ID P2 or ID Governance licence in the tenant`,
        );
    });

    it("is unverified when a listed eligibility has no role or no scope, or is null", async () => {
        const { runner } = runnerWith({
            perUrl: {
                [path("u1")]: [page([instance(GLOBAL_ADMINISTRATOR), { ...instance(GLOBAL_ADMINISTRATOR), directoryScopeId: null }])],
                [path("no-role")]: [page([{ ...instance(GLOBAL_ADMINISTRATOR), roleDefinitionId: null }])],
                [path("null-row")]: [page([null])],
            },
        });

        const answers = await readRoleEligibilities(runner, ["u1", "no-role", "null-row"]);

        for (const id of ["u1", "no-role", "null-row"]) {
            assert.equal(reasonOf(answers.get(id)), "Graph listed a role eligibility without its roleDefinitionId or directoryScopeId in the principal's role eligibilities", id);
        }
    });
});

describe("readMfaCapable", () => {
    it("doubles a quote in the id inside the report's $filter", async () => {
        const { runner, sent } = runnerWith({ otherwise: page([{ id: "o'brien", isMfaCapable: true }]) });

        const answers = await readMfaCapable(runner, ["o'brien"]);

        assert.deepEqual(sent(), ["v1.0 /$batch 1 /reports/authenticationMethods/userRegistrationDetails?$filter=id%20eq%20'o''brien'"]);
        assert.deepEqual(answers.get("o'brien"), { kind: "value", value: true });
    });

    it("takes isMfaCapable from the user's row, and is unverified without a row, a boolean or a list", async () => {
        const answerFor = async (script: TransportScript) => (await readMfaCapable(runnerWith(script).runner, ["u"])).get("u");
        assert.deepEqual(
            [
                await answerFor({ otherwise: page([{ id: "u", isMfaCapable: true }]) }),
                await answerFor({ otherwise: page([{ id: "u", isMfaCapable: false }]) }),
                // The report is computed after the fact and may not list a new account yet: no row says nothing about MFA.
                await answerFor({ otherwise: page([]) }),
                await answerFor({ otherwise: page([{ id: "u", isMfaCapable: null }]) }),
                await answerFor({ otherwise: page([null]) }),
                await answerFor({ otherwise: reply(200, {}) }),
            ],
            [
                { kind: "value", value: true },
                { kind: "value", value: false },
                { kind: "unverified", reason: "the registration report has no row for the user (it may not list a new account yet)" },
                { kind: "unverified", reason: "the registration report's row for the user has no isMfaCapable" },
                { kind: "unverified", reason: "the registration report's row for the user has no isMfaCapable" },
                { kind: "unverified", reason: "the registration report answer has no 'value' list" },
            ],
        );
    });
});

describe("readUserIdsByPrincipalName", () => {
    const names = (count: number) => Array.from({ length: count }, (_, i) => `user${i}@contoso.com`);
    const filterOf = (url: string) => new URL(url, "https://graph.invalid").searchParams.get("$filter") ?? "";
    /** The recorded sub-requests are "<id> <url>". */
    const urlsSent = (transport: FakeGraphTransport) => transport.requests.flatMap((request) => request.subRequests ?? []).map((sub) => sub.slice(sub.indexOf(" ") + 1));

    it("asks fifteen names a request, the most Graph takes in one 'in', all in one batch", async () => {
        const { runner, transport } = runnerWith({ otherwise: page([]) });

        await readUserIdsByPrincipalName(runner, names(31));

        const urls = urlsSent(transport);
        assert.equal(transport.requests.length, 1);
        assert.deepEqual(urls.map((url) => (filterOf(url).match(/'[^']*'/g) ?? []).length), [15, 15, 1]);
        assert.match(urls[0], /^\/users\?\$filter=.*&\$select=id,userPrincipalName&\$top=15$/);
        assert.equal(filterOf(urls[2]), "userPrincipalName in ('user30@contoso.com')");
    });

    it("ignores rows without an id or a name, and sends nothing for no names", async () => {
        const rows = [null, { userPrincipalName: "noid@contoso.com" }, { id: "id-x" }, { id: "id-b", userPrincipalName: "bob@contoso.com" }];
        const answers = await readUserIdsByPrincipalName(runnerWith({ otherwise: page(rows) }).runner, ["noid@contoso.com", "bob@contoso.com"]);
        assert.deepEqual(Object.fromEntries(answers), { "noid@contoso.com": { kind: "not-found" }, "bob@contoso.com": { kind: "value", value: "id-b" } });
        const { runner, transport } = runnerWith({});
        assert.equal((await readUserIdsByPrincipalName(runner, [])).size, 0);
        assert.equal(transport.requests.length, 0);
    });

    it("gives each name the id of the user Graph lists for it, whatever its case, and not-found for a name nobody has", async () => {
        const { runner } = runnerWith({ otherwise: page([{ id: "id-a", userPrincipalName: "alice@contoso.com" }]) });

        const answers = await readUserIdsByPrincipalName(runner, ["Alice@Contoso.com", "newcomer@contoso.com"]);

        assert.deepEqual(answers.get("Alice@Contoso.com"), { kind: "value", value: "id-a" });
        assert.deepEqual(answers.get("newcomer@contoso.com"), { kind: "not-found" });
    });

    it("doubles a quote in a name and encodes a guest's '#EXT#', so neither can change the filter", async () => {
        const { runner, transport } = runnerWith({ otherwise: page([]) });

        await readUserIdsByPrincipalName(runner, ["o'brien@contoso.com", "ext_fabrikam.com#EXT#@contoso.onmicrosoft.com"]);

        const [url] = urlsSent(transport);
        assert.ok(!url.includes("#"), url);
        assert.equal(filterOf(url), "userPrincipalName in ('o''brien@contoso.com','ext_fabrikam.com#EXT#@contoso.onmicrosoft.com')");
    });

    it("is unverified for every name of a request Graph denies, naming User.Read.All, and never not-found", async () => {
        const { runner } = runnerWith({ otherwise: reply(403, { error: { code: "Authorization_RequestDenied" } }) });

        const answers = await readUserIdsByPrincipalName(runner, ["a@contoso.com", "b@contoso.com"]);

        for (const name of ["a@contoso.com", "b@contoso.com"]) {
            assert.match(reasonOf(answers.get(name)), /HTTP 403 Authorization_RequestDenied.*User\.Read\.All/);
        }
    });
});

describe("readUserProfiles", () => {
    const path = (id: string) => `/users/${id}?$select=id,userPrincipalName,accountEnabled,userType,creationType,externalUserState,identities`;

    it("takes a 404 for not-found only when Graph says Request_ResourceNotFound", async () => {
        const { runner } = runnerWith({
            perUrl: {
                [path("bare")]: [reply(404, "<html>Not Found</html>")],
                [path("bad")]: [reply(400, { error: { code: "Request_ResourceNotFound" } })],
            },
        });
        const answers = await readUserProfiles(runner, ["bare", "bad"]);
        assert.equal(
            reasonOf(answers.get("bare")),
            "Graph did not find the user, without saying Request_ResourceNotFound (HTTP 404); the read uses the Microsoft Graph permission User.Read.All",
        );
        assert.equal(reasonOf(answers.get("bad")), "Graph answered HTTP 400 Request_ResourceNotFound for the user; the read uses the Microsoft Graph permission User.Read.All");
    });

    it("leaves out fields of the wrong type instead of passing them on", async () => {
        const odd = { id: "o1", userPrincipalName: 5, accountEnabled: "true", userType: null, creationType: 7, identities: [null, { signInType: 1, issuer: "contoso.example" }, { signInType: "emailAddress" }] };
        const { runner } = runnerWith({ perUrl: { [path("o1")]: [reply(200, odd)] } });
        const answers = await readUserProfiles(runner, ["o1"]);
        assert.deepEqual(answers.get("o1"), { kind: "value", value: { identities: [{}, { issuer: "contoso.example" }, { signInType: "emailAddress" }] } });
    });

    it("selects the profile, guest and sign-in fields and keeps the ones Graph filled", async () => {
        const guest = {
            id: "g1",
            userPrincipalName: "bob_fabrikam.example#EXT#@contoso.example",
            accountEnabled: true,
            userType: "Guest",
            creationType: "Invitation",
            externalUserState: "PendingAcceptance",
            identities: [{ signInType: "federated", issuer: "ExternalAzureAD", issuerAssignedId: null }],
        };
        const member = { id: "m1", userPrincipalName: "alice@contoso.example", accountEnabled: false, userType: "Member", creationType: null, externalUserState: null, identities: [] };
        const { runner, sent } = runnerWith({ perUrl: { [path("g1")]: [reply(200, guest)], [path("m1")]: [reply(200, member)] } });

        const answers = await readUserProfiles(runner, ["g1", "m1"]);

        assert.deepEqual(sent(), [`v1.0 /$batch 1 ${path("g1")} | 2 ${path("m1")}`]);
        assert.deepEqual(answers.get("g1"), {
            kind: "value",
            value: {
                userPrincipalName: guest.userPrincipalName,
                accountEnabled: true,
                userType: "Guest",
                creationType: "Invitation",
                externalUserState: "PendingAcceptance",
                identities: [{ signInType: "federated", issuer: "ExternalAzureAD" }],
            },
        });
        // Graph's null for an ordinary account is kept: it tells a member from a profile whose fields were not read.
        assert.deepEqual(answers.get("m1"), { kind: "value", value: { userPrincipalName: "alice@contoso.example", accountEnabled: false, userType: "Member", creationType: null, externalUserState: null, identities: [] } });
    });

    it("answers not-found for 404 Request_ResourceNotFound, the answer Graph gives for a group's id", async () => {
        const { runner } = runnerWith({ perUrl: { [path("group-id")]: [notFound()] } });

        const answers = await readUserProfiles(runner, ["group-id"]);

        assert.deepEqual(answers.get("group-id"), { kind: "not-found" });
    });

    it("does not take a 404 without Graph's code for a missing user", async () => {
        const { runner } = runnerWith({ perUrl: { [path("u1")]: [reply(404, "<html>Not Found</html>")] } });

        const answers = await readUserProfiles(runner, ["u1"]);

        assert.equal(reasonOf(answers.get("u1")), `Graph did not find the user, without saying Request_ResourceNotFound (HTTP 404); the read uses ${PERMISSIONS.users}`);
    });

    it("keeps not-found for the run, as an answer, through graphMfaEvidence", async () => {
        const { evidence, subRequests } = evidenceWith({ otherwise: notFound() });

        await evidence.userProfiles(["group-id"], inOneMinute());
        const later = await evidence.userProfiles(["group-id"], inOneMinute());

        assert.deepEqual(subRequests(), [`v1.0 1 ${path("group-id")}`]);
        assert.deepEqual(later.get("group-id"), { kind: "not-found" });
    });
});

describe("readMemberships, rows Graph lists with less than it knows", () => {
    const path = "/users/u-1/transitiveMemberOf?$select=id,displayName,roleTemplateId&$top=999";

    it("is unverified when any directory role comes without its template id, even beside readable ones", async () => {
        const rows = [
            { "@odata.type": GROUP_TYPE, id: "g-1", displayName: "Staff" },
            { "@odata.type": ROLE_TYPE, id: "r-1", roleTemplateId: GLOBAL_ADMINISTRATOR },
            { "@odata.type": ROLE_TYPE, id: "r-2", displayName: null, roleTemplateId: null },
        ];
        const answers = await readMemberships(runnerWith({ perUrl: { [path]: [page(rows)] } }).runner, ["u-1"]);
        assert.match(reasonOf(answers.get("u-1")), /^Graph listed a directory role in the user's group memberships without its roleTemplateId/);
    });

    it("skips null rows and groups without an id, and keeps a group whose name it may not read", async () => {
        const rows = [null, { "@odata.type": GROUP_TYPE, id: null }, { "@odata.type": GROUP_TYPE, id: "g-2", displayName: null }, { "@odata.type": ROLE_TYPE, id: "r-1", roleTemplateId: GLOBAL_ADMINISTRATOR }];
        const answers = await readMemberships(runnerWith({ perUrl: { [path]: [page(rows)] } }).runner, ["u-1"]);
        assert.deepEqual(answers.get("u-1"), { kind: "value", value: { groups: [{ id: "g-2" }], roleTemplateIds: [GLOBAL_ADMINISTRATOR] } });
    });
});

describe("readGroupMemberships", () => {
    const path = (id: string) => `/groups/${id}/transitiveMemberOf?$select=id,displayName,roleTemplateId&$top=999`;

    it("lists the groups and directory roles a group is in, transitively", async () => {
        const { runner, sent } = runnerWith({
            perUrl: {
                [path("g1")]: [page([
                    { "@odata.type": GROUP_TYPE, id: "parent", displayName: "Parent" },
                    { "@odata.type": GROUP_TYPE, id: "grandparent", displayName: null },
                    { "@odata.type": ROLE_TYPE, id: "role-object", displayName: "Global Administrator", roleTemplateId: GLOBAL_ADMINISTRATOR },
                    { "@odata.type": "#microsoft.graph.administrativeUnit", id: "au1", displayName: "Europe" },
                ])],
            },
        });

        const answers = await readGroupMemberships(runner, ["g1"]);

        assert.deepEqual(sent(), [`v1.0 /$batch 1 ${path("g1")}`]);
        assert.deepEqual(answers.get("g1"), {
            kind: "value",
            value: { groups: [{ id: "parent", displayName: "Parent" }, { id: "grandparent" }], roleTemplateIds: [GLOBAL_ADMINISTRATOR] },
        });
    });

    it("is unverified when Graph hides a role's template id, as it does for objects the identity may not read", async () => {
        const { runner } = runnerWith({ otherwise: page([{ "@odata.type": ROLE_TYPE, id: "role-object", displayName: null, roleTemplateId: null }]) });

        const answers = await readGroupMemberships(runner, ["g1"]);

        assert.equal(
            reasonOf(answers.get("g1")),
            `Graph listed a directory role in the group's own group memberships without its roleTemplateId, as it does for objects the identity may not read; the identity the pack runs as needs ${PERMISSIONS.groupMemberships}`,
        );
    });
});

describe("the reasons a read gives when it fails", () => {
    const timeout = new GraphTransportError("timeout", "no answer within 30 s, waiting for a token or for Graph (time budget)");
    const faults: { title: string; script: TransportScript; reason: (what: string, permission: string, notFound: string) => string }[] = [
        {
            title: "403",
            script: { otherwise: reply(403, { error: { code: "Authorization_RequestDenied" } }) },
            reason: (what, permission) => `Graph denied access to ${what} (HTTP 403 Authorization_RequestDenied); the identity the pack runs as needs ${permission}`,
        },
        {
            title: "404",
            script: { otherwise: notFound() },
            reason: (_what, permission, missing) => `${missing} (HTTP 404 Request_ResourceNotFound); the read uses ${permission}`,
        },
        {
            title: "500",
            script: { otherwise: reply(500, { error: { code: "UnknownError" } }) },
            reason: (what, permission) => `Graph answered HTTP 500 UnknownError for ${what}; the read uses ${permission}`,
        },
        {
            title: "503 on every try",
            script: { otherwise: reply(503, { error: { code: "ServiceUnavailable" } }) },
            reason: (what, permission) => `Graph answered HTTP 503 ServiceUnavailable for ${what}; the read uses ${permission}`,
        },
        {
            title: "a timeout on every try",
            script: { outer: Array(GRAPH_DEFAULTS.maxAttempts).fill(timeout) },
            reason: (what, permission) => `${timeout.message} (reading ${what}); the read uses ${permission}`,
        },
        {
            title: "429 past the retry budget",
            script: { otherwise: reply(429, { error: { code: "TooManyRequests" } }, { "Retry-After": "2" }) },
            reason: (what, permission) => `Graph kept throttling the requests for ${what} (HTTP 429 TooManyRequests) past the retry budget; the read uses ${permission}`,
        },
    ];
    const reads = [
        {
            name: "a group's users",
            read: readGroupUsers,
            what: "the members of a group outside the stack",
            permission: "the Microsoft Graph permission GroupMember.Read.All or Directory.Read.All",
            notFound: "Graph has no the members of a group outside the stack",
        },
        {
            name: "registration",
            read: readMfaCapable,
            what: "the authentication methods registration report",
            permission: "the Microsoft Graph permission AuditLog.Read.All (and a Microsoft Entra ID P1 or P2 licence)",
            notFound: "Graph has no the authentication methods registration report",
        },
        {
            name: "user memberships",
            read: readMemberships,
            what: "the user's group memberships",
            permission: "the Microsoft Graph permission GroupMember.Read.All or Directory.Read.All",
            notFound: "Graph has no user with this id to list the group memberships of",
        },
        {
            name: "group memberships",
            read: readGroupMemberships,
            what: "the group's own group memberships",
            permission: "the Microsoft Graph permission Directory.Read.All (or GroupMember.Read.All when signed in as a user)",
            notFound: "Graph has no group with this id to list the group memberships of",
        },
        {
            name: "role eligibilities",
            read: readRoleEligibilities,
            what: "the principal's role eligibilities",
            permission: "the Microsoft Graph permission RoleEligibilitySchedule.Read.Directory or RoleManagement.Read.Directory",
            notFound: "Graph has no role eligibility schedule instances to list",
        },
        {
            name: "authentication strengths",
            read: readAuthenticationStrengths,
            what: "the authentication strength",
            permission: "the Microsoft Graph permission Policy.Read.All",
            notFound: "Graph has no authentication strength with id id-1",
        },
    ];

    for (const { name, read, what, permission, notFound: missing } of reads) {
        for (const fault of faults) {
            it(`${name}: ${fault.title} states the status and the permission`, async () => {
                const { runner } = runnerWith(fault.script);

                const answers = await (read as (runner: BatchRunner, ids: string[]) => Promise<Map<string, Answer<unknown>>>)(runner, ["id-1"]);

                assert.equal(reasonOf(answers.get("id-1")), fault.reason(what, permission, missing));
            });
        }
    }

    it("says a 401 survived asking the credential again, and a credential failure how to sign in", async () => {
        const rejected = await readMemberships(runnerWith({ otherwise: reply(401, { error: { code: "InvalidAuthenticationToken" } }) }).runner, ["id-1"]);
        assert.equal(reasonOf(rejected.get("id-1")), "Graph rejected the credential's token (HTTP 401 InvalidAuthenticationToken), also after asking the credential again");
        const noToken = new GraphTransportError("credential", "ManagedIdentityCredential: no managed identity endpoint");
        const unsigned = await readMemberships(runnerWith({ outer: Array(GRAPH_DEFAULTS.maxAttempts).fill(noToken) }).runner, ["id-1"]);
        assert.match(reasonOf(unsigned.get("id-1")), /^no Azure credential gave a token \(ManagedIdentityCredential: no managed identity endpoint\); sign in with 'az login'/);
        const misconfigured = new GraphTransportError("credential", "AZURE_TENANT_ID is 'not a tenant'", true);
        const refused = await readMemberships(runnerWith({ outer: Array(GRAPH_DEFAULTS.maxAttempts).fill(misconfigured) }).runner, ["id-1"]);
        assert.equal(reasonOf(refused.get("id-1")), "could not sign in: AZURE_TENANT_ID is 'not a tenant'");
    });

    it("gives the same reason to every user denied for the same cause, so a report can say it once", async () => {
        const { runner } = runnerWith({ otherwise: reply(403, { error: { code: "Authorization_RequestDenied" } }) });

        const answers = await readMemberships(runner, ["u1", "u2", "u3"]);

        assert.equal(new Set([...answers.values()].map(reasonOf)).size, 1);
    });
});

describe("readSecurityDefaults", () => {
    const PATH = "/policies/identitySecurityDefaultsEnforcementPolicy";

    it("reads isEnabled, on and off", async () => {
        for (const isEnabled of [true, false]) {
            const { runner, sent } = runnerWith({ otherwise: reply(200, { id: "00000000-0000-0000-0000-000000000005", isEnabled }) });
            assert.deepEqual(await readSecurityDefaults(runner), { kind: "value", value: isEnabled });
            assert.deepEqual(sent(), [`v1.0 /$batch 1 ${PATH}`]);
        }
    });

    it("is unverified, not off, when the answer has no isEnabled", async () => {
        const { runner } = runnerWith({ otherwise: reply(200, { id: "x", isEnabled: "yes" }) });
        assert.deepEqual(await readSecurityDefaults(runner), { kind: "unverified", reason: "Graph's security defaults answer has no isEnabled" });
    });

    it("names the permission when Graph denies the read", async () => {
        const { runner } = runnerWith({ otherwise: reply(403, { error: { code: "Authorization_RequestDenied" } }) });
        assert.equal(
            reasonOf(await readSecurityDefaults(runner)),
            "Graph denied access to the security defaults policy (HTTP 403 Authorization_RequestDenied); the identity the pack runs as needs the Microsoft Graph permission Policy.Read.All",
        );
    });
});

describe("readGroupUsers", () => {
    it("lists a group's users through nesting, across pages, keeping only rows with an id", async () => {
        const first = "/groups/g-1/transitiveMembers/microsoft.graph.user?$select=id,userPrincipalName&$top=999";
        const { runner, sent } = runnerWith({
            perUrl: {
                [first]: [page([{ id: "u-1", userPrincipalName: "a@contoso.com" }, { userPrincipalName: "no-id@contoso.com" }], "https://graph.microsoft.com/v1.0/groups/g-1/transitiveMembers/microsoft.graph.user?$skiptoken=2")],
                "/groups/g-1/transitiveMembers/microsoft.graph.user?$skiptoken=2": [page([{ id: "u-2", userPrincipalName: null }])],
            },
        });
        const answers = await readGroupUsers(runner, ["g-1"]);
        assert.deepEqual(answers.get("g-1"), { kind: "value", value: [{ id: "u-1", userPrincipalName: "a@contoso.com" }, { id: "u-2", userPrincipalName: undefined }] });
        assert.deepEqual(sent(), [`v1.0 /$batch 1 ${first}`, "v1.0 /$batch 1 /groups/g-1/transitiveMembers/microsoft.graph.user?$skiptoken=2"]);
    });
});

describe("readCollections", () => {
    it("is unverified when an answer has no 'value' list", async () => {
        const { runner } = runnerWith({ otherwise: reply(200, { items: [] }) });
        const answers = await readCollections(runner, ["/things"], "the things", "a permission");
        assert.deepEqual(answers.get("/things"), { kind: "unverified", reason: "Graph's answer for the things has no 'value' list" });
    });

    it("stops following nextLink after the page limit, and says so rather than answer with part of the list", async () => {
        let pages = 0;
        const endless = () => page([{ id: `row-${pages}` }], `https://graph.microsoft.com/v1.0/things?$skiptoken=${++pages}`);
        const { runner } = runnerWith({ otherwise: endless });
        const answers = await readCollections(runner, ["/things"], "the things", "a permission", { maxPages: 3 });
        assert.deepEqual(answers.get("/things"), { kind: "unverified", reason: "the things spans more than 3 pages" });
        assert.equal(pages, 3);
    });

    it("follows a nextLink on the beta root too, relative to the version", async () => {
        const { runner, sent } = runnerWith({ perUrl: { "/things": [page([{ id: 1 }], "https://graph.microsoft.com/beta/things?$skiptoken=b")], "/things?$skiptoken=b": [page([{ id: 2 }])] } }, "beta");
        const answers = await readCollections(runner, ["/things"], "the things", "a permission");
        assert.deepEqual(answers.get("/things"), { kind: "value", value: [{ id: 1 }, { id: 2 }] });
        assert.deepEqual(sent(), ["beta /$batch 1 /things", "beta /$batch 1 /things?$skiptoken=b"]);
    });
});
