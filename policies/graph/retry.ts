import { GraphOptions } from "./defaults";
import { GraphResponse, GraphTransportError } from "./types";

/**
 * Graph asks clients to retry these after the Retry-After it sends
 * (https://learn.microsoft.com/graph/throttling, https://learn.microsoft.com/graph/errors).
 */
export const RETRIABLE_STATUSES: ReadonlySet<number> = new Set([429, 503, 504]);

/** Milliseconds to wait before the next try, or `undefined` when the answer is final. */
export function retryDelayMs(
    outcome: GraphResponse | GraphTransportError,
    attempt: number,
    options: Pick<GraphOptions, "maxAttempts" | "backoffBaseMs" | "backoffMaxMs" | "maxRetryAfterMs">,
    now: number = Date.now(),
    random: () => number = Math.random,
): number | undefined {
    if (attempt >= options.maxAttempts) return undefined;
    const retriable =
        outcome instanceof GraphTransportError
            ? outcome.kind === "network" || outcome.kind === "timeout" || outcome.kind === "malformed"
            : RETRIABLE_STATUSES.has(outcome.status);
    if (!retriable) return undefined;
    const retryAfter = outcome instanceof GraphTransportError ? undefined : parseRetryAfterMs(outcome.headers["retry-after"], now);
    if (retryAfter !== undefined) {
        return retryAfter <= options.maxRetryAfterMs ? retryAfter : undefined;
    }
    const exponential = Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** (attempt - 1));
    // Equal jitter (half fixed, half random) keeps many clients that were throttled together from coming back together.
    return Math.round(exponential / 2 + (random() * exponential) / 2);
}

const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfterMs(value: string | undefined, now: number = Date.now()): number | undefined {
    if (value === undefined || value.trim() === "") return undefined;
    const trimmed = value.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
    // Date.parse alone would read garbage like "-1" as a date in 2001 and retry at once.
    if (!IMF_FIXDATE.test(trimmed)) return undefined;
    const date = Date.parse(trimmed);
    return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
