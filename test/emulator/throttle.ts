/** A resource-unit budget: at most `unitsPerWindow` units in any `windowMs` span. */
export interface ThrottleModel {
    unitsPerWindow: number;
    windowMs: number;
}

export type ThrottleDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * Sliding-window accounting of Graph resource units. Graph budgets identity requests per app
 * and tenant per 10 seconds and answers 429 with Retry-After once they are spent
 * (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits).
 * A sliding window makes Retry-After exact: it is the time until the oldest unit leaves the window.
 */
export class SlidingWindowThrottle {
    /** Times (ms) at which units were spent, oldest first; one entry per unit. */
    private readonly spentAt: number[] = [];

    constructor(private readonly model: ThrottleModel) {
        if (!(model.unitsPerWindow > 0) || !(model.windowMs > 0)) {
            throw new Error("throttle needs unitsPerWindow > 0 and windowMs > 0");
        }
    }

    /** Spends `units` if the budget allows; a rejected request spends nothing. */
    trySpend(units: number, now = Date.now()): ThrottleDecision {
        while (this.spentAt.length > 0 && this.spentAt[0] <= now - this.model.windowMs) {
            this.spentAt.shift();
        }
        if (this.spentAt.length + units <= this.model.unitsPerWindow) {
            for (let i = 0; i < units; i++) this.spentAt.push(now);
            return { allowed: true };
        }
        const unitsToFree = this.spentAt.length + units - this.model.unitsPerWindow;
        const freedAt = this.spentAt[Math.min(unitsToFree, this.spentAt.length) - 1] + this.model.windowMs;
        // Retry-After is whole seconds (RFC 9110 §10.2.3); rounding down would invite a retry
        // that is throttled again.
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((freedAt - now) / 1000)) };
    }

    reset(): void {
        this.spentAt.length = 0;
    }
}
