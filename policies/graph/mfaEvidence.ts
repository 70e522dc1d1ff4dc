import { BatchRunner, CredentialRefreshes, OUT_OF_TIME } from "./batch";
import { CloudName } from "./clouds";
import { GraphConnection, GraphConnectionError, resolveGraphConnection } from "./connection";
import { credentialFor } from "./credential";
import { GRAPH_DEFAULTS, GraphOptions } from "./defaults";
import { createGraphClientTransport } from "./graphClientTransport";
import { collectGarbageWhileWaiting, IdleTime } from "./idleCollection";
import { ThrottleLimiter } from "./limiter";
import {
    Answer,
    AuthenticationStrength,
    Memberships,
    readAuthenticationStrengths,
    readConditionalAccessPolicies,
    readGroupMemberships,
    readGroupUsers,
    readMemberships,
    readMfaCapable,
    readRoleEligibilities,
    readSecurityDefaults,
    readUserIdsByPrincipalName,
    readUserProfiles,
    RoleEligibility,
    UserIdAnswer,
    UserProfileAnswer,
} from "./graphReads";
import { PerUserMfaAnswer, readPerUserMfaStates } from "./perUserMfa";
import { GraphRequest, GraphTransport } from "./types";

/** The MFA evidence the policies ask for. Injected into the policies; tests pass a fake. */
export interface MfaEvidence {
    perUserMfaStates(objectIds: readonly string[], request: EvidenceRequest): Promise<Map<string, PerUserMfaAnswer>>;
    /** The tenant's Conditional Access policies as Graph beta returns them, with the conditions v1.0 leaves out. */
    conditionalAccessPolicies(request: EvidenceRequest): Promise<Answer<unknown[]>>;
    securityDefaultsEnabled(request: EvidenceRequest): Promise<Answer<boolean>>;
    /** `isMfaCapable` from the authentication methods registration report. */
    mfaCapable(objectIds: readonly string[], request: EvidenceRequest): Promise<Map<string, Answer<boolean>>>;
    /** The groups and directory roles each user is in, transitively. */
    memberships(objectIds: readonly string[], request: EvidenceRequest): Promise<Map<string, Answer<Memberships>>>;
    /** The groups and directory roles each group is in, transitively. */
    groupMemberships(groupIds: readonly string[], request: EvidenceRequest): Promise<Map<string, Answer<Memberships>>>;
    groupUsers(groupIds: readonly string[], request: EvidenceRequest): Promise<Map<string, Answer<{ id: string; userPrincipalName?: string }[]>>>;
    /** Name, sign-in state, guest status and sign-in identities of users outside the stack; `not-found` when no user has the id. */
    userProfiles(objectIds: readonly string[], request: EvidenceRequest): Promise<Map<string, UserProfileAnswer>>;
    /** The authentication strengths Conditional Access policies name, by id. */
    authenticationStrengths(ids: readonly string[], request: EvidenceRequest): Promise<Map<string, Answer<AuthenticationStrength>>>;
    /** The directory roles each user may activate through PIM, with their scope. */
    roleEligibilities(objectIds: readonly string[], request: EvidenceRequest): Promise<Map<string, Answer<RoleEligibility[]>>>;
    /** The object id of the user with each user principal name; `not-found` when no user has it. */
    userIdsByPrincipalName(principalNames: readonly string[], request: EvidenceRequest): Promise<Map<string, UserIdAnswer>>;
}

export interface EvidenceRequest {
    cloud?: CloudName;
    /** Epoch ms by which every answer must be in. */
    deadline: number;
    /**
     * Join a question in flight even when it was asked with more time, rather than ask it again:
     * for a best-effort caller (the Analyze-time advisory) that would rather stay silent than spend
     * the tenant's throttle budget twice. Without it, a caller gets its own answer or its own error
     * by its deadline.
     */
    shareInFlight?: boolean;
    /**
     * Take a failure already in as the answer rather than ask again, unless it only ran out of
     * time: for a caller that asks about the same ids over and over (the Analyze-time prefetch),
     * which would otherwise send every failed question again each time. Without it, a failure is
     * asked again by the next caller.
     */
    acceptFailures?: boolean;
}

