import { GraphOptions } from "./defaults";

/**
 * The limit a Graph request is counted against. Every request spends the app's identity and access
 * budget; Conditional Access and the reports also have a service limit of their own, so a 429 from
 * one of those says nothing about the others
 * (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits).
 */
export type GraphLimit = "identityAndAccess" | "conditionalAccess" | "reports";

/** The limit a request path (relative to the version) is counted against, besides the identity budget. */
export function graphLimitOf(path: string): GraphLimit {
    if (/^\/identity\/conditionalAccess(\/|\?|$)/i.test(path)) return "conditionalAccess";
    if (/^\/reports(\/|\?|$)/i.test(path)) return "reports";
    return "identityAndAccess";
}

/** How one sent sub-request was answered, as far as throttling goes. */
export interface ThrottleAnswer {
    throttled: boolean;
    /** The 429's Retry-After, in ms, when it had one. */
    retryAfterMs?: number;
}

export type LimiterOptions = Pick<GraphOptions, "throttleWindowMs" | "throttleBackoffFactor" | "throttleRecoveryShare" | "throttleMinUnitsPerWindow">;

/** Units sent together (one `$batch`); `accepted` units stay in the window until `answeredAt` + the window. */
export interface SentUnits {
    readonly limit: GraphLimit;
    readonly sentAt: number;
    readonly units: number;
    answeredAt?: number;
    accepted?: number;
}

/**
 * Paces every request of one Graph connection (one service root and tenant per process) to the
 * tenant's throttle, shared by all lanes of all batch runners.
 *
 * Graph gives an app a fixed budget of resource units per 10 s per tenant (3,500, 5,000 or 8,000
 * by tenant size, a GET costing 1), and answers a sub-request beyond it with 429 and Retry-After
 * (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits,
 * https://learn.microsoft.com/graph/throttling#best-practices-to-handle-throttling). So:
 * - until Graph first throttles, nothing is held back: a stack that fits in the budget gets
 *   every answer at full speed;
 * - a 429's Retry-After pauses every request counted against the same limit, not only the one
 *   that got it: the budget is the app's, so any other lane would be throttled too;
 * - the first 429 fits the budget: what Graph accepted from us in the window before it. From then
 *   on no window holds more than that. A budget kept as a sliding window of our own sends is safe
 *   whether Graph counts in a sliding window, a fixed window or a bucket, where AIMD on a rate
 *   alone would probe past the budget again and again, each probe costing a pause;
 * - because other clients of the same app share the budget, the fit still adapts: another 429
 *   cuts it (multiplicative decrease, once per congestion), each quiet window grows it back
 *   towards the fit (additive increase), so it follows a budget that others start or stop using.
 * Units stay in the window until their answer came back plus the window, not from when they were
 * sent: Graph counted them somewhere in between, and only the later bound never runs ahead of it.
 */
export class ThrottleLimiter {
    private readonly pausedUntil = new Map<GraphLimit, number>();
    private sent: SentUnits[] = [];
    /** Units per window we allow ourselves; unknown until Graph first throttles the identity budget. */
    private budget: number | undefined;
    /** When the budget was fitted or cut last: 429s for units sent before belong to that same congestion. */
    private lastCutAt = -Infinity;
    private fittedAt: number | undefined;
    private grownUntil = 0;
    private recoveryStep = 0;
    /** The largest budget Graph has shown us: growth returns to it, never past it. */
    private ceiling = 0;

    constructor(private readonly options: LimiterOptions) {}

    /** Units per window the limiter allows; `undefined` while Graph has not throttled. */
    unitsPerWindow(now: number): number | undefined {
        this.grow(now);
        return this.budget;
    }

    /** Until when (epoch ms) Graph asked requests against `limit` to wait; 0 when it did not. */
    pausedUntilFor(limit: GraphLimit): number {
        const own = this.pausedUntil.get(limit) ?? 0;
        return limit === "identityAndAccess" ? own : Math.max(own, this.pausedUntil.get("identityAndAccess") ?? 0);
    }

