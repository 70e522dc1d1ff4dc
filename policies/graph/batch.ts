import { GraphOptions } from "./defaults";
import { IdleTime } from "./idleCollection";
import { GraphLimit, graphLimitOf, ThrottleAnswer, ThrottleLimiter } from "./limiter";
import { parseRetryAfterMs, retryDelayMs, sleep } from "./retry";
import { GraphRequest, GraphResponse, GraphTransport, GraphTransportError } from "./types";

/** The final answer for one sub-request: Graph's response, or why there was none. */
export type SubRequestOutcome = GraphResponse | GraphTransportError;

export interface BatchRunOptions extends GraphOptions {
    version: GraphRequest["version"];
    /** Shared by every runner of one transport, so the credential is asked again once per run, not once per runner. */
    credential?: CredentialRefreshes;
    /** Shared by every runner of one connection, so all of them pace to the one budget Graph gives the app. */
    throttle?: ThrottleLimiter;
    /** Told how long the throttle holds back requests ready to go: the process may use the time (`collectGarbageWhileWaiting`). */
    idle?: IdleTime;
    /** Epoch ms after which nothing more is sent; unanswered requests fail with the budget error. */
    deadline: number;
}

export interface Clock {
    now(): number;
    sleep(ms: number): Promise<void>;
}

const systemClock: Clock = { now: () => Date.now(), sleep };

export interface CredentialRefreshes {
    /** Bumped when the credential is asked again; a 401 on a request sent before that is retried for free. */
    generation: number;
}

interface PendingRequest {
    path: string;
    limit: GraphLimit;
    attempts: number;
    notBefore: number;
    lastOutcome?: SubRequestOutcome;
}

/**
 * Sends GET requests through `/$batch` in groups of `batchSize`, a bounded number of batches in
 * flight, and retries each sub-request on its own: Graph throttles sub-requests one by one and
 * the Graph SDKs do not retry inside a batch
 * (https://learn.microsoft.com/graph/throttling#throttling-and-batching).
 * A 401 makes the credential be asked again, once per run. Every lane waits for the `throttle`
 * (see `ThrottleLimiter`) before it sends.
 */
export class BatchRunner {
    private readonly credential: CredentialRefreshes;
    private readonly throttle: ThrottleLimiter;

    constructor(
        private readonly transport: GraphTransport,
        private readonly options: BatchRunOptions,
        private readonly clock: Clock = systemClock,
    ) {
        this.credential = options.credential ?? { generation: 0 };
        this.throttle = options.throttle ?? new ThrottleLimiter(options);
    }

    async getAll(paths: readonly string[]): Promise<Map<string, SubRequestOutcome>> {
        const outcomes = new Map<string, SubRequestOutcome>();
        const queue: PendingRequest[] = [...new Set(paths)].map((path) => ({ path, limit: graphLimitOf(path), attempts: 0, notBefore: 0 }));
        const { deadline } = this.options;
        let inFlight = 0;

        const lane = async (): Promise<void> => {
            for (;;) {
                const now = this.clock.now();
                if (now >= deadline) {
                    for (const request of queue.splice(0)) outcomes.set(request.path, budgetSpent(request));
                    if (inFlight === 0) return;
                }
                const ready = readyOfOneLimit(queue, now, this.options.batchSize);
                if (ready.length > 0 && this.throttle.pausedUntilFor(ready[0].limit) >= deadline) {
                    // Graph will not take these before the deadline: say so now rather than wait for it.
                    const limit = ready[0].limit;
                    for (const request of takeAll(queue, (r) => r.limit === limit)) outcomes.set(request.path, throttledPastDeadline(request));
                    continue;
                }
                const sendableAt = ready.length === 0 ? undefined : this.throttle.sendableAt(ready[0].limit, ready.length, now);
                if (ready.length === 0 || sendableAt !== now) {
                    if (queue.length === 0 && inFlight === 0) return;
                    // Without a time to wait for (the throttle waits on answers in flight), look again soon.
                    const wakeAt = ready.length === 0 ? Math.min(...queue.map((r) => r.notBefore), now + 50) : (sendableAt ?? now + 50);
                    const waitMs = Math.max(1, Math.min(wakeAt, deadline) - now);
                    if (sendableAt !== undefined) this.options.idle?.waiting(waitMs, now);
                    await this.clock.sleep(waitMs);
                    continue;
                }
                removeSent(queue, ready);
                inFlight++;
                const sent = this.throttle.send(ready[0].limit, ready.length, now);
                try {
                    const sentWithGeneration = this.credential.generation;
                    const answers = await this.sendBatch(ready);
                    const answeredAt = this.clock.now();
                    this.throttle.answered(sent, ready.map((request) => throttleAnswer(answers.get(request.path)!, answeredAt)), answeredAt);
                    for (const request of ready) this.settle(request, answers.get(request.path)!, sentWithGeneration, queue, outcomes);
                } finally {
                    inFlight--;
                }
            }
        };

        const lanes = Math.max(1, Math.min(this.options.maxBatchesInFlight, Math.ceil(queue.length / this.options.batchSize)));
        await Promise.all(Array.from({ length: lanes }, lane));
        return outcomes;
    }

