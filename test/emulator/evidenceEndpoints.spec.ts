import * as assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { accessToken, batchBody, callEmulator, EmulatorReply, runProbe } from "./emulatorClient";
import {
    BUILT_IN_AUTHENTICATION_STRENGTHS,
    EmulatedConditionalAccessPolicy,
    EmulatedDirectoryRole,
    EmulatedGroup,
    EmulatedUser,
    FAULT_PATHS,
    GraphEmulator,
    startGraphEmulator,
} from "./graphEmulator";

const ALICE: EmulatedUser = {
    id: "2a000000-0000-4000-8000-000000000001",
    userPrincipalName: "alice@contoso.example",
    displayName: "Alice",
    isMfaCapable: true,
    isMfaRegistered: true,
};
const BOB: EmulatedUser = {
    id: "2a000000-0000-4000-8000-000000000002",
    userPrincipalName: "bob_fabrikam.example#EXT#@contoso.example",
    displayName: "Bob",
    userType: "Guest",
    isMfaCapable: false,
};
/** No row in the registration report. */
const CAROL: EmulatedUser = { id: "2a000000-0000-4000-8000-000000000003", userPrincipalName: "carol@contoso.example", displayName: "Carol" };
const DAVE: EmulatedUser = { id: "2a000000-0000-4000-8000-000000000004", userPrincipalName: "dave@contoso.example", displayName: "Dave", isMfaRegistered: true };

const ADMINS: EmulatedGroup = { id: "3b000000-0000-4000-8000-000000000001", displayName: "Tenant admins", members: [ALICE.id], isAssignableToRole: true };
const PLATFORM: EmulatedGroup = { id: "3b000000-0000-4000-8000-000000000002", displayName: "Platform team", members: [DAVE.id] };
/** Holds Platform team, so Dave is in it only through nesting. */
const ENGINEERING: EmulatedGroup = { id: "3b000000-0000-4000-8000-000000000003", displayName: "Engineering", members: [PLATFORM.id, BOB.id] };
const BREAK_GLASS: EmulatedGroup = { id: "3b000000-0000-4000-8000-000000000004", displayName: "Break glass", members: [CAROL.id] };

const GLOBAL_ADMINISTRATOR: EmulatedDirectoryRole = {
    id: "4c000000-0000-4000-8000-000000000001",
    templateId: "62e90394-69f5-4237-9190-012177145e10",
    displayName: "Global Administrator",
    members: [ADMINS.id],
};
const PRIVILEGED_ROLE_ADMINISTRATOR: EmulatedDirectoryRole = {
    id: "4c000000-0000-4000-8000-000000000002",
    templateId: "e8611ab8-c189-46e8-94e1-60213ab1f814",
    displayName: "Privileged Role Administrator",
    members: [DAVE.id],
};

const REQUIRE_MFA: EmulatedConditionalAccessPolicy = {
    id: "5d000000-0000-4000-8000-000000000001",
    displayName: "Require MFA for all users",
    state: "enabled",
    conditions: { users: { includeUsers: ["All"], excludeGroups: [BREAK_GLASS.id] }, applications: { includeApplications: ["All"] } },
    grantControls: { builtInControls: ["mfa"] },
};
const ADMINS_STRENGTH_REPORT_ONLY: EmulatedConditionalAccessPolicy = {
    id: "5d000000-0000-4000-8000-000000000002",
    displayName: "Phishing-resistant MFA for admins",
    state: "enabledForReportingButNotEnforced",
    conditions: { users: { includeRoles: [GLOBAL_ADMINISTRATOR.templateId] }, applications: { includeApplications: ["All"] } },
    grantControls: { operator: "AND", authenticationStrength: BUILT_IN_AUTHENTICATION_STRENGTHS.phishingResistantMfa },
};
const GUESTS_SESSION_ONLY: EmulatedConditionalAccessPolicy = {
    id: "5d000000-0000-4000-8000-000000000003",
    displayName: "Guest sign-in frequency",
    state: "disabled",
    conditions: {
        users: {
            includeGuestsOrExternalUsers: {
                guestOrExternalUserTypes: "internalGuest,b2bCollaborationGuest",
                externalTenants: { "@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants", membershipKind: "all" },
            },
        },
    },
    sessionControls: { signInFrequency: { isEnabled: true, type: "hours", value: 4 } },
};

const FIXTURE = {
    users: [ALICE, BOB, CAROL, DAVE],
    groups: [ADMINS, PLATFORM, ENGINEERING, BREAK_GLASS],
    directoryRoles: [GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR],
    conditionalAccessPolicies: [REQUIRE_MFA, ADMINS_STRENGTH_REPORT_ONLY, GUESTS_SESSION_ONLY],
};

const CA_POLICIES = "/identity/conditionalAccess/policies";
const SECURITY_DEFAULTS = "/policies/identitySecurityDefaultsEnforcementPolicy";
const REGISTRATION_DETAILS = "/reports/authenticationMethods/userRegistrationDetails";

const idsOf = (items: { id: string }[]) => items.map((item) => item.id).sort();

/** A copy without `@odata.type` and `name@odata.type` keys, to compare an annotated answer with a plain one. */
function withoutTypeAnnotations(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(withoutTypeAnnotations);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(Object.entries(value).filter(([key]) => !key.endsWith("@odata.type")).map(([key, inner]) => [key, withoutTypeAnnotations(inner)]));
}