/** Every question `MfaEvidence` answers; a record, so a question added to the interface and missing here fails to compile. */
const QUESTIONS = Object.keys({
    perUserMfaStates: true,
    conditionalAccessPolicies: true,
    securityDefaultsEnabled: true,
    mfaCapable: true,
    memberships: true,
    groupMemberships: true,
    groupUsers: true,
    userProfiles: true,
    authenticationStrengths: true,
    roleEligibilities: true,
    userIdsByPrincipalName: true,
} satisfies Record<keyof MfaEvidence, true>) as (keyof MfaEvidence)[];

/**
 * The same evidence with every question passed through `wrap`, which gets the question's own
 * arguments (its EvidenceRequest always last) and the question to ask with them.
 */
export function wrapQuestions(evidence: MfaEvidence, wrap: (args: unknown[], ask: (...args: unknown[]) => Promise<unknown>) => Promise<unknown>): MfaEvidence {
    const wrapped: Record<string, unknown> = {};
    for (const question of QUESTIONS) {
        const ask = (evidence[question] as (...args: unknown[]) => Promise<unknown>).bind(evidence);
        wrapped[question] = (...args: unknown[]) => wrap(args, ask);
    }
    return wrapped as unknown as MfaEvidence;
}

/** The same evidence, every request given `marks` (for example `{ shareInFlight: true }`). */
export function withRequestMarks(evidence: MfaEvidence, marks: Pick<EvidenceRequest, "shareInFlight" | "acceptFailures">): MfaEvidence {
    return wrapQuestions(evidence, (args, ask) => ask(...args.slice(0, -1), { ...(args.at(-1) as EvidenceRequest), ...marks }));
}

/** The same evidence, every request marked `shareInFlight`. */
export function sharingInFlight(evidence: MfaEvidence): MfaEvidence {
    return withRequestMarks(evidence, { shareInFlight: true });
}

export interface GraphMfaEvidenceOptions {
    env?: NodeJS.ProcessEnv;
    graph?: Partial<GraphOptions>;
    /** Builds the transport for a connection; the default is the Graph client with `DefaultAzureCredential`. */
    transportFor?: (connection: GraphConnection) => GraphTransport;
    /** What the process does while Graph's throttle holds every request; the default collects garbage. */
    idle?: IdleTime;
}

/**
 * MFA evidence from Microsoft Graph. Each question is answered once per process (one process
 * serves one `pulumi preview` or `up`): answers are kept for the run, failures are not, so a later
 * question with time left may still get an answer. No caller waits past its own deadline for a
 * request another caller started with more time, and none more than moments past it for its own.
 */