    /**
     * The earliest time (epoch ms, `now` at the soonest) at which `units` requests against `limit`
     * may be sent, or `undefined` when that depends on answers still to come.
     */
    sendableAt(limit: GraphLimit, units: number, now: number): number | undefined {
        this.grow(now);
        const at = Math.max(now, this.pausedUntilFor(limit));
        if (this.budget === undefined) return at;
        const windowMs = this.options.throttleWindowMs;
        const over = units - Math.max(this.budget, units) + this.occupied(at);
        // A request bigger than the whole budget would never go: it goes alone in an empty window.
        if (over <= 0) return at;
        let freed = 0;
        const leaving = this.sent
            .filter((batch) => batch.answeredAt !== undefined && batch.accepted! > 0 && batch.answeredAt + windowMs > at)
            .sort((a, b) => a.answeredAt! - b.answeredAt!);
        for (const batch of leaving) {
            freed += batch.accepted!;
            if (freed >= over) return batch.answeredAt! + windowMs;
        }
        return undefined;
    }

    /** Records `units` requests against `limit` sent at `now`; answer them with `answered`. */
    send(limit: GraphLimit, units: number, now: number): SentUnits {
        const batch: SentUnits = { limit, sentAt: now, units };
        this.sent.push(batch);
        return batch;
    }

    /** Records how the units of `batch` were answered at `now`: pauses, fits, cuts. */
    answered(batch: SentUnits, answers: readonly ThrottleAnswer[], now: number): void {
        this.grow(now);
        const windowMs = this.options.throttleWindowMs;
        const throttled = answers.filter((answer) => answer.throttled);
        batch.answeredAt = now;
        batch.accepted = Math.max(0, batch.units - throttled.length);
        const retryAfterMs = Math.max(0, ...throttled.map((answer) => answer.retryAfterMs ?? 0));
        if (retryAfterMs > 0) this.pausedUntil.set(batch.limit, Math.max(this.pausedUntil.get(batch.limit) ?? 0, now + retryAfterMs));

        // Sent before the first 429 but answered after it: Graph had room for what it accepted of it.
        const lateForTheFit = this.fittedAt !== undefined && this.lastCutAt === this.fittedAt && batch.sentAt <= this.fittedAt && batch.sentAt > this.fittedAt - windowMs;
        if (throttled.length > 0 && batch.limit === "identityAndAccess" && this.budget === undefined) {
            this.fittedAt = now;
            this.lastCutAt = now;
            this.budget = Math.max(this.options.throttleMinUnitsPerWindow, this.acceptedSentWithin(now - windowMs, now));
            this.ceiling = this.budget;
            this.recoveryStep = Math.ceil(this.budget * this.options.throttleRecoveryShare);
            this.grownUntil = now;
        } else if (throttled.length > 0 && batch.limit === "identityAndAccess" && batch.sentAt >= this.lastCutAt) {
            this.lastCutAt = now;
            this.budget = Math.max(this.options.throttleMinUnitsPerWindow, Math.floor(this.budget! * this.options.throttleBackoffFactor));
            this.grownUntil = now;
        } else if (lateForTheFit) {
            this.budget! += batch.accepted;
            this.ceiling = this.budget!;
        }
        this.sent = this.sent.filter((entry) => entry.answeredAt === undefined || entry.answeredAt + windowMs > now);
    }

    /** Units that occupy the window at `at`: all still unanswered, and those accepted within the window before. */
    private occupied(at: number): number {
        let units = 0;
        for (const batch of this.sent) {
            if (batch.answeredAt === undefined) units += batch.units;
            else if (batch.answeredAt + this.options.throttleWindowMs > at) units += batch.accepted!;
        }
        return units;
    }

    private acceptedSentWithin(from: number, to: number): number {
        return this.sent.filter((batch) => batch.answeredAt !== undefined && batch.sentAt > from && batch.sentAt <= to).reduce((sum, batch) => sum + batch.accepted!, 0);
    }

    /**
     * Additive increase: each whole window without a cut grows the budget by one step, back up to
     * the fit. Probing past the fit would buy a 429 and a pause of up to a window for nothing
     * unless the tenant's budget itself grew, which its size decides.
     */
    private grow(now: number): void {
        if (this.budget === undefined) return;
        const windows = Math.floor((now - this.grownUntil) / this.options.throttleWindowMs);
        if (windows <= 0) return;
        this.budget = Math.min(this.ceiling, this.budget + windows * this.recoveryStep);
        this.grownUntil += windows * this.options.throttleWindowMs;
    }
}
