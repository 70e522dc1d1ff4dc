import * as assert from "node:assert/strict";
import { BatchRunner } from "../../../policies/graph/batch";
import { GRAPH_DEFAULTS } from "../../../policies/graph/defaults";
import { answerFrom, PerUserMfaAnswer, readPerUserMfaStates, requirementsPath } from "../../../policies/graph/perUserMfa";
import { GraphResponse, GraphTransportError } from "../../../policies/graph/types";
import { FakeClock, FakeGraphTransport, mfaState, reply } from "./fakeTransport";

const OBJECT_ID = "6f1c2b9e-3d4a-4b5c-8d7e-9f0a1b2c3d4e";

function answered(status: number, body?: unknown): GraphResponse {
    return { status, headers: {}, body };
}

function reasonOf(answer: PerUserMfaAnswer): string {
    assert.equal(answer.kind, "unverified", `expected unverified, got ${JSON.stringify(answer)}`);
    return (answer as { reason: string }).reason;
}

describe("requirementsPath", () => {
    it("builds the per-user requirements path from an object id", () => {
        assert.equal(requirementsPath(OBJECT_ID), `/users/${OBJECT_ID}/authentication/requirements`);
    });

    it("encodes characters that would change the path or the query", () => {
        assert.equal(requirementsPath("alice@contoso.com"), "/users/alice%40contoso.com/authentication/requirements");
        assert.equal(requirementsPath("../../me"), "/users/..%2F..%2Fme/authentication/requirements");
        assert.equal(requirementsPath("a?b#c d"), "/users/a%3Fb%23c%20d/authentication/requirements");
    });
});

describe("answerFrom", () => {
    for (const state of ["enabled", "enforced", "disabled", "unknownFutureValue"]) {
        it(`reads the per-user MFA state '${state}'`, () => {
            assert.deepEqual(answerFrom(answered(200, { perUserMfaState: state }), OBJECT_ID), { kind: "state", state });
        });
    }

    it("keeps a null state as null", () => {
        assert.deepEqual(answerFrom(answered(200, { perUserMfaState: null }), OBJECT_ID), { kind: "state", state: null });
    });

    it("keeps a missing state as undefined", () => {
        assert.deepEqual(answerFrom(answered(200, {}), OBJECT_ID), { kind: "state", state: undefined });
    });

    for (const [description, body] of [
        ["a numeric state", { perUserMfaState: 1 }],
        ["a boolean state", { perUserMfaState: true }],
        ["an object state", { perUserMfaState: { value: "enabled" } }],
        ["no body", undefined],
        ["a null body", null],
        ["a string body", "enabled"],
    ] as const) {
        it(`marks the user unverified for ${description}`, () => {
            assert.equal(reasonOf(answerFrom(answered(200, body), OBJECT_ID)), "Graph's answer for the user could not be read (no perUserMfaState object)");
        });
    }

    it("explains a 401 as a rejected token, with Graph's error code", () => {
        const reason = reasonOf(answerFrom(answered(401, { error: { code: "InvalidAuthenticationToken" } }), OBJECT_ID));

        assert.equal(reason, "Graph rejected the credential's token (HTTP 401 InvalidAuthenticationToken), also after asking the credential again");
    });

    it("explains a 403 by naming the permission Policy.Read.All", () => {
        const reason = reasonOf(answerFrom(answered(403, { error: { code: "Authorization_RequestDenied" } }), OBJECT_ID));

        assert.match(reason, /^Graph denied access \(HTTP 403 Authorization_RequestDenied\); /);
        assert.match(reason, /Policy\.Read\.All/);
    });

    it("explains a 404 by naming the object id", () => {
        const reason = reasonOf(answerFrom(answered(404, { error: { code: "Request_ResourceNotFound" } }), OBJECT_ID));

        assert.equal(
            reason,
            `Graph has no user with object id ${OBJECT_ID} (HTTP 404 Request_ResourceNotFound); if the principal is a group or service principal, set principalType on its assignment`,
        );
    });

    it("explains a 404 without an error body", () => {
        assert.match(reasonOf(answerFrom(answered(404), OBJECT_ID)), new RegExp(`object id ${OBJECT_ID} \\(HTTP 404\\);`));
    });

    it("explains a 429 as throttling past the retry budget", () => {
        assert.equal(reasonOf(answerFrom(answered(429, { error: { code: "TooManyRequests" } }), OBJECT_ID)), "Graph kept throttling the requests (HTTP 429) past the retry budget");
    });

    it("gives any other status with Graph's error code", () => {
        assert.equal(reasonOf(answerFrom(answered(500, { error: { code: "generalException" } }), OBJECT_ID)), "Graph answered HTTP 500 generalException");
        assert.equal(reasonOf(answerFrom(answered(503, "<html>busy</html>"), OBJECT_ID)), "Graph answered HTTP 503");
    });

    it("tells how to sign in when no credential gave a token", () => {
        const reason = reasonOf(answerFrom(new GraphTransportError("credential", "DefaultAzureCredential failed to retrieve a token"), OBJECT_ID));

        assert.equal(
            reason,
            "no Azure credential gave a token (DefaultAzureCredential failed to retrieve a token); sign in with 'az login', or give the pack a credential: AZURE_TENANT_ID and AZURE_CLIENT_ID with a secret, a federated token or a managed identity",
        );
    });

    for (const kind of ["network", "timeout", "malformed"] as const) {
        it(`gives a ${kind} failure's own message`, () => {
            const message = `the ${kind} failure's message`;
            assert.deepEqual(answerFrom(new GraphTransportError(kind, message), OBJECT_ID), { kind: "unverified", reason: message });
        });
    }
});

describe("readPerUserMfaStates", () => {
    it("asks each user's requirements in one batch and answers by object id", async () => {
        const clock = new FakeClock();
        const transport = new FakeGraphTransport(
            {
                perUrl: {
                    [requirementsPath("alice")]: [mfaState("disabled")],
                    [requirementsPath("bob@contoso.com")]: [reply(404, { error: { code: "Request_ResourceNotFound" } })],
                },
            },
            clock,
        );
        const runner = new BatchRunner(transport, { ...GRAPH_DEFAULTS, version: "beta", deadline: 60_000 }, clock);

        const answers = await readPerUserMfaStates(runner, ["alice", "bob@contoso.com", "carol"]);

        assert.deepEqual(
            transport.requests.map((request) => request.subRequests),
            [
                [
                    "1 /users/alice/authentication/requirements",
                    "2 /users/bob%40contoso.com/authentication/requirements",
                    "3 /users/carol/authentication/requirements",
                ],
            ],
        );
        assert.deepEqual(answers.get("alice"), { kind: "state", state: "disabled" });
        assert.match(reasonOf(answers.get("bob@contoso.com")!), /no user with object id bob@contoso\.com/);
        assert.deepEqual(answers.get("carol"), { kind: "state", state: "enforced" });
        assert.equal(answers.size, 3);
    });
});