    /** Decides, for one answered sub-request, between done and another try. */
    private settle(
        request: PendingRequest,
        outcome: SubRequestOutcome,
        sentWithGeneration: number,
        queue: PendingRequest[],
        outcomes: Map<string, SubRequestOutcome>,
    ): void {
        const now = this.clock.now();
        const earlier = request.lastOutcome;
        request.lastOutcome = outcome;
        if (!(outcome instanceof GraphTransportError) && outcome.status === 401) {
            // The token may have expired mid-run: ask the credential once more per run, and retry
            // every request that carried the old token, not only the first to see the 401.
            if (sentWithGeneration < this.credential.generation || this.credential.generation === 0) {
                if (this.credential.generation === sentWithGeneration) {
                    this.credential.generation++;
                    this.transport.refreshCredential();
                }
                queue.push({ ...request, notBefore: now });
                return;
            }
        }
        request.attempts++;
        const delay = retryDelayMs(outcome, request.attempts, this.options, now);
        if (delay !== undefined && now + delay < this.options.deadline) {
            queue.push({ ...request, notBefore: now + delay });
        } else if (isCutByBudget(outcome) && earlier !== undefined) {
            // The budget ended a retry: what Graph said to the try before it is the cause worth naming.
            outcomes.set(request.path, budgetSpent({ ...request, lastOutcome: earlier }));
        } else {
            outcomes.set(request.path, outcome);
        }
    }

    /** One `$batch` POST; every sub-request gets an outcome, whatever happens to the batch. */
    private async sendBatch(requests: PendingRequest[]): Promise<Map<string, SubRequestOutcome>> {
        const ids = requests.map((_, index) => String(index + 1));
        const body = { requests: requests.map((request, index) => ({ id: ids[index], method: "GET", url: request.path })) };
        // Whole milliseconds: AbortSignal.timeout refuses fractions.
        const timeoutMs = Math.max(1, Math.floor(Math.min(this.options.requestTimeoutMs, this.options.deadline - this.clock.now())));
        const cutByBudget = timeoutMs < this.options.requestTimeoutMs;
        const noAnswer = () => {
            const error = new GraphTransportError("timeout", `no answer within ${formatMs(timeoutMs)}, waiting for a token or for Graph${cutByBudget ? ` (${OUT_OF_TIME})` : ""}`);
            if (cutByBudget) CUT_BY_BUDGET.add(error);
            return error;
        };
        let reply: GraphResponse | GraphTransportError;
        let timer: NodeJS.Timeout | undefined;
        // The transport's own timeout covers the HTTP exchange; getting a token can hang before it.
        const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(noAnswer()), timeoutMs)));
        try {
            reply = await Promise.race([this.transport.send({ method: "POST", version: this.options.version, path: "/$batch", body, timeoutMs }), limit]);
        } catch (error) {
            reply = error instanceof GraphTransportError ? error : new GraphTransportError("network", String(error));
        } finally {
            clearTimeout(timer);
        }
        // Whichever timer fired first, the transport's or ours, a timeout the budget shortened is the budget's.
        if (cutByBudget && reply instanceof GraphTransportError && reply.kind === "timeout") reply = noAnswer();
        const answers = new Map<string, SubRequestOutcome>();
        const subResponses = reply instanceof GraphTransportError || reply.status !== 200 ? reply : readBatchReply(reply.body, ids);
        requests.forEach((request, index) =>
            answers.set(request.path, subResponses instanceof Map ? subResponses.get(ids[index])! : subResponses),
        );
        return answers;
    }
}

