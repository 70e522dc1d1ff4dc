import * as assert from "node:assert/strict";
import { GRAPH_DEFAULTS } from "../../../policies/graph/defaults";
import { graphLimitOf, LimiterOptions, ThrottleLimiter } from "../../../policies/graph/limiter";

const options: LimiterOptions = { throttleWindowMs: 10_000, throttleBackoffFactor: 0.5, throttleRecoveryShare: 0.1, throttleMinUnitsPerWindow: 10 };

const accepted = (count: number) => Array.from({ length: count }, () => ({ throttled: false }));
const throttled = (count: number, retryAfterMs?: number) => Array.from({ length: count }, () => ({ throttled: true, retryAfterMs }));

/** Sends `units` at `sentAt` and answers them at `answeredAt`, `refused` of them with 429. */
function exchange(limiter: ThrottleLimiter, sentAt: number, answeredAt: number, units: number, refused = 0, retryAfterMs?: number): void {
    const batch = limiter.send("identityAndAccess", units, sentAt);
    limiter.answered(batch, [...accepted(units - refused), ...throttled(refused, retryAfterMs)], answeredAt);
}

describe("graphLimitOf", () => {
    for (const [path, limit] of [
        ["/users/u1/authentication/requirements", "identityAndAccess"],
        ["/policies/identitySecurityDefaultsEnforcementPolicy", "identityAndAccess"],
        ["/identity/conditionalAccess/policies", "conditionalAccess"],
        ["/identity/conditionalAccess/policies?$top=100", "conditionalAccess"],
        ["/reports/authenticationMethods/userRegistrationDetails?$filter=id eq 'u1'", "reports"],
        ["/reportsSomething", "identityAndAccess"],
    ] as const) {
        it(`counts ${path} against ${limit}`, () => {
            assert.equal(graphLimitOf(path), limit);
        });
    }
});

