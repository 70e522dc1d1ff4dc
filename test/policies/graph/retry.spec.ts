import * as assert from "node:assert/strict";
import fc from "fast-check";
import { GRAPH_DEFAULTS } from "../../../policies/graph/defaults";
import { parseRetryAfterMs, RETRIABLE_STATUSES, retryDelayMs } from "../../../policies/graph/retry";
import { GraphFailureKind, GraphResponse, GraphTransportError } from "../../../policies/graph/types";

const NOW = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");

function response(status: number, headers: Record<string, string> = {}): GraphResponse {
    return { status, headers, body: undefined };
}

const failure = (kind: GraphFailureKind) => new GraphTransportError(kind, `a ${kind} failure`);
const lowest = () => 0;
const highest = () => 1;

describe("parseRetryAfterMs", () => {
    it("reads delay-seconds as milliseconds", () => {
        assert.equal(parseRetryAfterMs("2", NOW), 2000);
        assert.equal(parseRetryAfterMs("0", NOW), 0);
        assert.equal(parseRetryAfterMs("120", NOW), 120_000);
    });

    it("ignores the whitespace around a value", () => {
        assert.equal(parseRetryAfterMs("  7 ", NOW), 7000);
    });

    it("reads fractional seconds, rounded to the millisecond", () => {
        assert.equal(parseRetryAfterMs("1.5", NOW), 1500);
        assert.equal(parseRetryAfterMs("0.0004", NOW), 0);
        assert.equal(parseRetryAfterMs("2.0006", NOW), 2001);
    });

    it("reads an HTTP date as the time left until it", () => {
        assert.equal(parseRetryAfterMs("Wed, 21 Oct 2015 07:28:30 GMT", NOW), 30_000);
    });

    it("reads an HTTP date already past as no wait", () => {
        assert.equal(parseRetryAfterMs("Wed, 21 Oct 2015 07:27:00 GMT", NOW), 0);
    });

    it("gives no delay for a missing or blank value", () => {
        assert.equal(parseRetryAfterMs(undefined, NOW), undefined);
        assert.equal(parseRetryAfterMs("", NOW), undefined);
        assert.equal(parseRetryAfterMs("   ", NOW), undefined);
    });

    for (const garbage of ["soon", "5 seconds", "1e3", "0x10", "Infinity", "12 34"]) {
        it(`gives no delay for the unreadable value '${garbage}'`, () => {
            assert.equal(parseRetryAfterMs(garbage, NOW), undefined);
        });
    }

    describe("regressions", () => {
        // Date.parse falls back to V8's lenient legacy parser, which reads "-1" and "1,5" as dates
        // in 2001, which once made the pack ask Graph again at once instead of backing off.
        // RFC 9110 §10.2.3 allows only digits or an IMF-fixdate.
        for (const garbage of ["-1", "1,5", "foo 1", "+5"]) {
            it(`gives no delay for the unreadable value '${garbage}'`, () => {
                assert.equal(parseRetryAfterMs(garbage, NOW), undefined);
            });
        }
    });
});

describe("retryDelayMs", () => {
    const options = GRAPH_DEFAULTS;

    it("treats exactly 429, 503 and 504 as retriable statuses", () => {
        assert.deepEqual([...RETRIABLE_STATUSES].sort(), [429, 503, 504]);
    });

    for (const status of [429, 503, 504]) {
        it(`retries HTTP ${status} after the Retry-After Graph sent`, () => {
            assert.equal(retryDelayMs(response(status, { "retry-after": "3" }), 1, options, NOW, lowest), 3000);
        });
    }

    for (const status of [200, 400, 401, 403, 404, 500]) {
        it(`does not retry HTTP ${status}, even with a Retry-After`, () => {
            assert.equal(retryDelayMs(response(status, { "retry-after": "1" }), 1, options, NOW, lowest), undefined);
        });
    }

    for (const kind of ["network", "timeout", "malformed"] as const) {
        it(`retries a ${kind} failure after the back-off`, () => {
            assert.equal(retryDelayMs(failure(kind), 1, options, NOW, lowest), 250);
        });
    }

    it("does not retry a credential failure", () => {
        assert.equal(retryDelayMs(failure("credential"), 1, options, NOW, lowest), undefined);
    });

    it("honours a Retry-After given as an HTTP date", () => {
        assert.equal(retryDelayMs(response(429, { "retry-after": "Wed, 21 Oct 2015 07:28:10 GMT" }), 1, options, NOW, lowest), 10_000);
    });

    it("honours a Retry-After of zero", () => {
        assert.equal(retryDelayMs(response(429, { "retry-after": "0" }), 1, options, NOW, highest), 0);
    });

    it("waits a Retry-After of exactly maxRetryAfterMs", () => {
        assert.equal(retryDelayMs(response(429, { "retry-after": "60" }), 1, options, NOW, lowest), 60_000);
    });

    it("gives up when the Retry-After is longer than maxRetryAfterMs", () => {
        assert.equal(retryDelayMs(response(429, { "retry-after": "61" }), 1, options, NOW, lowest), undefined);
        assert.equal(retryDelayMs(response(503, { "retry-after": "60.001" }), 1, options, NOW, lowest), undefined);
    });

    it("falls back to the back-off when the Retry-After is blank or unreadable", () => {
        assert.equal(retryDelayMs(response(429, { "retry-after": "" }), 1, options, NOW, lowest), 250);
        assert.equal(retryDelayMs(response(503, { "retry-after": "soon" }), 2, options, NOW, lowest), 500);
    });

    it("retries up to the last allowed attempt and not after it", () => {
        const throttled = response(429, { "retry-after": "1" });
        assert.equal(retryDelayMs(throttled, options.maxAttempts - 1, options, NOW, lowest), 1000);
        assert.equal(retryDelayMs(throttled, options.maxAttempts, options, NOW, lowest), undefined);
        assert.equal(retryDelayMs(failure("network"), options.maxAttempts, options, NOW, lowest), undefined);
    });

    it("gives up at once when a single attempt is allowed", () => {
        assert.equal(retryDelayMs(response(503), 1, { ...options, maxAttempts: 1 }, NOW, lowest), undefined);
    });

    describe("back-off without Retry-After", () => {
        const manyAttempts = { ...options, maxAttempts: 20 };
        // base 500 ms doubling per attempt, capped at 8 s; the jitter spans the upper half.
        const expectedBounds: [attempt: number, lowest: number, highest: number][] = [
            [1, 250, 500],
            [2, 500, 1000],
            [3, 1000, 2000],
            [4, 2000, 4000],
            [5, 4000, 8000],
            [6, 4000, 8000],
            [19, 4000, 8000],
        ];
        for (const [attempt, low, high] of expectedBounds) {
            it(`waits between ${low} and ${high} ms after attempt ${attempt}`, () => {
                assert.equal(retryDelayMs(response(503), attempt, manyAttempts, NOW, lowest), low);
                assert.equal(retryDelayMs(response(503), attempt, manyAttempts, NOW, highest), high);
                assert.equal(retryDelayMs(response(503), attempt, manyAttempts, NOW, () => 0.5), Math.round((low + high) / 2));
            });
        }

        it("stays within the doubling bounds for any attempt and any random value", () => {
            fc.assert(
                fc.property(fc.integer({ min: 1, max: 19 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, random) => {
                    const ceiling = Math.min(8000, 500 * 2 ** (attempt - 1));
                    const delay = retryDelayMs(failure("timeout"), attempt, manyAttempts, NOW, () => random);
                    return delay !== undefined && delay >= ceiling / 2 && delay <= ceiling;
                }),
            );
        });
    });
});