function formatMs(ms: number): string {
    return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

/** Up to `max` requests due by `now`, all counted against the limit of the first of them. */
function readyOfOneLimit(queue: readonly PendingRequest[], now: number, max: number): PendingRequest[] {
    const ready: PendingRequest[] = [];
    for (const request of queue) {
        if (ready.length === max) break;
        if (request.notBefore <= now && (ready.length === 0 || request.limit === ready[0].limit)) ready.push(request);
    }
    return ready;
}

/** Removes `sent` from `queue`, in place; they are near its front, so this is cheap for a long queue. */
function removeSent(queue: PendingRequest[], sent: readonly PendingRequest[]): void {
    const removing = new Set(sent);
    for (let i = 0; removing.size > 0 && i < queue.length; ) {
        if (removing.delete(queue[i])) queue.splice(i, 1);
        else i++;
    }
}

/** Removes from `queue`, in place, the requests `taken` picks, and returns them. */
function takeAll(queue: PendingRequest[], taken: (request: PendingRequest) => boolean): PendingRequest[] {
    const removed = queue.filter(taken);
    const kept = queue.filter((request) => !taken(request));
    queue.splice(0, queue.length, ...kept);
    return removed;
}

function throttleAnswer(outcome: SubRequestOutcome, now: number): ThrottleAnswer {
    if (outcome instanceof GraphTransportError || outcome.status !== 429) return { throttled: false };
    return { throttled: true, retryAfterMs: parseRetryAfterMs(outcome.headers["retry-after"], now) };
}

/**
 * Words every failure for lack of time says (the budget ended it, not Graph): a caller with more
 * time that asks again prefers what Graph itself answered to such a failure (`graphMfaEvidence`).
 */
export const OUT_OF_TIME = "time budget";

/** What the request last got, as a clause to add to a budget error; empty when it was never answered. */
function lastAnswerOf(request: PendingRequest): string {
    const last = request.lastOutcome;
    return last === undefined ? "" : last instanceof GraphTransportError ? ` (last: ${last.message})` : ` (last answer: HTTP ${last.status})`;
}

function throttledPastDeadline(request: PendingRequest): GraphTransportError {
    return new GraphTransportError("timeout", `Graph throttled this app's requests until after the verification ${OUT_OF_TIME} runs out${lastAnswerOf(request)}`);
}

function budgetSpent(request: PendingRequest): GraphTransportError {
    const last = request.lastOutcome;
    if (last !== undefined && !(last instanceof GraphTransportError) && last.status === 429) {
        // Throttling is the cause to fix (a larger budget, fewer callers of the app); the budget only ended the wait.
        return new GraphTransportError("timeout", `Graph kept throttling the requests (HTTP 429) until the verification ${OUT_OF_TIME} ran out`);
    }
    return new GraphTransportError("timeout", `the verification ${OUT_OF_TIME} ran out before Graph answered${lastAnswerOf(request)}`);
}

/** The no-answer errors of requests whose timeout the budget shortened: the budget ended them, not Graph. */
const CUT_BY_BUDGET = new WeakSet<GraphTransportError>();

function isCutByBudget(outcome: SubRequestOutcome): boolean {
    return outcome instanceof GraphTransportError && CUT_BY_BUDGET.has(outcome);
}

/**
 * Reads a `$batch` reply into one outcome per id. Graph answers 200 for the batch whatever the
 * sub-requests got; a reply that lacks or repeats an id is unreadable for that id, never a guess.
 */
export function readBatchReply(body: unknown, ids: readonly string[]): Map<string, SubRequestOutcome> {
    const outcomes = new Map<string, SubRequestOutcome>();
    const responses = (body as { responses?: unknown } | null)?.responses;
    if (!Array.isArray(responses)) {
        const malformed = new GraphTransportError("malformed", "the $batch reply has no 'responses' list");
        ids.forEach((id) => outcomes.set(id, malformed));
        return outcomes;
    }
    const seen = new Map<string, number>();
    for (const response of responses as { id?: unknown }[]) {
        const id = String(response?.id);
        seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    for (const id of ids) {
        const count = seen.get(id) ?? 0;
        const response = responses.find((r: { id?: unknown }) => String(r?.id) === id) as
            | { status?: unknown; headers?: unknown; body?: unknown }
            | undefined;
        if (count === 0) {
            outcomes.set(id, new GraphTransportError("malformed", "the $batch reply had no answer for this request"));
        } else if (count > 1) {
            outcomes.set(id, new GraphTransportError("malformed", "the $batch reply answered this request more than once"));
        } else if (typeof response?.status !== "number") {
            outcomes.set(id, new GraphTransportError("malformed", "the $batch reply gave this request no status"));
        } else {
            outcomes.set(id, { status: response.status, headers: lowerCaseKeys(response.headers), body: response.body });
        }
    }
    return outcomes;
}

function lowerCaseKeys(headers: unknown): Record<string, string> {
    const lowered: Record<string, string> = {};
    if (typeof headers === "object" && headers !== null) {
        for (const [key, value] of Object.entries(headers)) lowered[key.toLowerCase()] = String(value);
    }
    return lowered;
}
