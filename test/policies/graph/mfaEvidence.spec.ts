import * as assert from "node:assert/strict";
import { Session } from "node:inspector";
import { GraphConnection } from "../../../policies/graph/connection";
import { nodeHeap } from "../../../policies/graph/idleCollection";
import { graphMfaEvidence, GraphMfaEvidenceOptions } from "../../../policies/graph/mfaEvidence";
import { PerUserMfaAnswer, requirementsPath } from "../../../policies/graph/perUserMfa";
import { ANSWER_EACH, FakeGraphTransport, mfaState, reply, TransportScript } from "./fakeTransport";

const inOneMinute = () => ({ deadline: Date.now() + 60_000 });

/** `graphMfaEvidence` with a spy in place of the real transport factory. */
function setUp(env: NodeJS.ProcessEnv = {}, script: TransportScript = {}, options: Pick<GraphMfaEvidenceOptions, "graph" | "idle"> = {}) {
    const connections: GraphConnection[] = [];
    const transports: FakeGraphTransport[] = [];
    const evidence = graphMfaEvidence({
        ...options,
        env,
        transportFor: (connection) => {
            connections.push(connection);
            const transport = new FakeGraphTransport(script);
            transports.push(transport);
            return transport;
        },
    });
    const askedUrls = () => transports.map((transport) => transport.requests.map((request) => request.subRequests));
    return { evidence, connections, transports, askedUrls };
}

/** The sub-requests of one `$batch` as the fake records them. */
const asked = (...objectIds: string[]) => objectIds.map((objectId, index) => `${index + 1} ${requirementsPath(objectId)}`);

/** V8's full collection, for a test of what the cache lets go of (mocha runs without --expose-gc). */
function collectGarbage(): void {
    assert.ok(nodeHeap.collectGarbage(), "a full collection");
}

function assertUnverified(answer: PerUserMfaAnswer | undefined, reason: RegExp): void {
    assert.ok(answer?.kind === "unverified", `expected unverified, got ${JSON.stringify(answer)}`);
    assert.match(answer.reason, reason);
}

