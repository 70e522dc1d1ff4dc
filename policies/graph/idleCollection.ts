import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { GraphOptions } from "./defaults";

/** Told by the Graph layer when it has nothing to send for a while. */
export interface IdleTime {
    /** Requests ready to go are held back for `ms` from `now` (epoch ms): the throttle's budget is spent, or Graph said to wait. */
    waiting(ms: number, now: number): void;
}

/** What a full collection needs from the runtime; the tests pass a fake. */
export interface HeapRuntime {
    heapUsedBytes(): number;
    /** One full collection; false when the runtime cannot do one. */
    collectGarbage(): boolean;
}

export type IdleCollectionOptions = Pick<GraphOptions, "idleCollectionMinWaitMs" | "idleCollectionMinHeapBytes" | "throttleWindowMs">;

/**
 * One full garbage collection when the pack waits seconds for Graph's throttle, at most once a
 * throttle window.
 *
 * Why: in an `AnalyzeStack` that finds no answer prefetched, the SDK has decoded the stack once
 * for the first stack policy and will decode it again for each of the others. What its request
 * and first decode leave dead (49 MB of request buffers alone at 10,000 users) and what the pack's
 * own Graph work leaves stay on the heap: V8 runs no full collection before the next decode, where
 * the process peaks. At 10,000 users that put the pack's peak RSS 121 MB above the SDK floor
 * pack's. A throttle wait leaves the process nothing else to do, so a collection then costs no
 * wall time: 0.3 s for a 600 MB heap on 2 CPUs inside an 8 s wait, and the peak fell to the
 * floor's + 44 MB. A small heap holds too little garbage to be worth it, so small stacks never pay.
 */
export function collectGarbageWhileWaiting(options: IdleCollectionOptions, runtime: HeapRuntime = nodeHeap, later: (run: () => void) => void = setImmediate): IdleTime {
    let collectedAt = -Infinity;
    let able = true;
    return {
        waiting(ms, now) {
            if (!able || ms < options.idleCollectionMinWaitMs || now - collectedAt < options.throttleWindowMs) return;
            if (runtime.heapUsedBytes() < options.idleCollectionMinHeapBytes) return;
            collectedAt = now;
            // After the lanes have all gone to sleep, not in the middle of one deciding to.
            later(() => {
                able = runtime.collectGarbage();
            });
        },
    };
}

let exposedGc: (() => void) | undefined;

/**
 * Node's heap. The engine starts the pack without `--expose-gc`; set at run time, the flag exposes
 * `gc` to a context created after it, and is hidden again at once (as Jest's leak detector does,
 * https://nodejs.org/api/v8.html#v8setflagsfromstringflags).
 */
export const nodeHeap: HeapRuntime = {
    heapUsedBytes: () => getHeapStatistics().used_heap_size,
    collectGarbage: () => {
        try {
            if (!exposedGc) {
                const hidden = typeof (globalThis as { gc?: unknown }).gc !== "function";
                setFlagsFromString("--expose-gc");
                exposedGc = runInNewContext("gc") as () => void;
                if (hidden) setFlagsFromString("--no-expose-gc");
            }
            exposedGc();
            return true;
        } catch {
            // An optimisation only: a runtime that refuses it runs as before.
            return false;
        }
    },
};