export function graphMfaEvidence(options: GraphMfaEvidenceOptions = {}): MfaEvidence {
    const env = options.env ?? process.env;
    const graphOptions = { ...GRAPH_DEFAULTS, ...options.graph };
    const transportFor = options.transportFor ?? ((connection) => createGraphClientTransport(connection, () => credentialFor(connection, env)));
    const idle = options.idle ?? collectGarbageWhileWaiting(graphOptions);
    // One process signs in to one tenant, so one Graph root is one budget: its runners share the throttle.
    const transports = new Map<string, { transport: GraphTransport; credential: CredentialRefreshes; throttle: ThrottleLimiter }>();
    /** What was asked, by Graph root and question, then by lower-case id: one entry an id, not a string key each. */
    const asked = new Map<string, Map<string, Asked>>();
    const askedAbout = (root: string, question: string) => {
        const scope = `${root}|${question}`;
        let byId = asked.get(scope);
        if (!byId) asked.set(scope, (byId = new Map()));
        return byId;
    };

    /** Asks `read` about the ids not asked before, once, and answers every id from the cache. */
    async function perId<T>(
        question: string,
        version: GraphRequest["version"],
        ids: readonly string[],
        request: EvidenceRequest,
        read: (runner: BatchRunner, ids: string[]) => Promise<Map<string, T>>,
        unverified: (reason: string) => T,
    ): Promise<Map<string, T>> {
        let connection: GraphConnection;
        try {
            connection = resolveGraphConnection(env, request.cloud);
        } catch (error) {
            if (!(error instanceof GraphConnectionError)) throw error;
            return new Map(ids.map((id) => [id, unverified(error.message)]));
        }
        const byId = askedAbout(connection.graphBaseUrl, question);
        // A question still in flight for a caller with more time (an Analyze-time prefetch on other
        // settings) is asked again: this caller must get its own answer, or its own error, by its deadline.
        // For a caller that accepts failures, one already in is the answer, unless it only ran out of time.
        const takenAsAnswer = (failure: unknown) => request.acceptFailures === true && !isOutOfTime(failure);
        const mustAsk = (entry: Asked | undefined) =>
            entry === undefined ||
            (!entry.kept && !takenAsAnswer(entry.value)) ||
            (!request.shareInFlight && entry.inFlight && entry.askedUntil > request.deadline);
        // One id per case-insensitive name, the last spelling given.
        const unique = new Map<string, string>();
        for (const id of ids) unique.set(id.toLowerCase(), id);
        const toAsk: string[] = [];
        for (const [lowerCaseId, id] of unique) if (mustAsk(byId.get(lowerCaseId))) toAsk.push(id);
        if (toAsk.length > 0) {
            let connected = transports.get(connection.graphBaseUrl);
            if (!connected) {
                connected = { transport: transportFor(connection), credential: { generation: 0 }, throttle: new ThrottleLimiter(graphOptions) };
                transports.set(connection.graphBaseUrl, connected);
            }
            const runner = new BatchRunner(connected.transport, { ...graphOptions, version, deadline: request.deadline, credential: connected.credential, throttle: connected.throttle, idle });
            // One promise for the whole read, not one an id: each prefetch evaluation asks about every
            // user seen so far, and answers already in are read off their entries without waiting.
            const entries = toAsk.map((id): [string, Asked] => [id, { askedUntil: request.deadline, inFlight: true, kept: true }]);
            const done = read(runner, toAsk).then((answers) => {
                for (const [id, entry] of entries) {
                    entry.value = answers.get(id);
                    entry.inFlight = false;
                    // A failure is not an answer to keep: the next caller asks again (the deadline it was asked with stays).
                    entry.kept = !isUnverified(entry.value);
                }
            });
            // A read that throws fails the callers waiting on it (below); later callers ask again.
            done.catch(() => {
                for (const [, entry] of entries) Object.assign(entry, { inFlight: false, kept: false });
            });
            for (const [id, entry] of entries) {
                entry.done = done;
                byId.set(id.toLowerCase(), entry);
            }
        }
        // The entries as they stand now: one asked again later by someone else is not this call's to wait for.
        // Their reads are joined with Promise.all, never awaited one by one in an async function: the
        // pack runs with V8's debugger on (run-policy-pack), which makes an awaited promise keep the
        // function awaiting it, and every cached answer kept the call that last awaited it.
        const mine = ids.map((id) => byId.get(id.toLowerCase())!);
        const reads = new Set<Promise<void>>();
        let readsEndBy = -Infinity;
        for (const entry of mine) {
            if (!entry.inFlight) continue;
            reads.add(entry.done!);
            readsEndBy = Math.max(readsEndBy, entry.askedUntil);
        }
        // A read asked with no more time than ours ends by its own deadline (a BatchRunner waits for
        // nothing past it), with what Graph last said; our timer, set first, would beat it by a hair.
        const waitUntil = readsEndBy <= request.deadline ? Math.max(request.deadline, readsEndBy + READ_SETTLES_MS) : request.deadline;
        if (reads.size > 0) await untilDeadline(Promise.all(reads), waitUntil);
        const settled = new Map<string, T>();
        mine.forEach((entry, index) => {
            if (!entry.inFlight) settled.set(ids[index], entry.value as T);
        });
        // A question someone asked with less time (an Analyze-time prefetch) may have given up before
        // our own deadline; its failure is already forgotten, so ask again with the time we have.
        const gaveUpEarly = ids.filter((id) => {
            const answer = settled.get(id);
            // Only what would be sent again, or the retry would find the same failure and recurse.
            if (!isUnverified(answer) || takenAsAnswer(answer)) return false;
            const entry = byId.get(id.toLowerCase());
            return entry !== undefined && entry.askedUntil < request.deadline && !entry.kept;
        });
        if (gaveUpEarly.length > 0 && Date.now() < request.deadline) {
            const retried = await perId(question, version, gaveUpEarly, request, read, unverified);
            // Graph's answer, or its own failure where the earlier caller only ran out of time; a retry
            // that also ran out of time keeps the first failure, which may name what Graph last said.
            for (const [id, answer] of retried) {
                if (!isUnverified(answer) || (isOutOfTime(settled.get(id)) && !isOutOfTime(answer))) settled.set(id, answer);
            }
        }
        return new Map(ids.map((id) => [id, settled.get(id) ?? unverified(`the verification ${OUT_OF_TIME} ran out before Graph answered`)]));
    }

    const unverifiedAnswer = <T>(reason: string): Answer<T> => ({ kind: "unverified", reason });
    const TENANT = "tenant";

    return {
        perUserMfaStates: (ids, request) =>
            perId<PerUserMfaAnswer>("perUserMfa", "beta", ids, request, readPerUserMfaStates, (reason) => ({ kind: "unverified", reason })),
        // Beta, because some conditions that narrow a policy exist only there; the v1.0 list would hide them.
        conditionalAccessPolicies: async (request) =>
            (await perId("conditionalAccess", "beta", [TENANT], request, async (runner) => new Map([[TENANT, await readConditionalAccessPolicies(runner)]]), unverifiedAnswer<unknown[]>)).get(TENANT)!,
        securityDefaultsEnabled: async (request) =>
            (await perId("securityDefaults", "v1.0", [TENANT], request, async (runner) => new Map([[TENANT, await readSecurityDefaults(runner)]]), unverifiedAnswer<boolean>)).get(TENANT)!,
        mfaCapable: (ids, request) => perId("registration", "v1.0", ids, request, readMfaCapable, unverifiedAnswer<boolean>),
        memberships: (ids, request) => perId("memberships", "v1.0", ids, request, readMemberships, unverifiedAnswer<Memberships>),
        groupUsers: (ids, request) => perId("groupUsers", "v1.0", ids, request, readGroupUsers, unverifiedAnswer<{ id: string; userPrincipalName?: string }[]>),
        groupMemberships: (ids, request) => perId("groupMemberships", "v1.0", ids, request, readGroupMemberships, unverifiedAnswer<Memberships>),
        userProfiles: (ids, request) => perId<UserProfileAnswer>("userProfiles", "v1.0", ids, request, readUserProfiles, (reason) => ({ kind: "unverified", reason })),
        authenticationStrengths: (ids, request) => perId("authenticationStrengths", "v1.0", ids, request, readAuthenticationStrengths, unverifiedAnswer<AuthenticationStrength>),
        roleEligibilities: (ids, request) => perId("roleEligibilities", "v1.0", ids, request, readRoleEligibilities, unverifiedAnswer<RoleEligibility[]>),
        userIdsByPrincipalName: (names, request) => perId<UserIdAnswer>("userIds", "v1.0", names, request, readUserIdsByPrincipalName, (reason) => ({ kind: "unverified", reason })),
    };
}

/**
 * How long past its deadline a read is waited for: enough for its own timers to fire and its
 * answers to be filed, under load too; a bound, not a wait, since the read settles at once.
 */
const READ_SETTLES_MS = 250;

/** One question about one id: the read it is in, its answer once in, and the deadline it was asked with. */
interface Asked {
    /** Settles once the read is in; rejects if the read threw. */
    done?: Promise<void>;
    value?: unknown;
    inFlight: boolean;
    /** False for a failure once in: it stays for the callers that waited on it, and the next caller asks again. */
    kept: boolean;
    askedUntil: number;
}

function isUnverified(answer: unknown): boolean {
    return (answer as { kind?: unknown } | undefined)?.kind === "unverified";
}

function isOutOfTime(answer: unknown): boolean {
    return isUnverified(answer) && String((answer as { reason?: unknown }).reason).includes(OUT_OF_TIME);
}

/** Waits for `work`, but not past `deadline` (epoch ms). */
export async function untilDeadline(work: Promise<unknown>, deadline: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const expiry = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
    try {
        await Promise.race([work.then(() => undefined), expiry]);
    } finally {
        clearTimeout(timer);
    }
}
