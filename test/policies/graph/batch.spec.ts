import * as assert from "node:assert/strict";
import { BatchRunner, BatchRunOptions, readBatchReply, SubRequestOutcome } from "../../../policies/graph/batch";
import { GRAPH_DEFAULTS } from "../../../policies/graph/defaults";
import { ThrottleLimiter } from "../../../policies/graph/limiter";
import { GraphFailureKind, GraphTransport, GraphTransportError } from "../../../policies/graph/types";
import { ANSWER_EACH, answeredTwice, FakeClock, FakeGraphTransport, mfaState, nextMacrotask, OMIT, RecordedRequest, reply, slowly, SubRequest, TransportScript } from "./fakeTransport";

const pathOf = (user: string | number) => `/users/user-${user}/authentication/requirements`;
const pathsOf = (count: number) => Array.from({ length: count }, (_, index) => pathOf(index + 1));

function runOptions(overrides: Partial<BatchRunOptions> = {}): BatchRunOptions {
    return { ...GRAPH_DEFAULTS, version: "beta", deadline: 600_000, ...overrides };
}

/** A `$batch` POST as the fake records it. */
function batchSent(at: number, paths: readonly string[], timeoutMs = GRAPH_DEFAULTS.requestTimeoutMs): RecordedRequest {
    return { at, method: "POST", version: "beta", path: "/$batch", timeoutMs, subRequests: paths.map((path, index) => `${index + 1} ${path}`) };
}

const refreshed = (at: number) => ({ at, refreshCredential: true as const });

function setUp(script: TransportScript = {}, overrides: Partial<BatchRunOptions> = {}) {
    const clock = new FakeClock();
    const transport = new FakeGraphTransport(script, clock);
    const runner = new BatchRunner(transport, runOptions(overrides), clock);
    return { clock, transport, runner };
}

function assertFailure(outcome: SubRequestOutcome | undefined, kind: GraphFailureKind, message: string | RegExp): void {
    assert.ok(outcome instanceof GraphTransportError, `expected a ${kind} failure, got ${JSON.stringify(outcome)}`);
    assert.equal(outcome.kind, kind);
    if (typeof message === "string") assert.equal(outcome.message, message);
    else assert.match(outcome.message, message);
}

