import * as assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { accessToken, batchBody, callEmulator, fetchToken, runProbe } from "./emulatorClient";
import { EmulatedUser, FAULT_PATHS, GraphEmulator, startGraphEmulator } from "./graphEmulator";
import { SlidingWindowThrottle } from "./throttle";

const ALICE: EmulatedUser = {
    id: "0a1b2c3d-0000-4000-8000-000000000001",
    userPrincipalName: "alice@contoso.example",
    displayName: "Alice",
    userType: "Member",
    accountEnabled: true,
    perUserMfaState: "enforced",
};
const BOB: EmulatedUser = { id: "0a1b2c3d-0000-4000-8000-000000000002", userPrincipalName: "bob@contoso.example", perUserMfaState: "disabled" };
const NO_STATE: EmulatedUser = { id: "0a1b2c3d-0000-4000-8000-000000000003", userPrincipalName: "nostate@contoso.example" };
const NULL_STATE: EmulatedUser = { id: "0a1b2c3d-0000-4000-8000-000000000004", userPrincipalName: "nullstate@contoso.example", perUserMfaState: null };
const FUTURE_STATE: EmulatedUser = { id: "0a1b2c3d-0000-4000-8000-000000000005", userPrincipalName: "future@contoso.example", perUserMfaState: "unknownFutureValue" };

/** Twenty-one users: one more than a batch may hold. */
const MANY_USERS: EmulatedUser[] = Array.from({ length: 21 }, (_, i) => ({
    id: `1a1b2c3d-0000-4000-8000-${String(i).padStart(12, "0")}`,
    userPrincipalName: `user${i}@contoso.example`,
    perUserMfaState: i % 2 === 0 ? "enabled" : "disabled",
}));

const requirementsUrl = (idOrUpn: string) => `/users/${encodeURIComponent(idOrUpn)}/authentication/requirements`;

