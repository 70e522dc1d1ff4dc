import * as assert from "node:assert/strict";
import { GRAPH_DEFAULTS } from "../../../policies/graph/defaults";
import { collectGarbageWhileWaiting, HeapRuntime, nodeHeap } from "../../../policies/graph/idleCollection";

const MIN_WAIT = GRAPH_DEFAULTS.idleCollectionMinWaitMs;
const LARGE_HEAP = GRAPH_DEFAULTS.idleCollectionMinHeapBytes;
const WINDOW = GRAPH_DEFAULTS.throttleWindowMs;

/** A heap of `heapBytes` whose collections are counted; `later` runs what is scheduled when the test says. */
function setUp(heapBytes = LARGE_HEAP, collects = true) {
    const heap = { bytes: heapBytes, collections: 0 };
    const runtime: HeapRuntime = {
        heapUsedBytes: () => heap.bytes,
        collectGarbage: () => {
            heap.collections++;
            return collects;
        },
    };
    const scheduled: (() => void)[] = [];
    const idle = collectGarbageWhileWaiting(GRAPH_DEFAULTS, runtime, (run) => scheduled.push(run));
    const runScheduled = () => scheduled.splice(0).forEach((run) => run());
    return { heap, idle, scheduled, runScheduled };
}

describe("collectGarbageWhileWaiting", () => {
    it("collects once, after the caller has gone to sleep, when the wait is long and the heap large", () => {
        const { heap, idle, scheduled, runScheduled } = setUp();

        idle.waiting(MIN_WAIT, 1_000);

        assert.equal(heap.collections, 0, "not inside the lane's own decision to sleep");
        assert.equal(scheduled.length, 1);
        runScheduled();
        assert.equal(heap.collections, 1);
    });

    it("does not collect for a wait shorter than the minimum", () => {
        const { idle, scheduled } = setUp();

        idle.waiting(MIN_WAIT - 1, 1_000);

        assert.equal(scheduled.length, 0);
    });

    it("does not collect a heap smaller than the minimum", () => {
        const { idle, scheduled } = setUp(LARGE_HEAP - 1);

        idle.waiting(MIN_WAIT, 1_000);

        assert.equal(scheduled.length, 0);
    });

    it("collects at most once a throttle window, however many lanes wait", () => {
        const { idle, scheduled, runScheduled } = setUp();

        for (let lane = 0; lane < 8; lane++) idle.waiting(MIN_WAIT, 1_000);
        runScheduled();
        idle.waiting(MIN_WAIT, 1_000 + WINDOW - 1);
        assert.equal(scheduled.length, 0);
        idle.waiting(MIN_WAIT, 1_000 + WINDOW);
        assert.equal(scheduled.length, 1);
    });

    it("stops asking a runtime that cannot collect", () => {
        const { heap, idle, runScheduled } = setUp(LARGE_HEAP, false);

        idle.waiting(MIN_WAIT, 1_000);
        runScheduled();
        idle.waiting(MIN_WAIT, 1_000 + WINDOW);
        runScheduled();

        assert.equal(heap.collections, 1);
    });
});

describe("nodeHeap", () => {
    it("runs a full collection without --expose-gc, and leaves gc hidden", () => {
        // Objects in numbers and for long enough to outgrow the young generation: only a full collection frees them.
        let garbage: { index: number; text: string }[] | undefined = Array.from({ length: 400_000 }, (_, index) => ({ index, text: `item ${index}` }));
        assert.equal(garbage.length, 400_000);
        garbage = undefined;
        const before = nodeHeap.heapUsedBytes();

        assert.equal(nodeHeap.collectGarbage(), true);

        const freedMb = (before - nodeHeap.heapUsedBytes()) / 2 ** 20;
        assert.ok(freedMb > 10, `freed ${freedMb.toFixed(1)} MB`);
        assert.equal(typeof (globalThis as { gc?: unknown }).gc, "undefined");
    });
});
