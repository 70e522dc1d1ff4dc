import { Clock } from "../../../policies/graph/batch";
import { GraphRequest, GraphResponse, GraphTransport, GraphTransportError } from "../../../policies/graph/types";

/** One scripted HTTP answer; headers are given as Graph would send them, any case. */
export interface ScriptedReply {
    status: number;
    headers?: Record<string, string>;
    body?: unknown;
}

export const reply = (status: number, body?: unknown, headers: Record<string, string> = {}): ScriptedReply => ({ status, headers, body });
export const mfaState = (perUserMfaState: unknown): ScriptedReply => reply(200, { perUserMfaState });

/** A sub-request as it appeared in the `$batch` body. */
export interface SubRequest {
    id: string;
    method: string;
    url: string;
}

/** Leave the sub-request out of the `$batch` reply. */
export const OMIT = Symbol("omit the sub-request from the $batch reply");
/** Answer the sub-request twice in the `$batch` reply (same id, same answer). */
export const answeredTwice = (answer: ScriptedReply) => ({ twice: answer });
/** For the outer `$batch`: answer 200 and build `responses` from the per-url scripts. */
export const ANSWER_EACH = Symbol("answer every sub-request from its own script");

type SubAnswer = ScriptedReply | typeof OMIT | { twice: ScriptedReply };
export type SubStep = SubAnswer | ((subRequest: SubRequest) => SubAnswer);
type BatchAnswer = ScriptedReply | GraphTransportError | typeof ANSWER_EACH;
/** An `Error` step (a `GraphTransportError` or any other) is thrown by `send`, as a broken transport would. */
export type BatchStep = BatchAnswer | Error | ((request: GraphRequest) => BatchAnswer | Error | Promise<BatchAnswer | Error>);

/** An outer step that takes `ms` of virtual time before giving `answer`. */
export function slowly(clock: FakeClock, ms: number, answer: BatchAnswer | Error = ANSWER_EACH): BatchStep {
    return async () => {
        await clock.elapse(ms);
        return answer;
    };
}

export interface TransportScript {
    /** Steps per sub-request url, used in order; when a url's steps run out, `otherwise` answers. */
    perUrl?: Record<string, SubStep[]>;
    /** Steps for the outer request, used in order; when they run out, ANSWER_EACH. */
    outer?: BatchStep[];
    /** The answer for any url without steps left; `perUserMfaState: "enforced"` unless given. */
    otherwise?: SubStep;
}

export interface RecordedRequest {
    at: number;
    method: GraphRequest["method"];
    version: GraphRequest["version"];
    path: string;
    timeoutMs: number;
    /** `id url` of each sub-request of a `$batch`, in body order. */
    subRequests?: string[];
}

export type LogEntry = RecordedRequest | { at: number; refreshCredential: true };

/**
 * A `GraphTransport` that answers from a script and records every request and credential
 * refresh, so tests assert the exact conversation. It can also hold replies until the test
 * releases them, to observe how many requests are in flight at once.
 */
export class FakeGraphTransport implements GraphTransport {
    readonly log: LogEntry[] = [];
    inFlight = 0;
    maxInFlight = 0;
    private readonly perUrl: Map<string, SubStep[]>;
    private readonly outer: BatchStep[];
    private readonly otherwise: SubStep;
    private holding = false;
    private readonly held: (() => void)[] = [];

    constructor(
        script: TransportScript = {},
        private readonly clock: Pick<Clock, "now"> = { now: () => 0 },
    ) {
        this.perUrl = new Map(Object.entries(script.perUrl ?? {}).map(([url, steps]) => [url, [...steps]]));
        this.outer = [...(script.outer ?? [])];
        this.otherwise = script.otherwise ?? mfaState("enforced");
    }

    get requests(): RecordedRequest[] {
        return this.log.filter((entry): entry is RecordedRequest => "path" in entry);
    }

    get credentialRefreshes(): number {
        return this.log.length - this.requests.length;
    }