describe("startGraphEmulator", () => {
    let emulator: GraphEmulator;

    before(async () => {
        emulator = await startGraphEmulator({ users: [ALICE, BOB, NO_STATE, NULL_STATE, FUTURE_STATE, ...MANY_USERS] });
    });

    afterEach(() => {
        emulator.reset();
        emulator.setThrottle(undefined);
        emulator.latencyMs = 0;
    });

    after(async () => {
        await emulator.close();
    });

    describe("with the real clients in a child process", () => {
        it("gives DefaultAzureCredential a token through openid-configuration and the token endpoint, and the token reads Graph", async () => {
            const { exitCode, outcome, stderr } = await runProbe(emulator, ["identity", ALICE.userPrincipalName]);

            assert.equal(exitCode, 0, stderr);
            assert.equal(outcome?.tokenObtained, true);
            assert.ok((outcome?.tokenExpiresInSeconds ?? 0) > 3500);
            assert.equal(outcome?.status, 200);
            assert.equal((outcome?.body as { perUserMfaState: string }).perUserMfaState, "enforced");
            assert.deepEqual(emulator.requests.map((r) => `${r.method} ${r.path} ${r.status}`), [
                `GET /${emulator.tenantId}/v2.0/.well-known/openid-configuration 200`,
                `POST /${emulator.tenantId}/oauth2/v2.0/token 200`,
                `GET /beta/users/${encodeURIComponent(ALICE.userPrincipalName)}/authentication/requirements 200`,
            ]);
            assert.equal(emulator.tokensIssued, 1);
        });

        it("serves microsoft-graph-client when customHosts names the bare host 127.0.0.1", async () => {
            const { exitCode, outcome, stderr } = await runProbe(emulator, ["graphClient", BOB.id, "127.0.0.1"]);

            assert.equal(exitCode, 0, stderr);
            assert.equal(outcome?.status, 200);
            assert.equal((outcome?.body as { perUserMfaState: string }).perUserMfaState, "disabled");
            assert.equal(emulator.tokensIssued, 1);
        });

        it("gets no token from microsoft-graph-client when customHosts names host:port, because the client strips the port before matching", async () => {
            const { outcome } = await runProbe(emulator, ["graphClient", BOB.id, `127.0.0.1:${new URL(emulator.url).port}`]);

            assert.equal(outcome?.error?.statusCode, 401);
            assert.equal(outcome?.error?.code, "InvalidAuthenticationToken");
            assert.equal(emulator.tokensIssued, 0);
            assert.deepEqual(emulator.requests.map((r) => r.endpoint), ["graph"]);
        });

        it("makes DefaultAzureCredential fail with invalid_client when the token endpoint is faulted", async () => {
            emulator.faults.inject({ kind: "status", status: 400, code: "invalid_client", path: FAULT_PATHS.token });

            const { exitCode, stderr } = await runProbe(emulator, ["identity", ALICE.id]);

            assert.equal(exitCode, 1);
            assert.match(stderr, /invalid_client/);
            assert.ok(!emulator.requests.some((r) => r.endpoint === "graph"), "no Graph call without a token");
        });
    });

    describe("token service", () => {
        it("publishes an openid-configuration whose endpoints all point back at the emulator", async () => {
            const reply = await callEmulator(emulator, "GET", `/${emulator.tenantId}/v2.0/.well-known/openid-configuration`);

            const config = reply.json();
            assert.equal(reply.status, 200);
            assert.equal(config.token_endpoint, `${emulator.url}/${emulator.tenantId}/oauth2/v2.0/token`);
            assert.equal(config.issuer, `${emulator.url}/${emulator.tenantId}/v2.0`);
            assert.equal(config.authorization_endpoint, `${emulator.url}/${emulator.tenantId}/oauth2/v2.0/authorize`);
            assert.equal(config.jwks_uri, `${emulator.url}/${emulator.tenantId}/discovery/v2.0/keys`);
        });

        it("answers an unknown tenant with invalid_tenant", async () => {
            const reply = await callEmulator(emulator, "GET", "/not-our-tenant/v2.0/.well-known/openid-configuration");

            assert.equal(reply.status, 400);
            assert.equal(reply.json().error, "invalid_tenant");
        });

        it("issues a bearer token for the right client secret and a /.default scope", async () => {
            const reply = await fetchToken(emulator);

            const body = reply.json();
            assert.equal(reply.status, 200);
            assert.deepEqual(Object.keys(body).sort(), ["access_token", "expires_in", "ext_expires_in", "token_type"]);
            assert.equal(body.token_type, "Bearer");
            assert.equal(body.expires_in, 3599);
            assert.equal(emulator.tokensIssued, 1);
        });

        it("rejects a wrong client secret with 401 invalid_client and AADSTS7000215", async () => {
            const reply = await fetchToken(emulator, { client_secret: "wrong" });

            assert.equal(reply.status, 401);
            assert.equal(reply.json().error, "invalid_client");
            assert.deepEqual(reply.json().error_codes, [7000215]);
            assert.equal(emulator.tokensIssued, 0);
        });

        it("rejects a scope without /.default with invalid_scope", async () => {
            const reply = await fetchToken(emulator, { scope: `${emulator.url}/User.Read` });

            assert.equal(reply.status, 400);
            assert.equal(reply.json().error, "invalid_scope");
        });

        it("rejects a grant other than client_credentials", async () => {
            const reply = await fetchToken(emulator, { grant_type: "password" });

            assert.equal(reply.status, 400);
            assert.equal(reply.json().error, "unsupported_grant_type");
        });
    });

    describe("Graph authentication", () => {
        it("answers 401 InvalidAuthenticationToken in Graph's error shape without a token", async () => {
            const reply = await callEmulator(emulator, "GET", `/beta${requirementsUrl(ALICE.id)}`);

            const error = reply.json().error;
            assert.equal(reply.status, 401);
            assert.equal(error.code, "InvalidAuthenticationToken");
            assert.equal(typeof error.message, "string");
            assert.equal(typeof error.innerError["request-id"], "string");
            assert.equal(typeof error.innerError.date, "string");
        });

        it("answers 401 to a token it did not issue", async () => {
            const reply = await callEmulator(emulator, "GET", `/beta${requirementsUrl(ALICE.id)}`, { token: "made-up" });

            assert.equal(reply.status, 401);
        });

        it("rejects tokens issued before expireAllTokens and accepts a fresh one", async () => {
            const oldToken = await accessToken(emulator);
            emulator.expireAllTokens();
            const freshToken = await accessToken(emulator);

            const withOld = await callEmulator(emulator, "GET", `/beta${requirementsUrl(ALICE.id)}`, { token: oldToken });
            const withFresh = await callEmulator(emulator, "GET", `/beta${requirementsUrl(ALICE.id)}`, { token: freshToken });

            assert.equal(withOld.status, 401);
            assert.match(withOld.json().error.message, /expired/);
            assert.equal(withFresh.status, 200);
        });

        it("rejects a token once its lifetime is over", async () => {
            const shortLived = await startGraphEmulator({ users: [ALICE], tokenLifetimeSeconds: 1 });
            try {
                const token = await accessToken(shortLived);
                await sleep(1100);

                const reply = await callEmulator(shortLived, "GET", `/beta${requirementsUrl(ALICE.id)}`, { token });

                assert.equal(reply.status, 401);
            } finally {
                await shortLived.close();
            }
        });
    });

    describe("GET /beta/users/{id}/authentication/requirements", () => {
        let token: string;
        before(async () => {
            token = await accessToken(emulator);
        });

        it("returns the user's perUserMfaState with an @odata.context", async () => {
            const reply = await callEmulator(emulator, "GET", `/beta${requirementsUrl(ALICE.id)}`, { token });

            assert.equal(reply.status, 200);
            assert.deepEqual(reply.json(), {
                "@odata.context": `${emulator.url}/beta/$metadata#users('${ALICE.id}')/authentication/requirements`,
                perUserMfaState: "enforced",
            });
        });

        it("finds users by userPrincipalName regardless of case", async () => {
            const reply = await callEmulator(emulator, "GET", `/beta${requirementsUrl(BOB.userPrincipalName.toUpperCase())}`, { token });

            assert.equal(reply.json().perUserMfaState, "disabled");
        });

        it("leaves perUserMfaState out when the user's state is undefined", async () => {
            const reply = await callEmulator(emulator, "GET", `/beta${requirementsUrl(NO_STATE.id)}`, { token });

            assert.equal(reply.status, 200);
            assert.equal("perUserMfaState" in reply.json(), false);
        });

        it("sends perUserMfaState null when the user's state is null", async () => {
            const reply = await callEmulator(emulator, "GET", `/beta${requirementsUrl(NULL_STATE.id)}`, { token });

            assert.equal(reply.json().perUserMfaState, null);
        });

        it("sends any other state string as-is", async () => {
            const reply = await callEmulator(emulator, "GET", `/beta${requirementsUrl(FUTURE_STATE.id)}`, { token });

            assert.equal(reply.json().perUserMfaState, "unknownFutureValue");
        });

        it("answers an unknown user with 404 Request_ResourceNotFound", async () => {
            const reply = await callEmulator(emulator, "GET", `/beta${requirementsUrl("nobody@contoso.example")}`, { token });

            assert.equal(reply.status, 404);
            assert.equal(reply.json().error.code, "Request_ResourceNotFound");
        });

        it("does not exist in v1.0", async () => {
            const reply = await callEmulator(emulator, "GET", `/v1.0${requirementsUrl(ALICE.id)}`, { token });

            assert.equal(reply.status, 400);
            assert.equal(reply.json().error.code, "BadRequest");
        });

        it("follows upsertUser and removeUser", async () => {
            const carol: EmulatedUser = { id: "0a1b2c3d-0000-4000-8000-0000000000c0", userPrincipalName: "carol@contoso.example", perUserMfaState: "enabled" };
            emulator.upsertUser(carol);
            const whilePresent = await callEmulator(emulator, "GET", `/beta${requirementsUrl(carol.userPrincipalName)}`, { token });
            assert.equal(emulator.removeUser(carol.id), true);
            const afterRemoval = await callEmulator(emulator, "GET", `/beta${requirementsUrl(carol.userPrincipalName)}`, { token });

            assert.equal(whilePresent.status, 200);
            assert.equal(afterRemoval.status, 404);
            assert.equal(emulator.users.has(carol.id), false);
        });
    });

    describe("GET /{version}/users/{id}", () => {
        let token: string;
        before(async () => {
            token = await accessToken(emulator);
        });

        it("leaves userType and accountEnabled out of the v1.0 default properties, as Graph does", async () => {
            const reply = await callEmulator(emulator, "GET", `/v1.0/users/${ALICE.id}`, { token });

            const user = reply.json();
            assert.equal(user.id, ALICE.id);
            assert.equal(user.userPrincipalName, ALICE.userPrincipalName);
            assert.equal(user.displayName, "Alice");
            assert.equal("userType" in user, false);
            assert.equal("accountEnabled" in user, false);
        });

        it("returns exactly the $select properties", async () => {
            const reply = await callEmulator(emulator, "GET", `/v1.0/users/${ALICE.userPrincipalName}?$select=id,userType,accountEnabled`, { token });

            assert.deepEqual(reply.json(), {
                "@odata.context": `${emulator.url}/v1.0/$metadata#users(id,userType,accountEnabled)/$entity`,
                id: ALICE.id,
                userType: "Member",
                accountEnabled: true,
            });
        });

        it("includes userType and accountEnabled by default in beta", async () => {
            const reply = await callEmulator(emulator, "GET", `/beta/users/${BOB.id}`, { token });

            assert.equal(reply.json().userType, "Member");
            assert.equal(reply.json().accountEnabled, true);
        });

        it("returns creationType, externalUserState and identities only when $select names them", async () => {
            const guest: EmulatedUser = {
                id: "0a1b2c3d-0000-4000-8000-0000000000a1",
                userPrincipalName: "carol_fabrikam.example#EXT#@contoso.example",
                userType: "Guest",
                creationType: "Invitation",
                externalUserState: "PendingAcceptance",
                identities: [{ signInType: "federated", issuer: "ExternalAzureAD", issuerAssignedId: null }],
            };
            emulator.upsertUser(guest);
            const select = "$select=id,creationType,externalUserState,identities";

            const plain = (await callEmulator(emulator, "GET", `/v1.0/users/${guest.id}`, { token })).json();
            const invited = (await callEmulator(emulator, "GET", `/v1.0/users/${guest.id}?${select}`, { token })).json();
            const member = (await callEmulator(emulator, "GET", `/beta/users/${ALICE.id}?${select}`, { token })).json();

            assert.equal("identities" in plain, false);
            assert.deepEqual({ ...invited, "@odata.context": undefined }, { "@odata.context": undefined, id: guest.id, creationType: "Invitation", externalUserState: "PendingAcceptance", identities: guest.identities });
            assert.deepEqual(member.identities, [{ signInType: "userPrincipalName", issuer: "contoso.example", issuerAssignedId: ALICE.userPrincipalName }]);
            assert.equal(member.creationType, null);
            assert.equal(member.externalUserState, null);
        });

        it("is faulted through FAULT_PATHS.userProfile, which leaves the user's sub-resources alone", async () => {
            const fault = emulator.faults.inject({ kind: "status", status: 503, path: FAULT_PATHS.userProfile });

            const profile = await callEmulator(emulator, "GET", `/v1.0/users/${ALICE.id}?$select=id`, { token });
            const requirements = await callEmulator(emulator, "GET", `/beta${requirementsUrl(ALICE.id)}`, { token });

            assert.equal(profile.status, 503);
            assert.equal(requirements.status, 200);
            assert.equal(fault.hits, 1);
        });

        it("rejects an unknown $select property", async () => {
            const reply = await callEmulator(emulator, "GET", `/v1.0/users/${ALICE.id}?$select=id,favouriteColour`, { token });

            assert.equal(reply.status, 400);
        });
    });

    describe("GET /{version}/users?$filter=userPrincipalName in (...)", () => {
        let token: string;
        before(async () => {
            token = await accessToken(emulator);
        });
        const listed = (filter: string) => callEmulator(emulator, "GET", `/v1.0/users?$filter=${encodeURIComponent(filter)}&$select=id,userPrincipalName`, { token });

        it("lists the users with those names, compared case-insensitively, and leaves out names nobody has", async () => {
            const reply = await listed(`userPrincipalName in ('${ALICE.userPrincipalName.toUpperCase()}','nobody@contoso.example','${BOB.userPrincipalName}')`);

            assert.equal(reply.status, 200);
            assert.deepEqual(
                reply.json().value.map((user: { id: string }) => user.id).sort(),
                [ALICE.id, BOB.id].sort(),
            );
            assert.equal(reply.json()["@odata.context"], `${emulator.url}/v1.0/$metadata#users(id,userPrincipalName)`);
        });

        it("rejects more than fifteen values in one 'in', as Graph does", async () => {
            const names = Array.from({ length: 16 }, (_, i) => `'user${i}@contoso.example'`).join(",");

            const reply = await listed(`userPrincipalName in (${names})`);

            assert.equal(reply.status, 400);
            assert.match(reply.json().error.message, /Max allowed: 15/);
        });

        it("applies a filter on other properties to every user", async () => {
            const reply = await listed(`userPrincipalName eq '${ALICE.userPrincipalName}' and accountEnabled eq false`);

            assert.equal(reply.status, 200);
            assert.deepEqual(reply.json().value, []);
        });
    });

    describe("POST /{version}/$batch", () => {
        let token: string;
        before(async () => {
            token = await accessToken(emulator);
        });

        it("answers a batch of 20 with 20 sub-responses matched by id, outer status 200", async () => {
            const users = MANY_USERS.slice(0, 20);
            const reply = await callEmulator(emulator, "POST", "/beta/$batch", {
                token,
                body: batchBody(users.map((user, i) => ({ id: String(i), url: requirementsUrl(user.id) }))),
            });

            assert.equal(reply.status, 200);
            const responses = reply.json().responses as { id: string; status: number; body: { perUserMfaState: string } }[];
            assert.equal(responses.length, 20);
            for (const response of responses) {
                assert.equal(response.status, 200);
                assert.equal(response.body.perUserMfaState, users[Number(response.id)].perUserMfaState);
            }
            assert.notDeepEqual(responses.map((r) => r.id), users.map((_, i) => String(i)), "responses come back out of request order");
        });

        it("rejects a batch of 21 with 400 and runs none of it", async () => {
            const reply = await callEmulator(emulator, "POST", "/beta/$batch", {
                token,
                body: batchBody(MANY_USERS.map((user, i) => ({ id: String(i), url: requirementsUrl(user.id) }))),
            });

            assert.equal(reply.status, 400);
            assert.equal(reply.json().error.code, "BadRequest");
            assert.equal(emulator.countGraphUnits(), 0);
        });

        it("rejects duplicate ids, compared case-insensitively", async () => {
            const reply = await callEmulator(emulator, "POST", "/beta/$batch", {
                token,
                body: batchBody([{ id: "a", url: requirementsUrl(ALICE.id) }, { id: "A", url: requirementsUrl(BOB.id) }]),
            });

            assert.equal(reply.status, 400);
        });

        it("keeps outer status 200 when sub-requests fail, each with its own status", async () => {
            const reply = await callEmulator(emulator, "POST", "/v1.0/$batch", {
                token,
                body: batchBody([
                    { id: "known", url: `/users/${ALICE.id}?$select=id,userType` },
                    { id: "unknown", url: "/users/nobody@contoso.example" },
                    { id: "betaOnly", url: requirementsUrl(ALICE.id) },
                ]),
            });

            assert.equal(reply.status, 200);
            const statusById = Object.fromEntries((reply.json().responses as { id: string; status: number }[]).map((r) => [r.id, r.status]));
            assert.deepEqual(statusById, { known: 200, unknown: 404, betaOnly: 400 });
        });

        it("needs a token for the batch itself", async () => {
            const reply = await callEmulator(emulator, "POST", "/beta/$batch", { body: batchBody([{ id: "1", url: requirementsUrl(ALICE.id) }]) });

            assert.equal(reply.status, 401);
        });
    });

    describe("throttling", () => {
        let token: string;
        before(async () => {
            token = await accessToken(emulator);
        });

        it("answers each sub-request beyond the budget with its own 429 and Retry-After", async () => {
            emulator.setThrottle({ unitsPerWindow: 5, windowMs: 10_000 });

            const reply = await callEmulator(emulator, "POST", "/beta/$batch", {
                token,
                body: batchBody(MANY_USERS.slice(0, 8).map((user, i) => ({ id: String(i), url: requirementsUrl(user.id) }))),
            });

            assert.equal(reply.status, 200);
            const responses = reply.json().responses as { id: string; status: number; headers: Record<string, string> }[];
            const byId = new Map(responses.map((r) => [Number(r.id), r]));
            assert.deepEqual([...Array(8).keys()].map((i) => byId.get(i)?.status), [200, 200, 200, 200, 200, 429, 429, 429]);
            for (const i of [5, 6, 7]) {
                const retryAfter = Number(byId.get(i)?.headers["Retry-After"]);
                assert.ok(retryAfter >= 9 && retryAfter <= 10, `Retry-After ${retryAfter}`);
            }
        });

        it("throttles direct requests on the same budget", async () => {
            emulator.setThrottle({ unitsPerWindow: 1, windowMs: 60_000 });

            const first = await callEmulator(emulator, "GET", `/beta${requirementsUrl(ALICE.id)}`, { token });
            const second = await callEmulator(emulator, "GET", `/beta${requirementsUrl(ALICE.id)}`, { token });

            assert.equal(first.status, 200);
            assert.equal(second.status, 429);
            assert.equal(second.json().error.code, "TooManyRequests");
            assert.equal(second.headers["retry-after"], "60");
        });

        it("frees units as they leave the sliding window", () => {
            const throttle = new SlidingWindowThrottle({ unitsPerWindow: 2, windowMs: 10_000 });

            assert.deepEqual(throttle.trySpend(1, 0), { allowed: true });
            assert.deepEqual(throttle.trySpend(1, 3_000), { allowed: true });
            assert.deepEqual(throttle.trySpend(1, 4_000), { allowed: false, retryAfterSeconds: 6 });
            assert.deepEqual(throttle.trySpend(1, 10_000), { allowed: true });
            assert.deepEqual(throttle.trySpend(1, 10_500), { allowed: false, retryAfterSeconds: 3 });
        });
    });

    describe("faults", () => {
        let token: string;
        before(async () => {
            token = await accessToken(emulator);
        });

        const getAlice = () => callEmulator(emulator, "GET", `/beta${requirementsUrl(ALICE.id)}`, { token });

        for (const [status, code] of [
            [401, "InvalidAuthenticationToken"],
            [403, "Authorization_RequestDenied"],
            [500, "UnknownError"],
            [502, "BadGateway"],
            [503, "ServiceUnavailable"],
            [504, "GatewayTimeout"],
        ] as const) {
            it(`answers ${status} ${code} for the next request only when times is 1`, async () => {
                const fault = emulator.faults.inject({ kind: "status", status, path: FAULT_PATHS.mfaRequirements, times: 1 });

                const faulted = await getAlice();
                const next = await getAlice();

                assert.equal(faulted.status, status);
                assert.equal(faulted.json().error.code, code);
                assert.equal(next.status, 200);
                assert.equal(fault.hits, 1);
                assert.equal(fault.active, false);
            });
        }

        it("answers 429 with the Retry-After it was given", async () => {
            emulator.faults.inject({ kind: "status", status: 429, retryAfterSeconds: 7, path: FAULT_PATHS.mfaRequirements, times: 1 });

            const reply = await getAlice();

            assert.equal(reply.status, 429);
            assert.equal(reply.headers["retry-after"], "7");
        });

        it("leaves Retry-After out of a 429 when told to", async () => {
            emulator.faults.inject({ kind: "status", status: 429, retryAfterSeconds: null, times: 1 });

            const reply = await getAlice();

            assert.equal(reply.status, 429);
            assert.equal(reply.headers["retry-after"], undefined);
        });

        it("only catches requests on its path", async () => {
            const fault = emulator.faults.inject({ kind: "status", status: 503, path: FAULT_PATHS.mfaRequirements });

            const user = await callEmulator(emulator, "GET", `/beta/users/${ALICE.id}`, { token });

            assert.equal(user.status, 200);
            assert.equal(fault.hits, 0);
        });

        it("stops after forMs", async () => {
            emulator.faults.inject({ kind: "status", status: 503, forMs: 500 });

            const during = await getAlice();
            await sleep(600);
            const after = await getAlice();

            assert.equal(during.status, 503);
            assert.equal(after.status, 200);
        });

        it("holds an answer back longer than a client's timeout", async () => {
            emulator.faults.inject({ kind: "delay", ms: 1_000, times: 1 });

            await assert.rejects(callEmulator(emulator, "GET", `/beta${requirementsUrl(ALICE.id)}`, { token, timeoutMs: 200 }), /client timeout/);
            const next = await getAlice();

            assert.equal(next.status, 200);
        });

        it("resets the connection in the middle of the body", async () => {
            emulator.faults.inject({ kind: "connectionReset", path: FAULT_PATHS.mfaRequirements, times: 1 });

            await assert.rejects(getAlice(), /aborted/);
            assert.equal(emulator.requests[0].fault, "connectionReset");
        });

        it("sends a body that is not JSON", async () => {
            emulator.faults.inject({ kind: "malformedJson", times: 1 });

            const reply = await getAlice();

            assert.equal(reply.status, 200);
            assert.throws(() => reply.json(), SyntaxError);
        });

        it("fails the token endpoint with an OAuth error body", async () => {
            emulator.faults.inject({ kind: "status", status: 400, code: "invalid_client", path: FAULT_PATHS.token, times: 1 });

            const reply = await fetchToken(emulator);

            assert.equal(reply.status, 400);
            assert.equal(reply.json().error, "invalid_client");
            assert.match(reply.json().error_description, /^AADSTS7000215/);
            assert.equal(emulator.tokensIssued, 0);
        });

        it("fails a whole batch when scoped to /$batch", async () => {
            emulator.faults.inject({ kind: "status", status: 503, path: FAULT_PATHS.batch, times: 1 });

            const reply = await callEmulator(emulator, "POST", "/beta/$batch", { token, body: batchBody([{ id: "1", url: requirementsUrl(ALICE.id) }]) });

            assert.equal(reply.status, 503);
        });

        it("catches only the $batch whose sub-requests match subRequestPath, for HTTP and envelope faults alike", async () => {
            const status = emulator.faults.inject({ kind: "status", status: 503, path: FAULT_PATHS.batch, subRequestPath: FAULT_PATHS.mfaRequirements });
            const drop = emulator.faults.inject({ kind: "batchDropResponses", path: FAULT_PATHS.batch, subRequestPath: FAULT_PATHS.conditionalAccessPolicies });
            const send = (url: string) => callEmulator(emulator, "POST", "/beta/$batch", { token, body: batchBody([{ id: "1", url }]) });

            const perUser = await send(requirementsUrl(ALICE.id));
            const policies = await send("/identity/conditionalAccess/policies");
            const neither = await send(`/users/${ALICE.id}`);

            assert.equal(perUser.status, 503);
            assert.equal(policies.status, 200);
            assert.deepEqual(policies.json().responses, []);
            assert.equal(neither.status, 200);
            assert.equal(neither.json().responses.length, 1);
            assert.deepEqual([status.hits, drop.hits], [1, 1]);
        });

        it("gives one sub-request the status of its choosing while the rest succeed", async () => {
            emulator.faults.inject({ kind: "status", status: 503, path: `/users/${BOB.id}/` });

            const reply = await callEmulator(emulator, "POST", "/beta/$batch", {
                token,
                body: batchBody([{ id: "alice", url: requirementsUrl(ALICE.id) }, { id: "bob", url: requirementsUrl(BOB.id) }]),
            });

            assert.equal(reply.status, 200);
            const statusById = Object.fromEntries((reply.json().responses as { id: string; status: number }[]).map((r) => [r.id, r.status]));
            assert.deepEqual(statusById, { alice: 200, bob: 503 });
            assert.equal(emulator.requests[0].subRequests?.find((s) => s.id === "bob")?.fault, "status");
        });

        it("drops sub-responses from a batch", async () => {
            emulator.faults.inject({ kind: "batchDropResponses", count: 2, times: 1 });

            const reply = await callEmulator(emulator, "POST", "/beta/$batch", {
                token,
                body: batchBody([ALICE, BOB, FUTURE_STATE].map((user) => ({ id: user.id, url: requirementsUrl(user.id) }))),
            });

            assert.equal(reply.status, 200);
            assert.equal(reply.json().responses.length, 1);
        });

        it("duplicates a sub-response id in a batch", async () => {
            emulator.faults.inject({ kind: "batchDuplicateIds", times: 1 });

            const reply = await callEmulator(emulator, "POST", "/beta/$batch", {
                token,
                body: batchBody([{ id: "1", url: requirementsUrl(ALICE.id) }, { id: "2", url: requirementsUrl(BOB.id) }]),
            });

            assert.deepEqual(reply.json().responses.map((r: { id: string }) => r.id), ["1", "1"]);
        });

        it("are all switched off by reset", async () => {
            emulator.faults.inject({ kind: "status", status: 500 });

            emulator.reset();

            assert.equal(emulator.faults.active.length, 0);
            assert.equal((await getAlice()).status, 200);
        });
    });

    describe("request log", () => {
        it("records every request with its status, batch sub-requests and Graph units, and no secrets", async () => {
            const token = await accessToken(emulator);
            const startedAt = Date.now();
            await callEmulator(emulator, "GET", `/beta${requirementsUrl(ALICE.id)}?$select=perUserMfaState`, { token });
            await callEmulator(emulator, "POST", "/beta/$batch", {
                token,
                body: batchBody([{ id: "1", url: requirementsUrl(BOB.id) }, { id: "2", url: requirementsUrl("nobody@contoso.example") }]),
            });

            const [tokenRequest, direct, batch] = emulator.requests;
            assert.equal(emulator.requests.length, 3);
            assert.equal(tokenRequest.endpoint, "token");
            assert.deepEqual(
                { method: direct.method, path: direct.path, query: direct.query, status: direct.status, isBatch: direct.isBatch },
                { method: "GET", path: `/beta/users/${ALICE.id}/authentication/requirements`, query: "?$select=perUserMfaState", status: 200, isBatch: false },
            );
            assert.ok(direct.at >= startedAt);
            assert.equal(batch.isBatch, true);
            assert.equal(batch.status, 200);
            assert.deepEqual(batch.subRequests, [
                { id: "1", method: "GET", url: requirementsUrl(BOB.id), status: 200 },
                { id: "2", method: "GET", url: requirementsUrl("nobody@contoso.example"), status: 404 },
            ]);
            assert.equal(emulator.countGraphUnits(), 3);
            const log = JSON.stringify(emulator.requests);
            assert.ok(!log.includes(token) && !log.includes(emulator.clientSecret));
        });

        it("adds latencyMs to every request", async () => {
            emulator.latencyMs = 150;
            const started = Date.now();

            await callEmulator(emulator, "GET", `/${emulator.tenantId}/v2.0/.well-known/openid-configuration`);

            assert.ok(Date.now() - started >= 150);
            assert.ok(emulator.requests[0].durationMs >= 150);
        });
    });

    describe("close", () => {
        it("stops listening and deletes the certificate and key", async () => {
            const shortLived = await startGraphEmulator();
            const { caCertPath } = shortLived;
            assert.equal(existsSync(caCertPath), true);

            await shortLived.close();

            assert.equal(existsSync(caCertPath), false);
            await assert.rejects(callEmulator(shortLived, "GET", `/${shortLived.tenantId}/v2.0/.well-known/openid-configuration`), /ECONNREFUSED/);
        });
    });
});