/** Sub-responses of a `$batch`, by request id. */
function subResponsesById(reply: EmulatorReply): Map<string, { status: number; headers: Record<string, string>; body: any }> {
    return new Map((reply.json().responses as { id: string; status: number; headers: Record<string, string>; body: any }[]).map((r) => [r.id, r]));
}

describe("the evidence endpoints of startGraphEmulator", () => {
    let emulator: GraphEmulator;
    let token: string;

    const get = (requestPath: string) => callEmulator(emulator, "GET", requestPath, { token });

    /** Follows `@odata.nextLink` from the first page to the last; returns every page's body. */
    async function getAllPages(requestPath: string): Promise<any[]> {
        const pages: any[] = [];
        let next: string | undefined = requestPath;
        while (next !== undefined) {
            const reply = await get(next);
            assert.equal(reply.status, 200, reply.text);
            const page = reply.json();
            pages.push(page);
            const nextLink = page["@odata.nextLink"] as string | undefined;
            if (nextLink !== undefined) assert.ok(nextLink.startsWith(`${emulator.url}/`), `nextLink ${nextLink} is absolute on the emulator`);
            next = nextLink?.slice(emulator.url.length);
        }
        return pages;
    }

    before(async () => {
        emulator = await startGraphEmulator(FIXTURE);
        token = await accessToken(emulator);
    });

    afterEach(() => {
        emulator.reset();
        emulator.setServiceLimits({});
        emulator.setThrottle(undefined);
        emulator.setConditionalAccessPolicies(FIXTURE.conditionalAccessPolicies);
        emulator.setConditionalAccessODataAnnotations(false);
        emulator.setSecurityDefaults(false);
        for (const group of FIXTURE.groups) emulator.upsertGroup(group);
    });

    after(async () => {
        await emulator.close();
    });

    describe("GET /{version}/identity/conditionalAccess/policies", () => {
        it("lists every policy in Graph's shape, with the @odata.context of the collection", async () => {
            const reply = await get(`/v1.0${CA_POLICIES}`);

            assert.equal(reply.status, 200);
            const body = reply.json();
            assert.equal(body["@odata.context"], `${emulator.url}/v1.0/$metadata#identity/conditionalAccess/policies`);
            assert.equal(body["@odata.nextLink"], undefined);
            assert.deepEqual(body.value[0], {
                id: REQUIRE_MFA.id,
                displayName: "Require MFA for all users",
                state: "enabled",
                createdDateTime: null,
                modifiedDateTime: null,
                templateId: null,
                conditions: {
                    users: {
                        includeUsers: ["All"],
                        excludeUsers: [],
                        includeGroups: [],
                        excludeGroups: [BREAK_GLASS.id],
                        includeRoles: [],
                        excludeRoles: [],
                        includeGuestsOrExternalUsers: null,
                        excludeGuestsOrExternalUsers: null,
                    },
                    applications: {
                        includeApplications: ["All"],
                        excludeApplications: [],
                        includeUserActions: [],
                        includeAuthenticationContextClassReferences: [],
                        applicationFilter: null,
                    },
                    clientAppTypes: ["all"],
                    platforms: null,
                    locations: null,
                    signInRiskLevels: [],
                    userRiskLevels: [],
                    servicePrincipalRiskLevels: [],
                    clientApplications: null,
                    devices: null,
                    authenticationFlows: null,
                    insiderRiskLevels: null,
                },
                grantControls: {
                    operator: "OR",
                    builtInControls: ["mfa"],
                    customAuthenticationFactors: [],
                    termsOfUse: [],
                    authenticationStrength: null,
                    "authenticationStrength@odata.context":
                        `${emulator.url}/v1.0/$metadata#identity/conditionalAccess/policies('${REQUIRE_MFA.id}')/grantControls/authenticationStrength/$entity`,
                },
                sessionControls: null,
            });
            assert.deepEqual(body.value.map((policy: { id: string }) => policy.id), [REQUIRE_MFA.id, ADMINS_STRENGTH_REPORT_ONLY.id, GUESTS_SESSION_ONLY.id]);
        });

        it("carries the authentication strength, report-only state and guest conditions it was given", async () => {
            const reply = await get(`/beta${CA_POLICIES}`);

            const [, reportOnly, guests] = reply.json().value;
            assert.equal(reportOnly.state, "enabledForReportingButNotEnforced");
            assert.equal(reportOnly.grantControls.operator, "AND");
            assert.deepEqual(reportOnly.grantControls.builtInControls, []);
            assert.equal(reportOnly.grantControls.authenticationStrength.id, "00000000-0000-0000-0000-000000000004");
            assert.equal(reportOnly.grantControls.authenticationStrength.requirementsSatisfied, "mfa");
            assert.deepEqual(reportOnly.conditions.users.includeRoles, [GLOBAL_ADMINISTRATOR.templateId]);
            assert.equal(guests.conditions.users.includeGuestsOrExternalUsers.guestOrExternalUserTypes, "internalGuest,b2bCollaborationGuest");
            assert.equal(guests.grantControls, null, "a session-only policy has no grant controls");
            assert.deepEqual(guests.sessionControls, { signInFrequency: { isEnabled: true, type: "hours", value: 4 } });
        });

        it("lists the beta-only conditions in beta and leaves them out of v1.0", async () => {
            const deviceFilter = { mode: "exclude", rule: "device.isCompliant -eq True" };
            emulator.setConditionalAccessPolicies([{
                ...REQUIRE_MFA,
                conditions: {
                    ...REQUIRE_MFA.conditions,
                    devices: { includeDevices: ["All"], excludeDevices: ["Compliant"], deviceFilter },
                    authenticationFlows: { transferMethods: "deviceCodeFlow" },
                    insiderRiskLevels: "elevated",
                    agentIdRiskLevels: "high",
                },
            }]);

            const [beta] = (await get(`/beta${CA_POLICIES}`)).json().value;
            const [v1] = (await get(`/v1.0${CA_POLICIES}`)).json().value;

            assert.deepEqual(beta.conditions.devices, { includeDevices: ["All"], excludeDevices: ["Compliant"], deviceFilter });
            assert.equal(beta.conditions.agentIdRiskLevels, "high");
            assert.deepEqual(v1.conditions.devices, { deviceFilter });
            assert.equal("agentIdRiskLevels" in v1.conditions, false);
            for (const policy of [beta, v1]) {
                assert.deepEqual(policy.conditions.authenticationFlows, { transferMethods: "deviceCodeFlow" });
                assert.equal(policy.conditions.insiderRiskLevels, "elevated");
            }
        });

        it("annotates every object and typed property like a beta export when conditionalAccessODataAnnotations is on, and changes nothing else", async () => {
            const plain = (await get(`/beta${CA_POLICIES}`)).json().value;
            emulator.setConditionalAccessODataAnnotations(true);

            const annotated = (await get(`/beta${CA_POLICIES}`)).json().value;

            const [requireMfa, strength, guests] = annotated;
            assert.equal(requireMfa["@odata.type"], "#microsoft.graph.conditionalAccessPolicy");
            assert.equal(requireMfa["state@odata.type"], "#microsoft.graph.conditionalAccessPolicyState");
            assert.equal(requireMfa["conditions@odata.type"], "#microsoft.graph.conditionalAccessConditionSet");
            assert.equal(requireMfa.conditions["@odata.type"], "#microsoft.graph.conditionalAccessConditionSet");
            assert.equal(requireMfa.conditions["users@odata.type"], "#microsoft.graph.conditionalAccessUsers");
            assert.equal(requireMfa.conditions.users["@odata.type"], "#microsoft.graph.conditionalAccessUsers");
            assert.equal(requireMfa.conditions.users["includeUsers@odata.type"], "#Collection(String)");
            assert.equal(requireMfa.conditions["clientAppTypes@odata.type"], "#Collection(microsoft.graph.conditionalAccessClientApp)");
            assert.equal(requireMfa.grantControls["builtInControls@odata.type"], "#Collection(microsoft.graph.conditionalAccessGrantControl)");
            assert.equal(strength.grantControls.authenticationStrength["@odata.type"], "#microsoft.graph.authenticationStrengthPolicy");
            assert.equal(strength.grantControls.authenticationStrength["allowedCombinations@odata.type"], "#Collection(microsoft.graph.authenticationMethodModes)");
            assert.equal(guests.conditions.users.includeGuestsOrExternalUsers.externalTenants["@odata.type"], "#microsoft.graph.conditionalAccessAllExternalTenants");
            assert.equal("platforms@odata.type" in requireMfa.conditions, false, "a null property has no type annotation");
            assert.deepEqual(withoutTypeAnnotations(annotated), withoutTypeAnnotations(plain));
        });

        it("gets one policy by id, and answers 404 for an id it does not hold", async () => {
            const found = await get(`/v1.0${CA_POLICIES}/${ADMINS_STRENGTH_REPORT_ONLY.id}`);
            const missing = await get(`/v1.0${CA_POLICIES}/5d000000-0000-4000-8000-0000000000ff`);

            assert.equal(found.status, 200);
            assert.equal(found.json().displayName, ADMINS_STRENGTH_REPORT_ONLY.displayName);
            assert.equal(found.json()["@odata.context"], `${emulator.url}/v1.0/$metadata#identity/conditionalAccess/policies/$entity`);
            assert.equal(missing.status, 404);
            assert.equal(missing.json().error.code, "Request_ResourceNotFound");
        });

        it("filters on state and selects properties", async () => {
            const reply = await get(`/v1.0${CA_POLICIES}?$filter=${encodeURIComponent("state eq 'enabled'")}&$select=id,state`);

            assert.equal(reply.status, 200);
            assert.equal(reply.json()["@odata.context"], `${emulator.url}/v1.0/$metadata#identity/conditionalAccess/policies(id,state)`);
            assert.deepEqual(reply.json().value, [{ id: REQUIRE_MFA.id, state: "enabled" }]);
        });

        it("pages with an absolute @odata.nextLink that keeps the query and ends on the last page", async () => {
            const many = Array.from({ length: 5 }, (_, i): EmulatedConditionalAccessPolicy => ({
                id: `5d000000-0000-4000-8000-1000000000${String(i).padStart(2, "0")}`,
                displayName: `Policy ${i}`,
                state: "enabled",
            }));
            emulator.setConditionalAccessPolicies(many);

            const pages = await getAllPages(`/v1.0${CA_POLICIES}?$top=2&$select=id`);

            assert.deepEqual(pages.map((page) => page.value.length), [2, 2, 1]);
            assert.deepEqual(pages.flatMap((page) => page.value.map((policy: { id: string }) => policy.id)), many.map((policy) => policy.id));
            assert.match(pages[0]["@odata.nextLink"], /\$top=2&\$select=id&\$skiptoken=/);
            assert.equal(pages[2]["@odata.nextLink"], undefined);
        });

        it("rejects a $skiptoken it did not issue", async () => {
            const reply = await get(`/v1.0${CA_POLICIES}?$skiptoken=forged`);

            assert.equal(reply.status, 400);
        });

        it("follows setConditionalAccessPolicies", async () => {
            emulator.setConditionalAccessPolicies([]);

            const reply = await get(`/v1.0${CA_POLICIES}`);

            assert.deepEqual(reply.json().value, []);
            assert.deepEqual(emulator.conditionalAccessPolicies, []);
        });

        it("answers inside $batch, next to the other evidence endpoints", async () => {
            const reply = await callEmulator(emulator, "POST", "/v1.0/$batch", {
                token,
                body: batchBody([
                    { id: "ca", url: CA_POLICIES },
                    { id: "defaults", url: SECURITY_DEFAULTS },
                    { id: "registration", url: `${REGISTRATION_DETAILS}?$filter=${encodeURIComponent(`id eq '${ALICE.id}'`)}` },
                    { id: "memberOf", url: `/users/${DAVE.id}/transitiveMemberOf` },
                    { id: "members", url: `/groups/${ENGINEERING.id}/transitiveMembers` },
                ]),
            });

            assert.equal(reply.status, 200);
            const byId = subResponsesById(reply);
            assert.deepEqual([...byId.values()].map((r) => r.status), [200, 200, 200, 200, 200]);
            assert.equal(byId.get("ca")?.body.value.length, 3);
            assert.equal(byId.get("defaults")?.body.isEnabled, false);
            assert.equal(byId.get("registration")?.body.value[0].id, ALICE.id);
            assert.equal(byId.get("memberOf")?.body.value.length, 3);
            assert.equal(byId.get("members")?.body.value.length, 3);
        });

        it("is faulted through its FAULT_PATHS entry like any other endpoint", async () => {
            const fault = emulator.faults.inject({ kind: "status", status: 503, path: FAULT_PATHS.conditionalAccessPolicies, times: 1 });

            const faulted = await get(`/v1.0${CA_POLICIES}`);
            const next = await get(`/v1.0${CA_POLICIES}`);

            assert.equal(faulted.status, 503);
            assert.equal(next.status, 200);
            assert.equal(fault.hits, 1);
        });
    });

    describe("the Conditional Access service limit", () => {
        it("is off by default", async () => {
            const replies = await Promise.all(Array.from({ length: 4 }, () => get(`/v1.0${CA_POLICIES}`)));

            assert.deepEqual(replies.map((reply) => reply.status), [200, 200, 200, 200]);
        });

        it("answers 429 without Retry-After beyond conditionalAccessRequestsPerSecond, then serves again a second later", async () => {
            emulator.setServiceLimits({ conditionalAccessRequestsPerSecond: 1 });

            const first = await get(`/v1.0${CA_POLICIES}`);
            const throttled = await get(`/beta${CA_POLICIES}`);
            const otherEndpoint = await get(`/v1.0${SECURITY_DEFAULTS}`);
            await sleep(1_050);
            const afterWait = await get(`/v1.0${CA_POLICIES}`);

            assert.equal(first.status, 200);
            assert.equal(throttled.status, 429);
            assert.equal(throttled.json().error.code, "TooManyRequests");
            assert.equal(throttled.headers["retry-after"], undefined);
            assert.equal(otherEndpoint.status, 200, "the limit covers Conditional Access only");
            assert.equal(afterWait.status, 200);
        });

        it("counts each $batch sub-request, throttling the second without Retry-After", async () => {
            emulator.setServiceLimits({ conditionalAccessRequestsPerSecond: 1 });

            const reply = await callEmulator(emulator, "POST", "/v1.0/$batch", {
                token,
                body: batchBody([{ id: "1", url: CA_POLICIES }, { id: "2", url: `${CA_POLICIES}/${REQUIRE_MFA.id}` }]),
            });

            const byId = subResponsesById(reply);
            assert.equal(byId.get("1")?.status, 200);
            assert.equal(byId.get("2")?.status, 429);
            assert.equal(byId.get("2")?.headers["Retry-After"], undefined);
        });
    });

    describe("GET /{version}/policies/identitySecurityDefaultsEnforcementPolicy", () => {
        it("answers the security defaults singleton, off by default", async () => {
            const reply = await get(`/v1.0${SECURITY_DEFAULTS}`);

            assert.equal(reply.status, 200);
            const { description, ...rest } = reply.json();
            assert.deepEqual(rest, {
                "@odata.context": `${emulator.url}/v1.0/$metadata#policies/identitySecurityDefaultsEnforcementPolicy`,
                id: "00000000-0000-0000-0000-000000000005",
                displayName: "Security Defaults",
                isEnabled: false,
            });
            assert.equal(typeof description, "string");
        });

        it("follows setSecurityDefaults, in beta too", async () => {
            emulator.setSecurityDefaults(true);

            const reply = await get(`/beta${SECURITY_DEFAULTS}?$select=isEnabled`);

            assert.equal(reply.json().isEnabled, true);
            assert.equal("displayName" in reply.json(), false);
            assert.equal(emulator.securityDefaultsEnabled, true);
        });
    });

    describe("GET /{version}/reports/authenticationMethods/userRegistrationDetails", () => {
        const byIdFilter = (id: string) => `${REGISTRATION_DETAILS}?$filter=${encodeURIComponent(`id eq '${id}'`)}`;

        it("answers $filter=id eq '<id>' with that user's row in Graph's shape", async () => {
            const reply = await get(`/v1.0${byIdFilter(ALICE.id)}`);

            assert.equal(reply.status, 200);
            const body = reply.json();
            assert.equal(body["@odata.context"], `${emulator.url}/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails`);
            assert.equal(body.value.length, 1);
            const { lastUpdatedDateTime, ...row } = body.value[0];
            assert.ok(!Number.isNaN(Date.parse(lastUpdatedDateTime)), `lastUpdatedDateTime ${lastUpdatedDateTime}`);
            assert.deepEqual(row, {
                id: ALICE.id,
                userPrincipalName: ALICE.userPrincipalName,
                userDisplayName: "Alice",
                userType: "member",
                isAdmin: true,
                isSsprRegistered: false,
                isSsprEnabled: false,
                isSsprCapable: false,
                isMfaRegistered: true,
                isMfaCapable: true,
                isPasswordlessCapable: false,
                methodsRegistered: ["microsoftAuthenticatorPush"],
                defaultMfaMethod: "microsoftAuthenticatorPush",
                isSystemPreferredAuthenticationMethodEnabled: true,
                systemPreferredAuthenticationMethods: ["push"],
                userPreferredMethodForSecondaryAuthentication: "push",
            });
        });

        it("answers an empty value list for a user without a row", async () => {
            const reply = await get(`/beta${byIdFilter(CAROL.id)}`);

            assert.equal(reply.status, 200);
            assert.deepEqual(reply.json().value, []);
        });

        it("shows a guest in lower case, not capable, and not an admin", async () => {
            const [row] = (await get(`/v1.0${byIdFilter(BOB.id)}`)).json().value;

            assert.equal(row.userType, "guest");
            assert.equal(row.isMfaCapable, false);
            assert.equal(row.isMfaRegistered, false);
            assert.deepEqual(row.methodsRegistered, []);
            assert.equal(row.isAdmin, false);
        });

        it("filters on isMfaCapable combined with in ()", async () => {
            const filter = `isMfaCapable eq false and id in ('${BOB.id}','${DAVE.id}','${ALICE.id}')`;

            const reply = await get(`/v1.0${REGISTRATION_DETAILS}?$filter=${encodeURIComponent(filter)}`);

            assert.deepEqual(idsOf(reply.json().value), [BOB.id, DAVE.id].sort());
        });

        it("rejects a filter on a property the report does not have", async () => {
            const reply = await get(`/v1.0${REGISTRATION_DETAILS}?$filter=${encodeURIComponent("favouriteColour eq 'blue'")}`);

            assert.equal(reply.status, 400);
            assert.match(reply.json().error.message, /favouriteColour/);
        });

        it("lists every user with a row across pages", async () => {
            const pages = await getAllPages(`/v1.0${REGISTRATION_DETAILS}?$top=2`);

            assert.equal(pages.length, 2);
            assert.deepEqual(idsOf(pages.flatMap((page) => page.value)), [ALICE.id, BOB.id, DAVE.id].sort());
        });

        it("gets one row by id, and answers 404 for a user without one", async () => {
            const found = await get(`/v1.0${REGISTRATION_DETAILS}/${DAVE.id}`);
            const missing = await get(`/v1.0${REGISTRATION_DETAILS}/${CAROL.id}`);

            assert.equal(found.status, 200);
            assert.equal(found.json().isMfaRegistered, true);
            assert.equal(found.json().isMfaCapable, false);
            assert.equal(found.json().isAdmin, true, "Dave holds Privileged Role Administrator directly");
            assert.equal(missing.status, 404);
        });

        it("answers 429 with Retry-After beyond reportsRequestsPer10Seconds", async () => {
            emulator.setServiceLimits({ reportsRequestsPer10Seconds: 5 });

            const replies: EmulatorReply[] = [];
            for (let i = 0; i < 6; i++) replies.push(await get(`/v1.0${byIdFilter(ALICE.id)}`));

            assert.deepEqual(replies.map((reply) => reply.status), [200, 200, 200, 200, 200, 429]);
            const retryAfter = Number(replies[5].headers["retry-after"]);
            assert.ok(retryAfter >= 9 && retryAfter <= 10, `Retry-After ${retryAfter}`);
        });
    });

    describe("GET /{version}/users/{id}/transitiveMemberOf", () => {
        it("lists nested groups and the directory roles held directly, each with its @odata.type", async () => {
            const reply = await get(`/v1.0/users/${DAVE.id}/transitiveMemberOf?$select=id,displayName,roleTemplateId`);

            assert.equal(reply.status, 200);
            assert.equal(reply.json()["@odata.context"], `${emulator.url}/v1.0/$metadata#directoryObjects(id,displayName,roleTemplateId)`);
            assert.deepEqual(reply.json().value, [
                { "@odata.type": "#microsoft.graph.group", id: PLATFORM.id, displayName: "Platform team" },
                { "@odata.type": "#microsoft.graph.group", id: ENGINEERING.id, displayName: "Engineering" },
                {
                    "@odata.type": "#microsoft.graph.directoryRole",
                    id: PRIVILEGED_ROLE_ADMINISTRATOR.id,
                    displayName: "Privileged Role Administrator",
                    roleTemplateId: PRIVILEGED_ROLE_ADMINISTRATOR.templateId,
                },
            ]);
        });

        it("lists a role the user holds through a role-assignable group", async () => {
            const reply = await get(`/beta/users/${ALICE.userPrincipalName}/transitiveMemberOf`);

            const roles = reply.json().value.filter((object: { "@odata.type": string }) => object["@odata.type"] === "#microsoft.graph.directoryRole");
            assert.deepEqual(roles.map((role: { roleTemplateId: string }) => role.roleTemplateId), [GLOBAL_ADMINISTRATOR.templateId]);
        });

        it("lists only groups after the microsoft.graph.group cast, without @odata.type", async () => {
            const reply = await get(`/v1.0/users/${DAVE.id}/transitiveMemberOf/microsoft.graph.group?$select=id`);

            assert.equal(reply.json()["@odata.context"], `${emulator.url}/v1.0/$metadata#groups(id)`);
            assert.deepEqual(reply.json().value, [{ id: PLATFORM.id }, { id: ENGINEERING.id }]);
        });

        it("follows upsertGroup", async () => {
            emulator.upsertGroup({ ...ENGINEERING, members: [BOB.id] });

            const reply = await get(`/v1.0/users/${DAVE.id}/transitiveMemberOf/microsoft.graph.group?$select=id`);

            assert.deepEqual(reply.json().value, [{ id: PLATFORM.id }]);
        });

        it("answers 404 for an unknown user and 400 for a cast it cannot apply", async () => {
            const unknownUser = await get("/v1.0/users/nobody@contoso.example/transitiveMemberOf");
            const userCast = await get(`/v1.0/users/${DAVE.id}/transitiveMemberOf/microsoft.graph.user`);

            assert.equal(unknownUser.status, 404);
            assert.equal(userCast.status, 400);
        });
    });

    describe("GET /{version}/groups/{id}/transitiveMembers", () => {
        it("flattens nested groups into users and groups, leaving userType and accountEnabled out of v1.0 defaults", async () => {
            const reply = await get(`/v1.0/groups/${ENGINEERING.id}/transitiveMembers`);

            assert.equal(reply.status, 200);
            const members = reply.json().value as Record<string, unknown>[];
            assert.deepEqual(members.map((member) => `${member["@odata.type"]} ${member.id}`).sort(), [
                `#microsoft.graph.group ${PLATFORM.id}`,
                `#microsoft.graph.user ${BOB.id}`,
                `#microsoft.graph.user ${DAVE.id}`,
            ].sort());
            const dave = members.find((member) => member.id === DAVE.id)!;
            assert.equal(dave.userPrincipalName, DAVE.userPrincipalName);
            assert.equal("userType" in dave, false);
            assert.equal("accountEnabled" in dave, false);
        });

        it("returns userType and accountEnabled when $select names them", async () => {
            const reply = await get(`/v1.0/groups/${ENGINEERING.id}/transitiveMembers/microsoft.graph.user?$select=id,userPrincipalName,displayName,userType,accountEnabled`);

            assert.equal(reply.json()["@odata.context"], `${emulator.url}/v1.0/$metadata#users(id,userPrincipalName,displayName,userType,accountEnabled)`);
            const users = (reply.json().value as { id: string }[]).sort((a, b) => a.id.localeCompare(b.id));
            assert.deepEqual(users, [
                { id: BOB.id, userPrincipalName: BOB.userPrincipalName, displayName: "Bob", userType: "Guest", accountEnabled: true },
                { id: DAVE.id, userPrincipalName: DAVE.userPrincipalName, displayName: "Dave", userType: "Member", accountEnabled: true },
            ]);
        });

        it("matches segment names case-insensitively, as Graph does", async () => {
            const reply = await get(`/v1.0/groups/${PLATFORM.id}/transitivemembers/Microsoft.Graph.User?$select=id`);

            assert.equal(reply.status, 200);
            assert.deepEqual(reply.json().value, [{ id: DAVE.id }]);
        });

        it("pages with $top through @odata.nextLink", async () => {
            const pages = await getAllPages(`/beta/groups/${ENGINEERING.id}/transitiveMembers?$top=1&$select=id`);

            assert.equal(pages.length, 3);
            assert.deepEqual(idsOf(pages.flatMap((page) => page.value)), [BOB.id, DAVE.id, PLATFORM.id].sort());
        });

        it("rejects $top above 999 and a $filter it does not serve", async () => {
            const tooLarge = await get(`/v1.0/groups/${ENGINEERING.id}/transitiveMembers?$top=1000`);
            const filtered = await get(`/v1.0/groups/${ENGINEERING.id}/transitiveMembers?$filter=${encodeURIComponent("id eq 'x'")}`);

            assert.equal(tooLarge.status, 400);
            assert.equal(filtered.status, 400);
        });

        it("answers 404 for an unknown group", async () => {
            const reply = await get("/v1.0/groups/3b000000-0000-4000-8000-0000000000ff/transitiveMembers");

            assert.equal(reply.status, 404);
            assert.equal(reply.json().error.code, "Request_ResourceNotFound");
        });
    });

    describe("GET /{version}/groups/{id}/transitiveMemberOf", () => {
        it("lists the groups a group is nested in", async () => {
            const reply = await get(`/v1.0/groups/${PLATFORM.id}/transitiveMemberOf?$select=id,displayName,roleTemplateId&$top=999`);

            assert.equal(reply.status, 200);
            assert.deepEqual(reply.json().value, [{ "@odata.type": "#microsoft.graph.group", id: ENGINEERING.id, displayName: "Engineering" }]);
        });

        it("lists the directory roles a role-assignable group holds", async () => {
            const reply = await get(`/v1.0/groups/${ADMINS.id}/transitiveMemberOf?$select=id,roleTemplateId`);

            assert.deepEqual(reply.json().value, [{ "@odata.type": "#microsoft.graph.directoryRole", id: GLOBAL_ADMINISTRATOR.id, roleTemplateId: GLOBAL_ADMINISTRATOR.templateId }]);
        });

        it("answers 404 Request_ResourceNotFound for an unknown group", async () => {
            const reply = await get("/v1.0/groups/3b000000-0000-4000-8000-0000000000ff/transitiveMemberOf");

            assert.equal(reply.status, 404);
            assert.equal(reply.json().error.code, "Request_ResourceNotFound");
        });

        it("is faulted through FAULT_PATHS.groupTransitiveMemberOf while users' memberships still answer", async () => {
            const fault = emulator.faults.inject({ kind: "status", status: 403, path: FAULT_PATHS.groupTransitiveMemberOf });

            const group = await get(`/v1.0/groups/${PLATFORM.id}/transitiveMemberOf`);
            const user = await get(`/v1.0/users/${DAVE.id}/transitiveMemberOf`);

            assert.equal(group.status, 403);
            assert.equal(group.json().error.code, "Authorization_RequestDenied");
            assert.equal(user.status, 200);
            assert.equal(fault.hits, 1);
        });
    });

    describe("GET /{version}/policies/authenticationStrengthPolicies", () => {
        const STRENGTHS = "/policies/authenticationStrengthPolicies";
        const CUSTOM = { id: "6e000000-0000-4000-8000-000000000001", displayName: "Password and SMS", allowedCombinations: ["password,sms"] };

        it("gets a built-in strength by id in Graph's shape", async () => {
            const reply = await get(`/v1.0${STRENGTHS}/${BUILT_IN_AUTHENTICATION_STRENGTHS.phishingResistantMfa.id}`);

            assert.equal(reply.status, 200);
            assert.deepEqual(reply.json(), {
                "@odata.context": `${emulator.url}/v1.0/$metadata#policies/authenticationStrengthPolicies/$entity`,
                "@odata.type": "#microsoft.graph.authenticationStrengthPolicy",
                ...BUILT_IN_AUTHENTICATION_STRENGTHS.phishingResistantMfa,
                combinationConfigurations: [],
            });
        });

        it("serves a custom strength a test adds, completed as Graph completes a new one, next to the built-in ones", async () => {
            emulator.upsertAuthenticationStrength(CUSTOM);

            const one = (await get(`/v1.0${STRENGTHS}/${CUSTOM.id}`)).json();
            const all = (await get(`/beta${STRENGTHS}`)).json().value;

            assert.equal(one.policyType, "custom");
            assert.equal(one.requirementsSatisfied, "mfa");
            assert.deepEqual(one.allowedCombinations, ["password,sms"]);
            assert.deepEqual(idsOf(all), [...Object.values(BUILT_IN_AUTHENTICATION_STRENGTHS).map((strength) => strength.id), CUSTOM.id].sort());
            assert.equal(emulator.authenticationStrengths.get(CUSTOM.id)?.displayName, "Password and SMS");
        });

        it("answers 404 Request_ResourceNotFound for an id it does not hold", async () => {
            const reply = await get(`/v1.0${STRENGTHS}/6e000000-0000-4000-8000-0000000000ff`);

            assert.equal(reply.status, 404);
            assert.equal(reply.json().error.code, "Request_ResourceNotFound");
        });

        it("is faulted through FAULT_PATHS.authenticationStrengths, inside $batch too", async () => {
            emulator.faults.inject({ kind: "status", status: 503, path: FAULT_PATHS.authenticationStrengths, times: 1 });

            const reply = await callEmulator(emulator, "POST", "/v1.0/$batch", {
                token,
                body: batchBody([{ id: "1", url: `${STRENGTHS}/${BUILT_IN_AUTHENTICATION_STRENGTHS.multifactorAuthentication.id}` }]),
            });

            assert.equal(subResponsesById(reply).get("1")?.status, 503);
        });
    });

    describe("GET /{version}/roleManagement/directory/roleEligibilityScheduleInstances", () => {
        const INSTANCES = "/roleManagement/directory/roleEligibilityScheduleInstances";
        const byPrincipal = (id: string) => `${INSTANCES}?$filter=${encodeURIComponent(`principalId eq '${id}'`)}`;
        const AU_SCOPE = "/administrativeUnits/7f000000-0000-4000-8000-000000000001";

        afterEach(() => {
            for (const user of FIXTURE.users) emulator.setRoleEligibilities(user.id, []);
        });

        it("lists a user's eligibilities with their scope, filtered by principalId", async () => {
            emulator.setRoleEligibilities(ALICE.id, [{ roleDefinitionId: GLOBAL_ADMINISTRATOR.templateId }, { roleDefinitionId: PRIVILEGED_ROLE_ADMINISTRATOR.templateId, directoryScopeId: AU_SCOPE }]);
            emulator.setRoleEligibilities(BOB.id, [{ roleDefinitionId: GLOBAL_ADMINISTRATOR.templateId }]);

            const reply = await get(`/v1.0${byPrincipal(ALICE.id)}&$select=principalId,roleDefinitionId,directoryScopeId`);

            assert.equal(reply.status, 200);
            assert.equal(reply.json()["@odata.context"], `${emulator.url}/v1.0/$metadata#roleManagement/directory/roleEligibilityScheduleInstances(principalId,roleDefinitionId,directoryScopeId)`);
            assert.deepEqual(reply.json().value, [
                { principalId: ALICE.id, roleDefinitionId: GLOBAL_ADMINISTRATOR.templateId, directoryScopeId: "/" },
                { principalId: ALICE.id, roleDefinitionId: PRIVILEGED_ROLE_ADMINISTRATOR.templateId, directoryScopeId: AU_SCOPE },
            ]);
        });

        it("lists an instance with every documented property, and nothing for a user without eligibilities", async () => {
            emulator.setRoleEligibilities(DAVE.id, [{ roleDefinitionId: GLOBAL_ADMINISTRATOR.templateId }]);

            const [instance] = (await get(`/beta${byPrincipal(DAVE.id)}`)).json().value;
            const none = (await get(`/v1.0${byPrincipal(CAROL.id)}`)).json().value;

            assert.deepEqual(Object.keys(instance).sort(), ["appScopeId", "directoryScopeId", "endDateTime", "id", "memberType", "principalId", "roleDefinitionId", "roleEligibilityScheduleId", "startDateTime"]);
            assert.equal(instance.memberType, "Direct");
            assert.deepEqual(none, []);
        });

        it("replaces one principal's eligibilities with setRoleEligibilities and pages with $top", async () => {
            emulator.setRoleEligibilities(ALICE.id, [{ roleDefinitionId: GLOBAL_ADMINISTRATOR.templateId }]);
            emulator.setRoleEligibilities(ALICE.id, [{ roleDefinitionId: PRIVILEGED_ROLE_ADMINISTRATOR.templateId }, { roleDefinitionId: "f2ef992c-3afb-46b9-b7cf-a126ee74c451" }]);

            const pages = await getAllPages(`/v1.0${byPrincipal(ALICE.id)}&$top=1`);

            assert.deepEqual(pages.flatMap((page) => page.value.map((instance: { roleDefinitionId: string }) => instance.roleDefinitionId)), [PRIVILEGED_ROLE_ADMINISTRATOR.templateId, "f2ef992c-3afb-46b9-b7cf-a126ee74c451"]);
            assert.equal(emulator.roleEligibilities.length, 2);
        });

        it("answers a tenant without PIM the way Graph does when faulted with 400 AadPremiumLicenseRequired", async () => {
            emulator.faults.inject({ kind: "status", status: 400, code: "AadPremiumLicenseRequired", message: "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.", path: FAULT_PATHS.roleEligibilities });

            const reply = await get(`/v1.0${byPrincipal(ALICE.id)}`);

            assert.equal(reply.status, 400);
            assert.equal(reply.json().error.code, "AadPremiumLicenseRequired");
        });
    });

    describe("countRequests", () => {
        it("counts direct requests and $batch sub-requests on a path, not the envelopes", async () => {
            await get(`/v1.0${CA_POLICIES}?$select=id`);
            await get(`/v1.0${SECURITY_DEFAULTS}`);
            await callEmulator(emulator, "POST", "/beta/$batch", {
                token,
                body: batchBody([{ id: "1", url: `${CA_POLICIES}?$top=1` }, { id: "2", url: SECURITY_DEFAULTS }, { id: "3", url: `identity/conditionalAccess/policies/${REQUIRE_MFA.id}` }]),
            });

            assert.equal(emulator.countRequests(FAULT_PATHS.conditionalAccessPolicies), 3);
            assert.equal(emulator.countRequests(FAULT_PATHS.securityDefaults), 2);
            assert.equal(emulator.countRequests(/^\/beta\//), 3);
            assert.equal(emulator.countRequests("$batch"), 0);
        });
    });
});

describe("Conditional Access policies through microsoft-graph-client in a child process", () => {
    const policies = Array.from({ length: 3 }, (_, i): EmulatedConditionalAccessPolicy => ({
        id: `5d000000-0000-4000-8000-2000000000${String(i).padStart(2, "0")}`,
        displayName: `Policy ${i}`,
        state: i === 1 ? "enabledForReportingButNotEnforced" : "enabled",
    }));
    let emulator: GraphEmulator;

    before(async () => {
        emulator = await startGraphEmulator({ conditionalAccessPolicies: policies, pageSize: 2 });
    });

    afterEach(() => {
        emulator.reset();
        emulator.setServiceLimits({});
    });

    after(async () => {
        await emulator.close();
    });

    it("lists every policy across pages with PageIterator following the emulator's nextLink", async () => {
        const { exitCode, outcome, stderr } = await runProbe(emulator, ["conditionalAccess", "127.0.0.1"]);

        assert.equal(exitCode, 0, stderr);
        assert.deepEqual(outcome?.body, { policies: policies.map((policy) => ({ id: policy.id, state: policy.state })) });
        const listings = emulator.requests.filter((request) => request.path === `/v1.0${CA_POLICIES}`);
        assert.deepEqual(listings.map((request) => request.query.includes("$skiptoken=")), [false, true]);
    });

    it("recovers through the client's own retry when the second page meets the 1 request/s limit without Retry-After", async () => {
        emulator.setServiceLimits({ conditionalAccessRequestsPerSecond: 1 });

        const { exitCode, outcome, stderr } = await runProbe(emulator, ["conditionalAccess", "127.0.0.1"]);

        assert.equal(exitCode, 0, stderr);
        assert.equal((outcome?.body as { policies: unknown[] }).policies.length, 3);
        const listings = emulator.requests.filter((request) => request.path === `/v1.0${CA_POLICIES}`);
        assert.deepEqual(listings.map((request) => request.status), [200, 429, 200]);
    });
});
