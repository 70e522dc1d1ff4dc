import * as assert from "node:assert/strict";
import { GRAPH_DEFAULTS } from "../../policies/graph/defaults";
import { GraphEmulator, RecordedRequest, startGraphEmulator, ThrottleModel } from "../emulator/graphEmulator";
import { user } from "../fixtures/resources";
import { launchPolicyPack } from "../harness";
import { MFA_POLICY, PACK_DIR, tenantUser, UNVERIFIED_POLICY } from "./packUnderTest";

/**
 * Graph's identity budget scaled down so that 800 users need two windows: the first 429 comes
 * while the lanes still have hundreds of users to ask, as at 10,000 users against 8,000 units.
 */
const BUDGET: ThrottleModel = { unitsPerWindow: 400, windowMs: 10_000 };
const LATENCY_MS = 40;
const USERS = 800;
/** What the lanes can have in flight when the first 429 comes back: all of it may be throttled, no more. */
const ONE_ROUND_OF_LANES = GRAPH_DEFAULTS.batchSize * GRAPH_DEFAULTS.maxBatchesInFlight;

const answeredAt = (request: RecordedRequest) => request.at + request.durationMs;
const throttledSubRequests = (request: RecordedRequest) => (request.subRequests ?? []).filter((sub) => sub.status === 429).length;

describe("pacing to a throttled tenant, through the engine protocol", () => {
    let emulator: GraphEmulator;
    before(async () => {
        emulator = await startGraphEmulator({ latencyMs: LATENCY_MS, throttle: BUDGET });
    });
    after(async () => {
        await emulator?.close();
    });

    it("holds every lane from the first 429 until its Retry-After, so Graph throttles at most one round of lanes", async function () {
        this.timeout(120_000);
        const users = Array.from({ length: USERS }, (_, index) => user({ name: `paced-${index}` }));
        users.forEach((resource, index) => emulator.upsertUser(tenantUser(resource, index % 2 === 0 ? "disabled" : "enforced")));
        emulator.reset();

        // Cold, as the benchmark's cold runs: nothing before AnalyzeStack spends the budget.
        const pack = await launchPolicyPack({ packDir: PACK_DIR, env: emulator.env() });
        let diagnostics;
        try {
            await pack.configureStack();
            await pack.configure();
            diagnostics = await pack.analyzeStack(users);
        } finally {
            await pack.close();
        }

        assert.equal(diagnostics.filter((d) => d.policyName === MFA_POLICY).length, USERS / 2);
        assert.deepEqual(diagnostics.filter((d) => d.policyName === UNVERIFIED_POLICY).map((d) => d.message), []);

        const graph = emulator.requests.filter((request) => request.endpoint === "graph" || request.endpoint === "batch");
        const throttled = graph.reduce((sum, request) => sum + throttledSubRequests(request), 0);
        assert.ok(throttled > 0, "Graph never throttled: the budget is too big for this test to show anything");
        assert.ok(throttled <= ONE_ROUND_OF_LANES, `${throttled} sub-requests throttled`);

        const firstThrottled = graph.filter((request) => throttledSubRequests(request) > 0).sort((a, b) => answeredAt(a) - answeredAt(b))[0];
        // Graph's Retry-After counts from then until the oldest unit of the window is freed: the pack
        // may send again no earlier than a window after Graph accepted the first of them.
        const oldestArrival = Math.min(...graph.map((request) => request.at));
        const resumeNoEarlierThan = Math.max(answeredAt(firstThrottled) + 1000, oldestArrival + BUDGET.windowMs);
        // Each other lane may have sent one batch before that 429 reached the pack (a lane sends,
        // then waits for its answer); any more would be lanes ignoring the pause.
        const beforeRetryAfter = graph.filter((request) => request.at > answeredAt(firstThrottled) && request.at < resumeNoEarlierThan);
        assert.ok(beforeRetryAfter.length <= GRAPH_DEFAULTS.maxBatchesInFlight - 1, `${beforeRetryAfter.length} batches arrived after the first 429 and before its Retry-After`);
        assert.ok(graph.some((request) => request.at >= resumeNoEarlierThan), "nothing was left to ask after the first 429");
    });
});
