/** How the pack talks to Graph. One object, so every knob and its reason is in one place. */
export interface GraphOptions {
    /** Graph accepts at most 20 requests in one `$batch` (https://learn.microsoft.com/graph/json-batching). */
    batchSize: number;
    /**
     * Batches in flight at once. Enough to keep Graph's throttling budget busy at tenant latency
     * (8 x 20 requests per round trip); Graph throttles per app and tenant, so more only buys 429s.
     */
    maxBatchesInFlight: number;
    /** Tries per request or sub-request, the first included. */
    maxAttempts: number;
    /** One HTTP request's timeout. */
    requestTimeoutMs: number;
    /** Back-off when Graph gives no Retry-After: base * 2^(attempt-1), with jitter, capped. */
    backoffBaseMs: number;
    backoffMaxMs: number;
    /** A Retry-After longer than this is not waited for; the request fails as throttled. */
    maxRetryAfterMs: number;
    /**
     * The span Graph counts identity and access resource units over: 10 s
     * (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits).
     */
    throttleWindowMs: number;
    /** Each further 429 cuts the fitted budget to this share of itself (multiplicative decrease). */
    throttleBackoffFactor: number;
    /** Each window without a 429 grows the budget by this share of the first fit (additive increase). */
    throttleRecoveryShare: number;
    /**
     * The budget is never fitted or cut below one round of full lanes (20 x 8), so the lanes can
     * always send at least once a window; a smaller share of the app's budget is paced by the
     * shared Retry-After pause alone.
     */
    throttleMinUnitsPerWindow: number;
    /**
     * A wait for the throttle at least this long leaves the process idle long enough for one full
     * garbage collection (0.3 s for a 600 MB heap on 2 CPUs); see `collectGarbageWhileWaiting`.
     */
    idleCollectionMinWaitMs: number;
    /** Below this much heap in use, there is too little garbage to be worth a full collection. */
    idleCollectionMinHeapBytes: number;
}

export const GRAPH_DEFAULTS = {
    batchSize: 20,
    maxBatchesInFlight: 8,
    maxAttempts: 5,
    requestTimeoutMs: 30_000,
    backoffBaseMs: 500,
    backoffMaxMs: 8_000,
    maxRetryAfterMs: 60_000,
    throttleWindowMs: 10_000,
    throttleBackoffFactor: 0.8,
    throttleRecoveryShare: 0.05,
    throttleMinUnitsPerWindow: 160,
    idleCollectionMinWaitMs: 2_000,
    idleCollectionMinHeapBytes: 256 * 2 ** 20,
} satisfies GraphOptions;