    /** From now on, replies wait for `releaseOne`. */
    holdReplies(): void {
        this.holding = true;
    }

    get heldCount(): number {
        return this.held.length;
    }

    releaseOne(): void {
        const release = this.held.shift();
        if (!release) throw new Error("no reply is held");
        release();
    }

    releaseAll(): void {
        this.holding = false;
        while (this.held.length > 0) this.releaseOne();
    }

    refreshCredential(): void {
        this.log.push({ at: this.clock.now(), refreshCredential: true });
    }

    async send(request: GraphRequest): Promise<GraphResponse> {
        const subRequests = batchSubRequests(request);
        this.log.push({
            at: this.clock.now(),
            method: request.method,
            version: request.version,
            path: request.path,
            timeoutMs: request.timeoutMs,
            ...(subRequests && { subRequests: subRequests.map((sub) => `${sub.id} ${sub.url}`) }),
        });
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
            if (this.holding) await new Promise<void>((release) => this.held.push(release));
            const step = this.outer.shift() ?? ANSWER_EACH;
            const answer = typeof step === "function" ? await step(request) : step;
            if (answer instanceof Error) throw answer;
            if (answer !== ANSWER_EACH) return asResponse(answer);
            if (!subRequests) return asResponse(this.answerSub({ id: "", method: request.method, url: request.path }) as ScriptedReply);
            const responses = subRequests.flatMap((sub) => {
                const answer = this.answerSub(sub);
                if (answer === OMIT) return [];
                const [single, copies] = "twice" in answer ? [answer.twice, 2] : [answer, 1];
                return Array.from({ length: copies }, () => ({ id: sub.id, status: single.status, headers: single.headers ?? {}, body: single.body }));
            });
            return { status: 200, headers: { "content-type": "application/json" }, body: { responses } };
        } finally {
            this.inFlight--;
        }
    }

    private answerSub(sub: SubRequest): SubAnswer {
        const step = this.perUrl.get(sub.url)?.shift() ?? this.otherwise;
        return typeof step === "function" ? step(sub) : step;
    }
}

function batchSubRequests(request: GraphRequest): SubRequest[] | undefined {
    if (request.path !== "/$batch") return undefined;
    return (request.body as { requests: SubRequest[] }).requests;
}

function asResponse(answer: ScriptedReply): GraphResponse {
    return { status: answer.status, headers: lowerCased(answer.headers ?? {}), body: answer.body };
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/**
 * Virtual time. `sleep` records the wait and schedules a timer; the earliest timer fires once
 * everything already runnable has run (the next macrotask), so time jumps forward instantly and
 * concurrent sleepers overlap as they would on a real clock.
 */
export class FakeClock implements Clock {
    /** Every wait asked for, in order. */
    readonly sleeps: number[] = [];
    private time: number;
    private readonly timers: { due: number; order: number; wake: () => void }[] = [];
    private timersCreated = 0;
    private tickScheduled = false;

    constructor(start = 0) {
        this.time = start;
    }

    now(): number {
        return this.time;
    }

    sleep(ms: number): Promise<void> {
        this.sleeps.push(ms);
        return this.elapse(ms);
    }

    /** Lets `ms` of virtual time pass without recording a sleep, e.g. while a scripted reply is slow. */
    elapse(ms: number): Promise<void> {
        return new Promise((wake) => {
            this.timers.push({ due: this.time + ms, order: this.timersCreated++, wake });
            this.scheduleTick();
        });
    }

    private scheduleTick(): void {
        if (this.tickScheduled) return;
        this.tickScheduled = true;
        setImmediate(() => {
            this.tickScheduled = false;
            this.timers.sort((a, b) => a.due - b.due || a.order - b.order);
            const next = this.timers.shift();
            if (!next) return;
            this.time = Math.max(this.time, next.due);
            next.wake();
            if (this.timers.length > 0) this.scheduleTick();
        });
    }
}

/** Lets every pending microtask and one round of macrotasks run. */
export const nextMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));