describe("graphMfaEvidence", () => {
    it("asks each user once across calls and answers every call in full", async () => {
        const { evidence, connections, askedUrls } = setUp({}, { perUrl: { [requirementsPath("u2")]: [mfaState("disabled")] } });

        const first = await evidence.perUserMfaStates(["u1", "u2"], inOneMinute());
        const second = await evidence.perUserMfaStates(["u2", "u3"], inOneMinute());

        assert.deepEqual(askedUrls(), [[asked("u1", "u2"), asked("u3")]]);
        assert.equal(connections.length, 1);
        assert.deepEqual([...first], [
            ["u1", { kind: "state", state: "enforced" }],
            ["u2", { kind: "state", state: "disabled" }],
        ]);
        assert.deepEqual([...second], [
            ["u2", { kind: "state", state: "disabled" }],
            ["u3", { kind: "state", state: "enforced" }],
        ]);
    });

    it("keeps the answers for the run, not the calls that asked for them", async () => {
        // The pack runs under run-policy-pack, which turns V8's debugger on (closure serialization):
        // a promise awaited in an async function then keeps that function's frame alive. A cache of
        // awaited promises kept every call that awaited them, with all its ids and answers: 20,000
        // frames at 10,000 users, where each prefetch evaluation asks about every user seen so far.
        const debuggerSession = new Session();
        debuggerSession.connect();
        debuggerSession.post("Debugger.enable");
        try {
            const { evidence, askedUrls } = setUp();
            const askOnce = async () => {
                const request = inOneMinute();
                await evidence.perUserMfaStates(["u1", "u2"], request);
                return new WeakRef(request);
            };
            const firstCall = await askOnce();
            await new Promise(setImmediate);
            collectGarbage();

            assert.equal(firstCall.deref(), undefined, "the cache still holds the first call's request");
            const again = await evidence.perUserMfaStates(["u1", "u2"], inOneMinute());
            assert.deepEqual([...again.keys()], ["u1", "u2"]);
            assert.deepEqual(askedUrls(), [[asked("u1", "u2")]], "the answers were not kept");
        } finally {
            debuggerSession.disconnect();
        }
    });

    it("asks a user once when two calls overlap", async () => {
        const { evidence, askedUrls } = setUp();

        const [first, second] = await Promise.all([
            evidence.perUserMfaStates(["u1"], inOneMinute()),
            evidence.perUserMfaStates(["u1", "u2"], inOneMinute()),
        ]);

        assert.deepEqual(askedUrls(), [[asked("u1"), asked("u2")]]);
        assert.deepEqual(first.get("u1"), { kind: "state", state: "enforced" });
        assert.deepEqual(second.get("u1"), { kind: "state", state: "enforced" });
    });

    it("asks a user named twice in one call once", async () => {
        const { evidence, askedUrls } = setUp();

        const answers = await evidence.perUserMfaStates(["u1", "u1"], inOneMinute());

        assert.deepEqual(askedUrls(), [[asked("u1")]]);
        assert.deepEqual([...answers.keys()], ["u1"]);
    });

    it("matches the object ids of later calls without regard to case", async () => {
        const { evidence, askedUrls } = setUp();

        await evidence.perUserMfaStates(["6F1C2B9E-AAAA-4B5C-8D7E-9F0A1B2C3D4E"], inOneMinute());
        const later = await evidence.perUserMfaStates(["6f1c2b9e-aaaa-4b5c-8d7e-9f0a1b2c3d4e"], inOneMinute());

        assert.deepEqual(askedUrls(), [[asked("6F1C2B9E-AAAA-4B5C-8D7E-9F0A1B2C3D4E")]]);
        assert.deepEqual(later.get("6f1c2b9e-aaaa-4b5c-8d7e-9f0a1b2c3d4e"), { kind: "state", state: "enforced" });
    });

    it("does not keep a failed answer: a later question with time left asks again", async () => {
        const { evidence, askedUrls } = setUp({}, { outer: [{ status: 403, body: { error: { code: "Authorization_RequestDenied" } } }] });

        const first = await evidence.perUserMfaStates(["u1"], inOneMinute());
        const second = await evidence.perUserMfaStates(["u1"], inOneMinute());

        assert.deepEqual(askedUrls(), [[asked("u1"), asked("u1")]]);
        assertUnverified(first.get("u1"), /HTTP 403 Authorization_RequestDenied.*Policy\.Read\.All/);
        assert.equal(second.get("u1")?.kind, "state");
    });

    it("takes a failure already in as the answer for a caller that accepts failures, and asks again for one that does not", async () => {
        const { evidence, askedUrls } = setUp({}, { outer: [{ status: 403, body: { error: { code: "Authorization_RequestDenied" } } }] });

        const first = await evidence.perUserMfaStates(["u1"], inOneMinute());
        // More time than the first caller had: its failure is still the answer, not a question given up early.
        const accepting = await evidence.perUserMfaStates(["u1", "u2"], { deadline: Date.now() + 120_000, acceptFailures: true });
        const asking = await evidence.perUserMfaStates(["u1"], inOneMinute());

        assert.deepEqual(askedUrls(), [[asked("u1"), asked("u2"), asked("u1")]]);
        assert.deepEqual(accepting.get("u1"), first.get("u1"));
        assert.equal(accepting.get("u2")?.kind, "state");
        assert.equal(asking.get("u1")?.kind, "state");
    });

    it("asks again, for a caller that accepts failures, a question that only ran out of time", async () => {
        const { evidence, askedUrls } = setUp();

        const expired = await evidence.perUserMfaStates(["u1"], { deadline: Date.now() - 1 });
        const accepting = await evidence.perUserMfaStates(["u1"], { ...inOneMinute(), acceptFailures: true });

        assertUnverified(expired.get("u1"), /time budget/);
        assert.deepEqual(askedUrls(), [[asked("u1")]]);
        assert.equal(accepting.get("u1")?.kind, "state");
    });

    it("never waits past the caller's deadline, even for a request another caller started", async () => {
        // Both hang: the later caller asks again for itself (the first caller has more time), and gets nothing either.
        const { evidence } = setUp({}, { outer: [() => new Promise(() => undefined), () => new Promise(() => undefined)] });
        void evidence.perUserMfaStates(["u1"], inOneMinute());
        const started = Date.now();
        const answer = await evidence.perUserMfaStates(["u1"], { deadline: Date.now() + 200 });
        assert.ok(Date.now() - started < 2_000);
        assertUnverified(answer.get("u1"), /time budget/);
    });

    it("names Graph's throttling, not only the lack of time, when the budget ends its own read in the retry after a 429", async () => {
        // The retry's reply never comes: the read and the caller both end at the deadline, and the read's account must win.
        const throttled = reply(429, undefined, { "Retry-After": "0.1" });
        const { evidence, askedUrls } = setUp({}, { perUrl: { [requirementsPath("u1")]: [throttled] }, outer: [ANSWER_EACH, () => new Promise(() => undefined)] });
        const started = Date.now();

        const answer = await evidence.perUserMfaStates(["u1"], { deadline: started + 400 });

        assert.deepEqual(askedUrls(), [[asked("u1"), asked("u1")]]);
        assertUnverified(answer.get("u1"), /^Graph kept throttling the requests \(HTTP 429\) until the verification time budget ran out$/);
        assert.ok(Date.now() - started < 1_000, `answered after ${Date.now() - started} ms`);
    });

    it("tells the process's idle hook when Graph's throttle holds back requests ready to go", async () => {
        const waits: number[] = [];
        const throttled = reply(429, undefined, { "Retry-After": "1" });
        // One request at a time: u2 is ready while the Retry-After u1 got holds every lane.
        const { evidence } = setUp({}, { perUrl: { [requirementsPath("u1")]: [throttled] } }, { graph: { batchSize: 1, maxBatchesInFlight: 1 }, idle: { waiting: (ms) => waits.push(ms) } });

        const answers = await evidence.perUserMfaStates(["u1", "u2"], inOneMinute());

        assert.deepEqual([...answers.values()], [{ kind: "state", state: "enforced" }, { kind: "state", state: "enforced" }]);
        assert.ok(waits.some((ms) => ms > 900 && ms <= 1_000), `waits: ${waits.join(", ")} ms`);
    });

    it("asks the beta version, through $batch, within the request's deadline", async () => {
        const { evidence, transports } = setUp();
        const deadline = Date.now() + 10_000;

        await evidence.perUserMfaStates(["u1"], { deadline });

        const [request] = transports[0].requests;
        assert.equal(request.method, "POST");
        assert.equal(request.version, "beta");
        assert.equal(request.path, "/$batch");
        assert.ok(request.timeoutMs > 0 && request.timeoutMs <= 10_000, `timeout ${request.timeoutMs} ms`);
    });

    it("answers every user with the budget error and sends nothing once the deadline has passed", async () => {
        const { evidence, transports } = setUp();

        const answers = await evidence.perUserMfaStates(["u1", "u2"], { deadline: Date.now() - 1 });

        assert.deepEqual(transports.map((transport) => transport.log), [[]]);
        for (const id of ["u1", "u2"]) assertUnverified(answers.get(id), /^the verification time budget ran out before Graph answered$/);
    });

    it("refuses an endpoint that is not Graph without creating a transport or sending anything", async () => {
        const { evidence, connections, transports } = setUp({ ENTRA_MFA_GUARD_GRAPH_ENDPOINT: "https://evil.example.com" });

        const answers = await evidence.perUserMfaStates(["u1", "u2"], inOneMinute());

        assert.deepEqual(connections, []);
        assert.deepEqual(transports, []);
        assert.deepEqual([...answers.keys()], ["u1", "u2"]);
        for (const id of ["u1", "u2"]) assertUnverified(answers.get(id), /ENTRA_MFA_GUARD_GRAPH_ENDPOINT is refused: 'evil\.example\.com' is neither a Microsoft Graph host/);
    });

    it("answers every user unverified when ARM_ENVIRONMENT cannot be read", async () => {
        const { evidence, transports } = setUp({ ARM_ENVIRONMENT: "germany" });

        const answers = await evidence.perUserMfaStates(["u1"], inOneMinute());

        assert.deepEqual(transports, []);
        assertUnverified(answers.get("u1"), /^ARM_ENVIRONMENT is 'germany'/);
    });

    it("sends to a loopback endpoint", async () => {
        const { evidence, connections, askedUrls } = setUp({ ENTRA_MFA_GUARD_GRAPH_ENDPOINT: "https://127.0.0.1:8443" });

        const answers = await evidence.perUserMfaStates(["u1"], inOneMinute());

        assert.deepEqual(
            connections.map((connection) => [connection.graphBaseUrl, connection.tokenScope]),
            [["https://127.0.0.1:8443", "https://127.0.0.1:8443/.default"]],
        );
        assert.deepEqual(askedUrls(), [[asked("u1")]]);
        assert.deepEqual(answers.get("u1"), { kind: "state", state: "enforced" });
    });

    it("keeps one transport and one cache per cloud", async () => {
        const { evidence, connections, askedUrls } = setUp();

        await evidence.perUserMfaStates(["u1"], inOneMinute());
        await evidence.perUserMfaStates(["u1"], { ...inOneMinute(), cloud: "usgovernment" });
        await evidence.perUserMfaStates(["u1"], { ...inOneMinute(), cloud: "public" });

        assert.deepEqual(
            connections.map((connection) => connection.graphBaseUrl),
            ["https://graph.microsoft.com", "https://graph.microsoft.us"],
        );
        assert.deepEqual(askedUrls(), [[asked("u1")], [asked("u1")]]);
    });

    it("asks the credential again once per run, whichever evidence saw the 401", async () => {
        const unauthorized = { status: 401, body: { error: { code: "InvalidAuthenticationToken" } } };
        const { evidence, transports } = setUp({}, { outer: Array(6).fill(unauthorized) });

        await evidence.conditionalAccessPolicies(inOneMinute());
        await evidence.perUserMfaStates(["u1"], inOneMinute());

        assert.equal(transports.length, 1);
        assert.equal(transports[0].credentialRefreshes, 1);
    });

    it("answers nothing and sends nothing for no users", async () => {
        const { evidence, transports } = setUp();

        const answers = await evidence.perUserMfaStates([], inOneMinute());

        assert.equal(answers.size, 0);
        assert.deepEqual(transports, []);
    });

    describe("regressions", () => {
        // The cache key lower-cases ids, but the ids to ask were once de-duplicated case-sensitively,
        // so one user named in two cases in the same call got two sub-requests.
        it("asks a user named in two cases in one call once", async () => {
            const { evidence, askedUrls } = setUp();

            await evidence.perUserMfaStates(["6F1C2B9E-AAAA-4B5C-8D7E-9F0A1B2C3D4E", "6f1c2b9e-aaaa-4b5c-8d7e-9f0a1b2c3d4e"], inOneMinute());

            assert.equal(askedUrls()[0].flat().length, 1, JSON.stringify(askedUrls()));
        });
    });
});