function assertStatus(outcome: SubRequestOutcome | undefined, status: number): void {
    assert.ok(outcome !== undefined && !(outcome instanceof GraphTransportError), `expected HTTP ${status}, got ${String(outcome)}`);
    assert.equal(outcome.status, status);
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/** An outer step whose reply never comes. */
const hangs = () => new Promise<never>(() => undefined);

describe("BatchRunner.getAll", () => {
    describe("batching", () => {
        it("sends 45 paths as batches of 20, 20 and 5 with ids from 1 and relative urls", async () => {
            const { transport, runner } = setUp();
            const paths = pathsOf(45);

            const outcomes = await runner.getAll(paths);

            assert.deepEqual(transport.log, [batchSent(0, paths.slice(0, 20)), batchSent(0, paths.slice(20, 40)), batchSent(0, paths.slice(40))]);
            assert.deepEqual([...outcomes.keys()].sort(), [...paths].sort());
            for (const path of paths) assert.deepEqual(outcomes.get(path), { status: 200, headers: {}, body: { perUserMfaState: "enforced" } });
        });

        it("asks a path given twice once", async () => {
            const { transport, runner } = setUp();

            const outcomes = await runner.getAll([pathOf("a"), pathOf("b"), pathOf("a")]);

            assert.deepEqual(transport.log, [batchSent(0, [pathOf("a"), pathOf("b")])]);
            assert.equal(outcomes.size, 2);
        });

        it("sends nothing when there is nothing to ask", async () => {
            const { transport, runner } = setUp();

            const outcomes = await runner.getAll([]);

            assert.deepEqual(transport.log, []);
            assert.equal(outcomes.size, 0);
        });

        it("sends the version it was given", async () => {
            const clock = new FakeClock();
            const transport = new FakeGraphTransport({}, clock);

            await new BatchRunner(transport, runOptions({ version: "v1.0" }), clock).getAll([pathOf(1)]);

            assert.deepEqual(transport.log, [{ ...batchSent(0, [pathOf(1)]), version: "v1.0" }]);
        });

        for (const maxBatchesInFlight of [4, 2, 1]) {
            it(`keeps at most ${maxBatchesInFlight} batches in flight at once`, async () => {
                const { transport, runner } = setUp({}, { maxBatchesInFlight });
                transport.holdReplies();
                const paths = pathsOf(200);

                const running = runner.getAll(paths);
                let done = false;
                void running.then(() => (done = true));
                while (!done) {
                    await nextMacrotask();
                    assert.ok(transport.heldCount <= maxBatchesInFlight, `${transport.heldCount} batches in flight`);
                    if (transport.heldCount > 0) transport.releaseOne();
                }
                const outcomes = await running;

                assert.equal(transport.maxInFlight, maxBatchesInFlight);
                assert.equal(transport.requests.length, 10);
                assert.deepEqual(
                    transport.requests.flatMap((request) => request.subRequests!.map((sub) => sub.split(" ")[1])),
                    paths,
                );
                assert.equal(outcomes.size, 200);
            });
        }
    });

    describe("throttling and retries", () => {
        it("retries only the throttled sub-request, after exactly its Retry-After", async () => {
            const { clock, transport, runner } = setUp({
                perUrl: { [pathOf(2)]: [reply(429, { error: { code: "TooManyRequests" } }, { "Retry-After": "2" }), mfaState("enabled")] },
            });

            const outcomes = await runner.getAll(pathsOf(3));

            assert.deepEqual(transport.log, [batchSent(0, pathsOf(3)), batchSent(2000, [pathOf(2)])]);
            assert.equal(sum(clock.sleeps), 2000);
            assert.deepEqual(outcomes.get(pathOf(2)), { status: 200, headers: {}, body: { perUserMfaState: "enabled" } });
            assertStatus(outcomes.get(pathOf(1)), 200);
            assertStatus(outcomes.get(pathOf(3)), 200);
        });

        it("gives the throttled answer once the sub-request's attempts are spent", async () => {
            const throttled = reply(429, undefined, { "retry-after": "1" });
            const { transport, runner } = setUp({ perUrl: { [pathOf(1)]: [throttled, throttled, throttled] } }, { maxAttempts: 3 });

            const outcomes = await runner.getAll([pathOf(1)]);

            assert.deepEqual(transport.log, [batchSent(0, [pathOf(1)]), batchSent(1000, [pathOf(1)]), batchSent(2000, [pathOf(1)])]);
            assert.deepEqual(outcomes.get(pathOf(1)), { status: 429, headers: { "retry-after": "1" }, body: undefined });
        });

        it("does not wait for a Retry-After longer than maxRetryAfterMs", async () => {
            const { transport, runner } = setUp({ perUrl: { [pathOf(1)]: [reply(429, undefined, { "retry-after": "120" })] } });

            const outcomes = await runner.getAll([pathOf(1)]);

            assert.deepEqual(transport.log, [batchSent(0, [pathOf(1)])]);
            assertStatus(outcomes.get(pathOf(1)), 429);
        });

        it("retries the whole batch when the $batch itself gets 503", async () => {
            const { transport, runner } = setUp({ outer: [reply(503, undefined, { "Retry-After": "1" })] });

            const outcomes = await runner.getAll(pathsOf(3));

            assert.deepEqual(transport.log, [batchSent(0, pathsOf(3)), batchSent(1000, pathsOf(3))]);
            for (const path of pathsOf(3)) assertStatus(outcomes.get(path), 200);
        });

        it("backs off between 250 and 500 ms after a first $batch 503 without Retry-After", async () => {
            const { transport, runner } = setUp({ outer: [reply(503)] });

            await runner.getAll([pathOf(1)]);

            const [first, second] = transport.requests;
            assert.equal(first.at, 0);
            assert.ok(second.at >= 250 && second.at <= 500, `retried at ${second.at} ms`);
            assert.equal(transport.requests.length, 2);
        });

        it("gives every sub-request the $batch's final answer when the batch itself fails", async () => {
            const badRequest = reply(400, { error: { code: "BadRequest", message: "Invalid batch payload." } });
            const { transport, runner } = setUp({ outer: [badRequest] });

            const outcomes = await runner.getAll(pathsOf(2));

            assert.deepEqual(transport.log, [batchSent(0, pathsOf(2))]);
            for (const path of pathsOf(2)) assert.deepEqual(outcomes.get(path), { status: 400, headers: {}, body: badRequest.body });
        });

        it("retries a network error thrown by the transport, then gives it as final", async () => {
            const reset = new GraphTransportError("network", "could not reach Graph (ECONNRESET): socket hang up");
            const { transport, runner } = setUp({ outer: [reset, reset, reset] }, { maxAttempts: 3, backoffBaseMs: 0 });

            const outcomes = await runner.getAll(pathsOf(2));

            assert.deepEqual(transport.log, [batchSent(0, pathsOf(2)), batchSent(0, pathsOf(2)), batchSent(0, pathsOf(2))]);
            for (const path of pathsOf(2)) assert.equal(outcomes.get(path), reset);
        });

        it("recovers when a network error is followed by an answer", async () => {
            const { transport, runner } = setUp({ outer: [new GraphTransportError("timeout", "Graph did not answer within 30 s")] }, { backoffBaseMs: 0 });

            const outcomes = await runner.getAll([pathOf(1)]);

            assert.deepEqual(transport.log, [batchSent(0, [pathOf(1)]), batchSent(0, [pathOf(1)])]);
            assertStatus(outcomes.get(pathOf(1)), 200);
        });

        it("turns any other error the transport throws into a network failure", async () => {
            const { runner } = setUp({ outer: [new TypeError("fetch failed")] }, { maxAttempts: 1 });

            const outcomes = await runner.getAll([pathOf(1)]);

            assertFailure(outcomes.get(pathOf(1)), "network", "TypeError: fetch failed");
        });

        it("does not retry a credential failure", async () => {
            const noToken = new GraphTransportError("credential", "DefaultAzureCredential failed to retrieve a token");
            const { transport, runner } = setUp({ outer: [noToken] });

            const outcomes = await runner.getAll([pathOf(1)]);

            assert.equal(transport.requests.length, 1);
            assert.equal(outcomes.get(pathOf(1)), noToken);
        });
    });

    describe("pacing to the tenant's throttle", () => {
        /**
         * Graph's identity budget as a sliding window, answering each sub-request when the fake
         * transport reaches it: 429 with Retry-After (whole seconds) beyond the budget, which
         * `budgetAt` may change over time, as other clients of the app come and go.
         */
        function slidingWindowGraph(clock: FakeClock, budgetAt: (now: number) => number, windowMs = 10_000) {
            const spentAt: number[] = [];
            const throttledAt: number[] = [];
            const answer = (_sub: SubRequest) => {
                const now = clock.now();
                while (spentAt.length > 0 && spentAt[0] <= now - windowMs) spentAt.shift();
                if (spentAt.length < budgetAt(now)) {
                    spentAt.push(now);
                    return mfaState("enforced");
                }
                throttledAt.push(now);
                const freedAt = spentAt[spentAt.length - budgetAt(now)] + windowMs;
                return reply(429, { error: { code: "TooManyRequests" } }, { "Retry-After": String(Math.max(1, Math.ceil((freedAt - now) / 1000))) });
            };
            return { answer, throttledAt };
        }

        /** `count` outer steps that each take `ms` before Graph answers. */
        const slowSteps = (clock: FakeClock, count: number, ms: number) => Array.from({ length: count }, () => slowly(clock, ms));

        /** Sub-requests sent in [from, to). */
        const sentBetween = (requests: RecordedRequest[], from: number, to: number) =>
            sum(requests.filter((request) => request.at >= from && request.at < to).map((request) => request.subRequests!.length));

        it("holds every lane until the Retry-After one lane got has passed", async () => {
            const clock = new FakeClock();
            const throttled = reply(429, { error: { code: "TooManyRequests" } }, { "Retry-After": "2" });
            // Lane A's first batch is answered at 100 ms, lanes B to H at 150 ms: all of them had more to send.
            const transport = new FakeGraphTransport({ perUrl: { [pathOf(1)]: [throttled] }, outer: [slowly(clock, 100), ...slowSteps(clock, 7, 150), ...slowSteps(clock, 30, 100)] }, clock);
            // A budget far above what this run spends, so only the pause holds the lanes back.
            const throttle = new ThrottleLimiter({ ...GRAPH_DEFAULTS, throttleMinUnitsPerWindow: 8000 });
            const runner = new BatchRunner(transport, runOptions({ throttle }), clock);

            const outcomes = await runner.getAll(pathsOf(400));

            const [firstRound, later] = [transport.requests.filter((r) => r.at === 0), transport.requests.filter((r) => r.at > 0)];
            assert.equal(firstRound.length, 8);
            assert.deepEqual(later.filter((r) => r.at < 2100).map((r) => r.at), []);
            assert.equal(later[0].at, 2100);
            const retriedAt = later.filter((r) => r.subRequests!.some((sub) => sub.endsWith(` ${pathOf(1)}`))).map((r) => r.at);
            assert.equal(retriedAt.length, 1);
            assert.ok(retriedAt[0] >= 2100, `retried at ${retriedAt[0]} ms`);
            for (const path of pathsOf(400)) assertStatus(outcomes.get(path), 200);
        });

        it("tells the idle hook how long each lane will wait for a Retry-After", async () => {
            const clock = new FakeClock();
            const throttled = reply(429, undefined, { "Retry-After": "2" });
            // Lane A is throttled at 100 ms, lanes B to H answered at 150 ms: all wait until 2,100 ms.
            const transport = new FakeGraphTransport({ perUrl: { [pathOf(1)]: [throttled] }, outer: [slowly(clock, 100), ...slowSteps(clock, 7, 150), ...slowSteps(clock, 30, 100)] }, clock);
            const throttle = new ThrottleLimiter({ ...GRAPH_DEFAULTS, throttleMinUnitsPerWindow: 8000 });
            const waits: { ms: number; now: number }[] = [];
            const runner = new BatchRunner(transport, runOptions({ throttle, idle: { waiting: (ms, now) => waits.push({ ms, now }) } }), clock);

            await runner.getAll(pathsOf(400));

            const pauses = waits.filter((wait) => wait.ms >= 1_000);
            assert.deepEqual(pauses, [{ ms: 2_000, now: 100 }, ...Array.from({ length: 7 }, () => ({ ms: 1_950, now: 150 }))]);
        });

        it("holds the lanes of every runner that shares the throttle", async () => {
            const clock = new FakeClock();
            const throttled = reply(429, undefined, { "Retry-After": "2" });
            const transport = new FakeGraphTransport({ perUrl: { [pathOf("a1")]: [throttled] }, outer: [slowly(clock, 100), ...slowSteps(clock, 40, 150)] }, clock);
            const throttle = new ThrottleLimiter({ ...GRAPH_DEFAULTS, throttleMinUnitsPerWindow: 8000 });
            const runnerA = new BatchRunner(transport, runOptions({ throttle, maxBatchesInFlight: 1 }), clock);
            const runnerB = new BatchRunner(transport, runOptions({ throttle, maxBatchesInFlight: 1 }), clock);

            const [outcomesA, outcomesB] = await Promise.all([
                runnerA.getAll(Array.from({ length: 60 }, (_, i) => pathOf(`a${i + 1}`))),
                runnerB.getAll(Array.from({ length: 60 }, (_, i) => pathOf(`b${i + 1}`))),
            ]);

            const runnerBRequests = transport.requests.filter((r) => r.subRequests![0].includes("user-b"));
            assert.deepEqual(runnerBRequests.map((r) => r.at).filter((at) => at > 0 && at < 2100), []);
            assert.ok(runnerBRequests.length >= 3, `runner B sent ${runnerBRequests.length} batches`);
            for (const outcome of [...outcomesA.values(), ...outcomesB.values()]) assertStatus(outcome, 200);
        });

        /** The throttle's budget just before each request the transport sends. */
        function sampleBudget(transport: FakeGraphTransport, throttle: ThrottleLimiter, clock: FakeClock) {
            const samples: { at: number; units: number | undefined }[] = [];
            const sampled: GraphTransport = {
                send: (request) => {
                    samples.push({ at: clock.now(), units: throttle.unitsPerWindow(clock.now()) });
                    return transport.send(request);
                },
                refreshCredential: () => transport.refreshCredential(),
            };
            const budgetAt = (at: number) => samples.filter((sample) => sample.at <= at).at(-1)?.units;
            return { sampled, budgetAt };
        }

        it("fits the budget at the first 429, then sends no more than it in any window", async () => {
            const clock = new FakeClock();
            const graph = slidingWindowGraph(clock, () => 100);
            const transport = new FakeGraphTransport({ otherwise: graph.answer, outer: slowSteps(clock, 200, 50) }, clock);
            // No additive increase here: this is about the fit alone.
            const throttle = new ThrottleLimiter({ ...GRAPH_DEFAULTS, throttleMinUnitsPerWindow: 10, throttleRecoveryShare: 0 });
            const { sampled, budgetAt } = sampleBudget(transport, throttle, clock);
            const runner = new BatchRunner(sampled, runOptions({ throttle, batchSize: 10, maxBatchesInFlight: 2 }), clock);

            const outcomes = await runner.getAll(pathsOf(350));

            for (const path of pathsOf(350)) assertStatus(outcomes.get(path), 200);
            const firstThrottledAt = graph.throttledAt[0];
            assert.equal(budgetAt(firstThrottledAt), undefined);
            assert.equal(budgetAt(clock.now()), 100);
            // The batch that met the budget and the one in flight beside it; none after the fit.
            assert.deepEqual(graph.throttledAt, Array.from({ length: 20 }, () => firstThrottledAt));
            for (const request of transport.requests.filter((r) => r.at > firstThrottledAt)) {
                const inWindow = sentBetween(transport.requests, request.at - 9_999, request.at + 1);
                assert.ok(inWindow <= 100, `${inWindow} sent in the window ending ${request.at} ms`);
            }
            // Paced, not stalled: 350 requests at 100 per 10 s take three more windows, not many.
            assert.ok(clock.now() < 40_000, `took ${clock.now()} ms`);
        });

        it("backs off when the budget shrinks under it, and grows back once it returns", async () => {
            const clock = new FakeClock();
            // Another client takes half the budget from 30 s to 60 s.
            const graph = slidingWindowGraph(clock, (now) => (now >= 30_000 && now < 60_000 ? 50 : 100));
            const transport = new FakeGraphTransport({ otherwise: graph.answer, outer: slowSteps(clock, 2000, 50) }, clock);
            const throttle = new ThrottleLimiter({ ...GRAPH_DEFAULTS, throttleMinUnitsPerWindow: 10, throttleBackoffFactor: 0.5, throttleRecoveryShare: 0.2 });
            const { sampled, budgetAt } = sampleBudget(transport, throttle, clock);
            const runner = new BatchRunner(sampled, runOptions({ throttle, batchSize: 10, maxBatchesInFlight: 2 }), clock);

            const outcomes = await runner.getAll(pathsOf(1000));

            for (const path of pathsOf(1000)) assertStatus(outcomes.get(path), 200);
            const budgets = [29_000, 59_000, 99_000].map(budgetAt);
            assert.ok(budgets[1]! < budgets[0]!, `budget ${budgets.join(" → ")}`);
            assert.ok(budgets[2]! > budgets[1]!, `budget ${budgets.join(" → ")}`);
            const sent = [[20_000, 30_000], [50_000, 60_000], [90_000, 100_000]].map(([from, to]) => sentBetween(transport.requests, from, to));
            assert.ok(sent[1] <= 50 && sent[1] < sent[0] && sent[2] > sent[1], `sent per window: ${sent.join(", ")}`);
        });

        it("sends nothing after the deadline while paced, and gives the rest the budget error", async () => {
            const clock = new FakeClock();
            const graph = slidingWindowGraph(clock, () => 100);
            const transport = new FakeGraphTransport({ otherwise: graph.answer, outer: slowSteps(clock, 200, 50) }, clock);
            const throttle = new ThrottleLimiter({ ...GRAPH_DEFAULTS, throttleMinUnitsPerWindow: 10 });
            const runner = new BatchRunner(transport, runOptions({ throttle, batchSize: 10, maxBatchesInFlight: 2, deadline: 15_000 }), clock);

            const outcomes = await runner.getAll(pathsOf(300));

            assert.ok(transport.requests.every((r) => r.at < 15_000), `sent at ${transport.requests.map((r) => r.at).filter((at) => at >= 15_000)}`);
            assert.ok(clock.now() <= 15_050, `returned at ${clock.now()} ms`);
            const answered = pathsOf(300).filter((path) => !(outcomes.get(path) instanceof GraphTransportError));
            assert.ok(answered.length >= 190 && answered.length < 300, `${answered.length} answered`);
            const budgetError = /^(the verification time budget ran out before Graph answered|Graph kept throttling the requests \(HTTP 429\) until the verification time budget ran out)$/;
            for (const path of pathsOf(300).filter((p) => !answered.includes(p))) assertFailure(outcomes.get(path), "timeout", budgetError);
        });

        it("fails what is queued at once when Graph asks every lane to wait past the deadline", async () => {
            const clock = new FakeClock();
            const throttled = reply(429, undefined, { "Retry-After": "30" });
            const transport = new FakeGraphTransport({ perUrl: { [pathOf(1)]: [throttled] }, outer: [slowly(clock, 100)] }, clock);
            const runner = new BatchRunner(transport, runOptions({ deadline: 10_000, batchSize: 1, maxBatchesInFlight: 1 }), clock);

            const outcomes = await runner.getAll(pathsOf(3));

            assert.deepEqual(transport.log, [batchSent(0, [pathOf(1)], 10_000)]);
            assert.equal(clock.now(), 100);
            assertStatus(outcomes.get(pathOf(1)), 429);
            for (const path of [pathOf(2), pathOf(3)]) {
                assertFailure(outcomes.get(path), "timeout", "Graph throttled this app's requests until after the verification time budget runs out");
            }
        });
    });

    describe("expired credentials", () => {
        const unauthorized = reply(401, { error: { code: "InvalidAuthenticationToken", message: "Access token has expired." } });

        it("asks the credential again after a $batch 401 and retries at once", async () => {
            const { transport, runner } = setUp({ outer: [unauthorized] });

            const outcomes = await runner.getAll([pathOf(1)]);

            assert.deepEqual(transport.log, [batchSent(0, [pathOf(1)]), refreshed(0), batchSent(0, [pathOf(1)])]);
            assertStatus(outcomes.get(pathOf(1)), 200);
        });

        it("asks the credential again after a sub-request 401", async () => {
            const { transport, runner } = setUp({ perUrl: { [pathOf(1)]: [unauthorized] } });

            const outcomes = await runner.getAll([pathOf(1)]);

            assert.deepEqual(transport.log, [batchSent(0, [pathOf(1)]), refreshed(0), batchSent(0, [pathOf(1)])]);
            assertStatus(outcomes.get(pathOf(1)), 200);
        });

        it("gives a second 401 as final, with one refresh", async () => {
            const { transport, runner } = setUp({ outer: [unauthorized, unauthorized] });

            const outcomes = await runner.getAll([pathOf(1)]);

            assert.deepEqual(transport.log, [batchSent(0, [pathOf(1)]), refreshed(0), batchSent(0, [pathOf(1)])]);
            assert.deepEqual(outcomes.get(pathOf(1)), { status: 401, headers: {}, body: unauthorized.body });
        });

        it("asks the credential again at most once per run", async () => {
            const { transport, runner } = setUp({ perUrl: { [pathOf(1)]: [unauthorized], [pathOf(2)]: [unauthorized] } }, { batchSize: 1, maxBatchesInFlight: 1 });

            const outcomes = await runner.getAll(pathsOf(2));

            assert.deepEqual(transport.log, [batchSent(0, [pathOf(1)]), refreshed(0), batchSent(0, [pathOf(2)]), batchSent(0, [pathOf(1)])]);
            assertStatus(outcomes.get(pathOf(1)), 200);
            assertStatus(outcomes.get(pathOf(2)), 401);
        });
    });

    describe("unreadable $batch replies", () => {
        it("retries every sub-request of a reply with no 'responses'", async () => {
            const { transport, runner } = setUp({ outer: [reply(200, { value: [] })] }, { backoffBaseMs: 0 });

            const outcomes = await runner.getAll(pathsOf(2));

            assert.deepEqual(transport.log, [batchSent(0, pathsOf(2)), batchSent(0, pathsOf(2))]);
            for (const path of pathsOf(2)) assertStatus(outcomes.get(path), 200);
        });

        it("retries only the sub-request the reply left out", async () => {
            const { transport, runner } = setUp({ perUrl: { [pathOf(2)]: [OMIT] } }, { backoffBaseMs: 0 });

            const outcomes = await runner.getAll(pathsOf(3));

            assert.deepEqual(transport.log, [batchSent(0, pathsOf(3)), batchSent(0, [pathOf(2)])]);
            assertStatus(outcomes.get(pathOf(2)), 200);
        });

        it("retries only the sub-request the reply answered twice", async () => {
            const { transport, runner } = setUp({ perUrl: { [pathOf(1)]: [answeredTwice(mfaState("disabled"))] } }, { backoffBaseMs: 0 });

            const outcomes = await runner.getAll(pathsOf(2));

            assert.deepEqual(transport.log, [batchSent(0, pathsOf(2)), batchSent(0, [pathOf(1)])]);
            assert.deepEqual(outcomes.get(pathOf(1)), { status: 200, headers: {}, body: { perUserMfaState: "enforced" } });
        });

        it("gives the malformed outcome once the attempts are spent", async () => {
            const { transport, runner } = setUp({ perUrl: { [pathOf(1)]: [OMIT, OMIT] } }, { maxAttempts: 2, backoffBaseMs: 0 });

            const outcomes = await runner.getAll([pathOf(1)]);

            assert.equal(transport.requests.length, 2);
            assertFailure(outcomes.get(pathOf(1)), "malformed", "the $batch reply had no answer for this request");
        });

        it("gives the malformed outcome for a reply without 'responses' once the attempts are spent", async () => {
            const { transport, runner } = setUp({ outer: [reply(200, null), reply(200, null)] }, { maxAttempts: 2, backoffBaseMs: 0 });

            const outcomes = await runner.getAll([pathOf(1)]);

            assert.equal(transport.requests.length, 2);
            assertFailure(outcomes.get(pathOf(1)), "malformed", "the $batch reply has no 'responses' list");
        });
    });

    describe("the time budget", () => {
        it("gives each request the time left as its timeout, and does not wait for a retry past the deadline", async () => {
            const throttled = reply(429, undefined, { "retry-after": "4" });
            const { transport, runner } = setUp({ perUrl: { [pathOf(1)]: [throttled, throttled, throttled] } }, { deadline: 10_000 });

            const outcomes = await runner.getAll([pathOf(1)]);

            assert.deepEqual(transport.log, [batchSent(0, [pathOf(1)], 10_000), batchSent(4000, [pathOf(1)], 6000), batchSent(8000, [pathOf(1)], 2000)]);
            assertStatus(outcomes.get(pathOf(1)), 429);
        });

        it("gives the requests still waiting the budget error and sends nothing after the deadline", async () => {
            const clock = new FakeClock();
            const transport = new FakeGraphTransport({ perUrl: { [pathOf(1)]: [reply(429, undefined, { "retry-after": "1" })] }, outer: [ANSWER_EACH, slowly(clock, 5000)] }, clock);
            const runner = new BatchRunner(transport, runOptions({ deadline: 4000, batchSize: 1, maxBatchesInFlight: 1 }), clock);

            const outcomes = await runner.getAll(pathsOf(3));

            // The 429's Retry-After holds back the next request too; that one then outlives the deadline.
            assert.deepEqual(transport.log, [batchSent(0, [pathOf(1)], 4000), batchSent(1000, [pathOf(2)], 3000)]);
            assert.equal(clock.now(), 6000);
            assertFailure(outcomes.get(pathOf(1)), "timeout", "Graph kept throttling the requests (HTTP 429) until the verification time budget ran out");
            assertStatus(outcomes.get(pathOf(2)), 200);
            assertFailure(outcomes.get(pathOf(3)), "timeout", "the verification time budget ran out before Graph answered");
        });

        it("names the last failure in the budget error", async () => {
            const clock = new FakeClock();
            const transport = new FakeGraphTransport(
                {
                    outer: [
                        new GraphTransportError("network", "could not reach Graph (ECONNREFUSED)"),
                        slowly(clock, 5000),
                    ],
                },
                clock,
            );
            // A 2 s back-off retries after 1 to 2 s, before the deadline, so the retry is queued.
            const runner = new BatchRunner(transport, runOptions({ deadline: 4000, backoffBaseMs: 2000, backoffMaxMs: 2000, batchSize: 1, maxBatchesInFlight: 1 }), clock);

            const outcomes = await runner.getAll(pathsOf(2));

            assert.deepEqual(transport.log, [batchSent(0, [pathOf(1)], 4000), batchSent(0, [pathOf(2)], 4000)]);
            assertFailure(outcomes.get(pathOf(1)), "timeout", "the verification time budget ran out before Graph answered (last: could not reach Graph (ECONNREFUSED))");
        });

        const answersBeforeTheCut: [string, number, string][] = [
            ["Graph's 429 rather than the missing reply", 429, "Graph kept throttling the requests (HTTP 429) until the verification time budget ran out"],
            ["any other last answer as it was", 503, "the verification time budget ran out before Graph answered (last answer: HTTP 503)"],
        ];
        for (const [what, status, message] of answersBeforeTheCut) {
            it(`names ${what} when the budget ends the retry that followed it`, async () => {
                const clock = new FakeClock();
                // The retry goes at 1,000 ms with 200 ms left, and its reply never comes.
                const transport = new FakeGraphTransport({ perUrl: { [pathOf(1)]: [reply(status, undefined, { "retry-after": "1" })] }, outer: [ANSWER_EACH, hangs] }, clock);
                const runner = new BatchRunner(transport, runOptions({ deadline: 1200, batchSize: 1, maxBatchesInFlight: 1 }), clock);

                const outcomes = await runner.getAll([pathOf(1)]);

                assert.deepEqual(transport.log, [batchSent(0, [pathOf(1)], 1200), batchSent(1000, [pathOf(1)], 200)]);
                assertFailure(outcomes.get(pathOf(1)), "timeout", message);
            });
        }

        it("counts a transport timeout the budget shortened as the budget's, and one it did not as the transport's", async () => {
            const clock = new FakeClock();
            const transportTimeout = (ms: number) => slowly(clock, ms, new GraphTransportError("timeout", `Graph did not answer within ${ms} ms`));
            const shortened = new BatchRunner(new FakeGraphTransport({ outer: [transportTimeout(200)] }, clock), runOptions({ deadline: 200 }), clock);
            const notShortened = new BatchRunner(new FakeGraphTransport({ outer: [transportTimeout(100)] }, clock), runOptions({ requestTimeoutMs: 100, maxAttempts: 1 }), clock);

            assertFailure((await shortened.getAll([pathOf(1)])).get(pathOf(1)), "timeout", "no answer within 200 ms, waiting for a token or for Graph (time budget)");
            assertFailure((await notShortened.getAll([pathOf(1)])).get(pathOf(1)), "timeout", "Graph did not answer within 100 ms");
        });

        it("keeps its own timeout's words after an earlier answer when the budget did not shorten it", async () => {
            const clock = new FakeClock();
            const unavailable = reply(503, undefined, { "retry-after": "0" });
            const transport = new FakeGraphTransport({ perUrl: { [pathOf(1)]: [unavailable] }, outer: [ANSWER_EACH, hangs] }, clock);
            const runner = new BatchRunner(transport, runOptions({ requestTimeoutMs: 50, maxAttempts: 2, batchSize: 1, maxBatchesInFlight: 1 }), clock);

            const outcomes = await runner.getAll([pathOf(1)]);

            assertFailure(outcomes.get(pathOf(1)), "timeout", "no answer within 50 ms, waiting for a token or for Graph");
        });

        it("says its own timeout is the budget's only when the budget shortened it", async () => {
            const clock = new FakeClock();
            const runner = new BatchRunner(new FakeGraphTransport({ outer: [hangs] }, clock), runOptions({ requestTimeoutMs: 50, maxAttempts: 1 }), clock);

            const outcomes = await runner.getAll([pathOf(1)]);

            assertFailure(outcomes.get(pathOf(1)), "timeout", "no answer within 50 ms, waiting for a token or for Graph");
        });

        it("sends nothing when the deadline has already passed", async () => {
            const clock = new FakeClock(10_000);
            const transport = new FakeGraphTransport({}, clock);
            const runner = new BatchRunner(transport, runOptions({ deadline: 10_000 }), clock);

            const outcomes = await runner.getAll(pathsOf(3));

            assert.deepEqual(transport.log, []);
            for (const path of pathsOf(3)) assertFailure(outcomes.get(path), "timeout", "the verification time budget ran out before Graph answered");
        });
    });

    describe("regressions", () => {
        // Once, only the first sub-request to see a 401 was retried; the others of the same
        // $batch, which carried the same expired token, were settled as final 401s.
        it("retries every sub-request of a $batch answered 401 after asking the credential again", async () => {
            const unauthorized = reply(401, { error: { code: "InvalidAuthenticationToken" } });
            const { transport, runner } = setUp({ outer: [unauthorized] });

            const outcomes = await runner.getAll(pathsOf(3));

            assert.deepEqual(transport.log, [batchSent(0, pathsOf(3)), refreshed(0), batchSent(0, pathsOf(3))]);
            for (const path of pathsOf(3)) assertStatus(outcomes.get(path), 200);
        });
    });
});

describe("readBatchReply", () => {
    const ids = ["1", "2", "3"];

    it("gives each id its own status, lower-cased headers and body, whatever the order", () => {
        const outcomes = readBatchReply(
            {
                responses: [
                    { id: "3", status: 404, body: { error: { code: "Request_ResourceNotFound" } } },
                    { id: "1", status: 200, headers: { "Content-Type": "application/json" }, body: { perUserMfaState: "enabled" } },
                    { id: "2", status: 429, headers: { "Retry-After": 5 } },
                ],
            },
            ids,
        );

        assert.deepEqual([...outcomes.keys()], ids);
        assert.deepEqual(outcomes.get("1"), { status: 200, headers: { "content-type": "application/json" }, body: { perUserMfaState: "enabled" } });
        assert.deepEqual(outcomes.get("2"), { status: 429, headers: { "retry-after": "5" }, body: undefined });
        assert.deepEqual(outcomes.get("3"), { status: 404, headers: {}, body: { error: { code: "Request_ResourceNotFound" } } });
    });

    it("matches numeric ids to their string form", () => {
        const outcomes = readBatchReply({ responses: [{ id: 1, status: 200 }] }, ["1"]);

        assertStatus(outcomes.get("1"), 200);
    });

    it("marks an id the reply left out as malformed, and ignores ids nobody asked for", () => {
        const outcomes = readBatchReply({ responses: [{ id: "1", status: 200 }, { id: "9", status: 200 }, null] }, ["1", "2"]);

        assertStatus(outcomes.get("1"), 200);
        assertFailure(outcomes.get("2"), "malformed", "the $batch reply had no answer for this request");
        assert.equal(outcomes.size, 2);
    });

    it("marks an id answered twice as malformed, never picking one of the answers", () => {
        const outcomes = readBatchReply(
            {
                responses: [
                    { id: "1", status: 200 },
                    { id: "2", status: 200 },
                    { id: "1", status: 429 },
                ],
            },
            ["1", "2"],
        );

        assertFailure(outcomes.get("1"), "malformed", "the $batch reply answered this request more than once");
        assertStatus(outcomes.get("2"), 200);
    });

    it("marks an answer without a numeric status as malformed", () => {
        const outcomes = readBatchReply({ responses: [{ id: "1" }, { id: "2", status: "200" }] }, ["1", "2"]);

        assertFailure(outcomes.get("1"), "malformed", "the $batch reply gave this request no status");
        assertFailure(outcomes.get("2"), "malformed", "the $batch reply gave this request no status");
    });

    for (const [description, body] of [
        ["no body", undefined],
        ["a null body", null],
        ["a body without 'responses'", { value: [] }],
        ["'responses' that is not a list", { responses: { id: "1", status: 200 } }],
        ["a string body", "<html>Service Unavailable</html>"],
    ] as const) {
        it(`marks every id as malformed for ${description}`, () => {
            const outcomes = readBatchReply(body, ids);

            assert.equal(outcomes.size, 3);
            for (const id of ids) assertFailure(outcomes.get(id), "malformed", "the $batch reply has no 'responses' list");
        });
    }
});