describe("ThrottleLimiter", () => {
    it("holds nothing back before Graph throttles", () => {
        const limiter = new ThrottleLimiter(options);
        exchange(limiter, 0, 50, 5000);

        assert.equal(limiter.sendableAt("identityAndAccess", 20, 60), 60);
        assert.equal(limiter.unitsPerWindow(60), undefined);
    });

    it("pauses the whole limit until the longest Retry-After of a batch", () => {
        const limiter = new ThrottleLimiter({ ...options, throttleMinUnitsPerWindow: 100 });
        exchange(limiter, 0, 100, 20, 2, 2000);

        assert.equal(limiter.pausedUntilFor("identityAndAccess"), 2100);
        assert.equal(limiter.sendableAt("identityAndAccess", 1, 150), 2100);
        // Conditional Access spends identity units too, so it waits as well.
        assert.equal(limiter.sendableAt("conditionalAccess", 1, 150), 2100);
    });

    it("keeps a service limit's pause to that service", () => {
        const limiter = new ThrottleLimiter(options);
        const batch = limiter.send("reports", 1, 0);
        limiter.answered(batch, throttled(1, 5000), 40);

        assert.equal(limiter.sendableAt("reports", 1, 50), 5040);
        assert.equal(limiter.sendableAt("identityAndAccess", 20, 50), 50);
        assert.equal(limiter.unitsPerWindow(50), undefined);
    });

    it("fits the budget to what Graph accepted in the window before the first 429", () => {
        const limiter = new ThrottleLimiter(options);
        exchange(limiter, 0, 50, 60);
        exchange(limiter, 40, 90, 30);
        exchange(limiter, 60, 110, 20, 10, 1000);

        assert.equal(limiter.unitsPerWindow(110), 100);
    });

    it("adds to the fit what was sent before the first 429 and accepted after it", () => {
        const limiter = new ThrottleLimiter(options);
        const late = limiter.send("identityAndAccess", 20, 50);
        exchange(limiter, 0, 100, 100, 20, 1000);
        assert.equal(limiter.unitsPerWindow(100), 80);

        limiter.answered(late, accepted(20), 120);

        assert.equal(limiter.unitsPerWindow(120), 100);
    });

    it("lets units leave the window a window after their answer, so no window holds more than the budget", () => {
        const limiter = new ThrottleLimiter(options);
        exchange(limiter, 0, 100, 60);
        exchange(limiter, 500, 600, 40);
        exchange(limiter, 700, 800, 20, 20, 1000);
        assert.equal(limiter.unitsPerWindow(800), 100);

        // Paused until 1,800; then the window is full until the first 60 units leave at 10,100.
        assert.equal(limiter.sendableAt("identityAndAccess", 20, 900), 10_100);
        // 70 units need the second batch gone too.
        assert.equal(limiter.sendableAt("identityAndAccess", 70, 900), 10_600);
    });

    it("counts units still in flight as spent, and cannot say when they leave", () => {
        const limiter = new ThrottleLimiter(options);
        exchange(limiter, 0, 100, 100, 10, 1000);
        const inFlight = limiter.send("identityAndAccess", 90, 10_200);

        assert.equal(limiter.sendableAt("identityAndAccess", 20, 10_250), undefined);
        limiter.answered(inFlight, accepted(90), 10_300);
        assert.equal(limiter.sendableAt("identityAndAccess", 20, 10_350), 20_300);
    });

    it("cuts the budget once per congestion, not once per throttled batch", () => {
        const limiter = new ThrottleLimiter(options);
        exchange(limiter, 0, 100, 200, 40, 1000);
        assert.equal(limiter.unitsPerWindow(100), 160);

        // Sent after the fit and throttled: one cut to half.
        const first = limiter.send("identityAndAccess", 20, 2000);
        const second = limiter.send("identityAndAccess", 20, 2000);
        limiter.answered(first, throttled(20, 1000), 2100);
        limiter.answered(second, throttled(20, 1000), 2110);
        assert.equal(limiter.unitsPerWindow(2110), 80);

        // Sent after that cut and throttled again: another.
        exchange(limiter, 3200, 3300, 20, 20, 1000);
        assert.equal(limiter.unitsPerWindow(3300), 40);
    });

    it("grows the budget back by a tenth of the fit per window without a 429", () => {
        const limiter = new ThrottleLimiter(options);
        exchange(limiter, 0, 100, 200, 40, 1000);
        exchange(limiter, 2000, 2100, 20, 20, 1000);
        assert.equal(limiter.unitsPerWindow(2100), 80);

        assert.equal(limiter.unitsPerWindow(12_099), 80);
        assert.equal(limiter.unitsPerWindow(12_100), 96);
        assert.equal(limiter.unitsPerWindow(42_100), 144);
    });

    it("grows back to the fit and no further", () => {
        const limiter = new ThrottleLimiter(options);
        exchange(limiter, 0, 100, 200, 40, 1000);
        exchange(limiter, 2000, 2100, 20, 20, 1000);

        assert.equal(limiter.unitsPerWindow(62_100), 160);
        assert.equal(limiter.unitsPerWindow(200_000), 160);
    });

    it("never fits or cuts the budget below its floor", () => {
        const limiter = new ThrottleLimiter(options);
        exchange(limiter, 0, 100, 4, 4, 1000);
        assert.equal(limiter.unitsPerWindow(100), 10);

        exchange(limiter, 1200, 1300, 4, 4, 1000);
        assert.equal(limiter.unitsPerWindow(1300), 10);
    });

    it("lets a batch bigger than the budget go alone into an empty window", () => {
        const limiter = new ThrottleLimiter({ ...options, throttleMinUnitsPerWindow: 1 });
        exchange(limiter, 0, 100, 5, 5, 1000);
        assert.equal(limiter.unitsPerWindow(100), 1);

        assert.equal(limiter.sendableAt("identityAndAccess", 20, 1100), 1100);
    });

    it("never fits the default budget below one round of full lanes", () => {
        const limiter = new ThrottleLimiter(GRAPH_DEFAULTS);
        exchange(limiter, 0, 100, 40, 20, 2000);

        assert.equal(limiter.unitsPerWindow(100), GRAPH_DEFAULTS.batchSize * GRAPH_DEFAULTS.maxBatchesInFlight);
    });
});
