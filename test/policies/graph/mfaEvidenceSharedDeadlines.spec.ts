import * as assert from "node:assert/strict";
import { graphMfaEvidence, sharingInFlight } from "../../../policies/graph/mfaEvidence";
import { requirementsPath } from "../../../policies/graph/perUserMfa";
import { ANSWER_EACH, BatchStep, FakeGraphTransport, mfaState, reply, TransportScript } from "./fakeTransport";

/** An Analyze-time prefetch asks with a shorter deadline than AnalyzeStack; sharing its request must not cost AnalyzeStack an answer. */
describe("graphMfaEvidence, callers with different deadlines", () => {
    function setUp() {
        const transports: FakeGraphTransport[] = [];
        const evidence = graphMfaEvidence({
            env: {},
            transportFor: () => {
                // Throttled first, with a Retry-After the short deadline cannot wait out; then answered.
                const transport = new FakeGraphTransport({ perUrl: { [requirementsPath("u1")]: [reply(429, undefined, { "Retry-After": "1" }), mfaState("enabled")] } });
                transports.push(transport);
                return transport;
            },
        });
        const subRequestsSent = () => transports.flatMap((t) => t.requests.flatMap((r) => r.subRequests ?? []));
        return { evidence, subRequestsSent };
    }

    /** Evidence whose `$batch`es follow `outer` in order, then are answered from `perUrl` (ANSWER_EACH); counts requests. */
    function scripted(outer: BatchStep[], perUrl: TransportScript["perUrl"] = {}) {
        const transports: FakeGraphTransport[] = [];
        const evidence = graphMfaEvidence({
            env: {},
            transportFor: () => {
                const transport = new FakeGraphTransport({ outer, perUrl });
                transports.push(transport);
                return transport;
            },
        });
        return { evidence, requestsSent: () => transports.flatMap((t) => t.requests).length };
    }
    const hangs: BatchStep = () => new Promise(() => undefined);

    it("asks again, within its own deadline, a question an earlier caller with less time gave up on", async () => {
        const { evidence, subRequestsSent } = setUp();
        const early = evidence.perUserMfaStates(["u1"], { deadline: Date.now() + 300 });
        const late = evidence.perUserMfaStates(["u1"], { deadline: Date.now() + 60_000 });
        assert.equal((await early).get("u1")?.kind, "unverified");
        assert.deepEqual((await late).get("u1"), { kind: "state", state: "enabled" });
        assert.equal(subRequestsSent().length, 2);
    });

    it("names Graph's own failure, not the earlier caller's lack of time, when the question it asks again fails", async () => {
        // The first $batch never comes back; asked again, Graph refuses the read.
        const { evidence, requestsSent } = scripted([hangs], { [requirementsPath("u1")]: [reply(403)] });
        const early = evidence.perUserMfaStates(["u1"], { deadline: Date.now() + 300 });
        const late = evidence.perUserMfaStates(["u1"], { deadline: Date.now() + 60_000 });
        const earlyAnswer = (await early).get("u1");
        assert.ok(earlyAnswer?.kind === "unverified" && /time budget/.test(earlyAnswer.reason), JSON.stringify(earlyAnswer));
        const lateAnswer = (await late).get("u1");
        assert.ok(lateAnswer?.kind === "unverified" && /403/.test(lateAnswer.reason) && !/time budget/.test(lateAnswer.reason), JSON.stringify(lateAnswer));
        assert.equal(requestsSent(), 2);
    });

    it("keeps Graph's own failure when the question it asks again only runs out of time", async () => {
        // The early caller gets Graph's 403 (not retried); asked again, Graph does not answer in time.
        const { evidence, requestsSent } = scripted([ANSWER_EACH, hangs], { [requirementsPath("u1")]: [reply(403)] });
        const early = evidence.perUserMfaStates(["u1"], { deadline: Date.now() + 300 });
        const late = evidence.perUserMfaStates(["u1"], { deadline: Date.now() + 700 });
        const earlyAnswer = (await early).get("u1");
        assert.ok(earlyAnswer?.kind === "unverified" && /403/.test(earlyAnswer.reason), JSON.stringify(earlyAnswer));
        assert.deepEqual((await late).get("u1"), earlyAnswer);
        assert.equal(requestsSent(), 2);
    });

    it("keeps the first lack of time, not the second, when both ran out of time", async () => {
        // Neither $batch comes back: the first read gives up after ~300 ms, the retry after ~1 s.
        const { evidence, requestsSent } = scripted([hangs, hangs]);
        void evidence.perUserMfaStates(["u1"], { deadline: Date.now() + 300 });
        const late = (await evidence.perUserMfaStates(["u1"], { deadline: Date.now() + 1_500 })).get("u1");
        assert.ok(late?.kind === "unverified" && /no answer within \d+ ms.*time budget/.test(late.reason), JSON.stringify(late));
        assert.equal(requestsSent(), 2);
    });

    it("asks for itself a question still in flight for a caller with more time, and answers by its own deadline", async () => {
        const { evidence, requestsSent } = scripted([hangs]);
        void evidence.perUserMfaStates(["u1"], { deadline: Date.now() + 60_000 });
        const started = Date.now();
        const answer = await evidence.perUserMfaStates(["u1"], { deadline: Date.now() + 2_000 });
        assert.ok(Date.now() - started < 2_000);
        assert.deepEqual(answer.get("u1"), { kind: "state", state: "enforced" });
        assert.equal(requestsSent(), 2);
    });

    it("joins a question in flight for a caller with more time when asked to share it, and stops waiting at its own deadline", async () => {
        const { evidence, requestsSent } = scripted([hangs]);
        void evidence.perUserMfaStates(["u1"], { deadline: Date.now() + 60_000 });
        const answer = await sharingInFlight(evidence).perUserMfaStates(["u1"], { deadline: Date.now() + 300 });
        assert.deepEqual(answer.get("u1"), { kind: "unverified", reason: "the verification time budget ran out before Graph answered" });
        assert.equal(requestsSent(), 1);
    });

    it("does not ask again for a caller whose deadline is no later than the one the question was asked with", async () => {
        const { evidence, subRequestsSent } = setUp();
        const deadline = Date.now() + 300;
        const [first, second] = await Promise.all([evidence.perUserMfaStates(["u1"], { deadline }), evidence.perUserMfaStates(["u1"], { deadline })]);
        assert.equal(first.get("u1")?.kind, "unverified");
        assert.equal(second.get("u1")?.kind, "unverified");
        assert.equal(subRequestsSent().length, 1);
    });
});
