import { performance } from "node:perf_hooks";
import { UnknownValueError } from "@pulumi/policy";
import { MfaPolicyConfig } from "../config";
import { EvidenceRequest, MfaEvidence, untilDeadline, withRequestMarks, wrapQuestions } from "../graph/mfaEvidence";
import { buildInventory } from "../inventory/buildInventory";
import { copyPropertyBag } from "../inventory/propertyValues";
import { READ_PROPERTIES, resourceKindOf } from "../inventory/resourceTypes";
import { StackResourceSnapshot } from "../inventory/types";
import { RoleCatalog } from "../roles/catalog";
import { evaluateUsers } from "./evaluate";

/** What one `Analyze` call says of a resource: its inputs, behind the SDK's unknown-checking proxy. */
export interface AnalyzedResource {
    urn: string;
    type: string;
    name: string;
    props: Record<string, unknown>;
}

export interface PrefetchDependencies {
    evidence: MfaEvidence;
    catalog: RoleCatalog;
    now: () => Date;
}

/** How often, at most, the stack seen so far is evaluated while resources arrive. */
export const PREFETCH_DEBOUNCE_MS = 100;

/**
 * The share of the pack's time evaluations may take while Analyze calls arrive. The engine waits
 * for each Analyze call, and an evaluation holds them all while it runs, so each is followed by a
 * pause nine times as long: at 10,000 users an evaluation costs about 300 ms and the stack seen
 * so far is evaluated about every three seconds. Handling its Graph answers and collecting its
 * garbage come on top of the share. Measured with the bench's 10,000-user preview (16,004 Analyze
 * calls spread over 10 s): at 0.2 the calls took 18.0–19.6 s, at 0.1 16.0–16.6 s, AnalyzeStack
 * the same 3.5–3.6 s either way (it asks, in 300–400 sub-requests, about what arrived after the
 * last evaluation); at 0.05, 15.4 s, but that last burst drew 429s.
 */
const PREFETCH_CPU_SHARE = 0.1;

/** Evaluations waiting on Graph at once; each holds an inventory of the stack seen so far. */
const MAX_OUTSTANDING_EVALUATIONS = 3;

/**
 * Gathers Graph evidence while the engine is still sending `Analyze` calls, so that `AnalyzeStack`
 * finds the answers in `graphMfaEvidence`'s cache instead of waiting for them at the end of the
 * preview. It only warms that cache: its own verdicts are thrown away, and `AnalyzeStack`
 * evaluates exactly as it would without it. It asks what `AnalyzeStack` would ask of the stack
 * seen so far, profiles of outside principals included (only Graph tells a user id from a group id).
 *
 * `Analyze` sees inputs, so a user's object id (an output) is not among them: users are known by
 * their user principal name, which Graph turns into object ids fifteen at a time. With those ids
 * the role assignments and group members that name the users are the stack's, as AnalyzeStack
 * will see them, and the questions asked here are the ones it will ask. A name no user has yet
 * is a user the deployment creates: nothing more is asked about it. Nothing is ever asked about
 * an unknown value: the inventory leaves unknown ids out.
 */
export class EvidencePrefetch {
    private readonly snapshots = new Map<string, StackResourceSnapshot>();
    /** User principal names of the users analyzed so far, by URN. */
    private readonly principalNames = new Map<string, string>();
    /** Names (lower-cased) not yet answered for, each with the URN of its user resource. */
    private readonly unresolved = new Map<string, { name: string; urn: string }>();
    /** What Graph said of each name asked (lower-cased): the user's object id, or `undefined` when no user has it. */
    private readonly objectIdByName = new Map<string, string | undefined>();
    /** The URN of the user resource each resolved object id (lower-cased) belongs to. */
    private readonly urnByObjectId = new Map<string, string>();
    /** The evidence, until AnalyzeStack starts: a prefetch still running then asks nothing more. */
    private readonly evidence: MfaEvidence;
    private askedTenantWide = false;
    private timer?: NodeJS.Timeout;
    /** Evaluations started and still waiting for answers: each asks only what the ones before it did not. */
    private readonly outstanding = new Set<Promise<void>>();
    /** Resources observed since the last evaluation started. */
    private unevaluated = false;
    /** The CPU the last evaluation took before it waited on Graph, which spaces the next (PREFETCH_CPU_SHARE). */
    private lastEvaluationCpuMs = 0;
    private config?: MfaPolicyConfig;
    private stopped = false;

    constructor(
        private readonly dependencies: PrefetchDependencies,
        private readonly debounceMs = PREFETCH_DEBOUNCE_MS,
    ) {
        // Each evaluation asks again about every user seen so far: a failure already in is its answer,
        // or every evaluation would send every failed question again. AnalyzeStack asks those for itself.
        this.evidence = untilStopped(withRequestMarks(dependencies.evidence, { acceptFailures: true }), () => this.stopped);
    }

    /** Records one analyzed resource and schedules a prefetch; returns at once and never throws. */
    observe(resource: AnalyzedResource, config: MfaPolicyConfig): void {
        try {
            const kind = resourceKindOf(resource.type);
            if (!kind || this.stopped) return;
            const props = copyPropertyBag(resource.props, (error) => error instanceof UnknownValueError, READ_PROPERTIES[kind]);
            this.snapshots.set(resource.urn, { urn: resource.urn, type: resource.type, name: resource.name, props, propertyDependencies: {} });
            if (kind === "user" && typeof props.userPrincipalName === "string" && props.objectId === undefined) {
                this.principalNames.set(resource.urn, props.userPrincipalName);
                const key = props.userPrincipalName.toLowerCase();
                if (!this.objectIdByName.has(key)) this.unresolved.set(key, { name: props.userPrincipalName, urn: resource.urn });
            }
            this.config = config;
            if (!this.askedTenantWide) {
                this.askedTenantWide = true;
                this.askTenantWide(config);
            }
            this.schedule();
        } catch {
            // A prefetch is an optimisation: whatever goes wrong here, AnalyzeStack asks for itself.
        }
    }

    /**
     * Called when `AnalyzeStack` starts: it asks for whatever is still missing itself, so a scheduled
     * evaluation would only take the CPU it needs. Requests already sent go on; their answers are shared.
     * Returns whether the prefetch had observed any resource (its leftovers are then on the heap), each time it is called.
     */
    stop(): boolean {
        this.stopped = true;
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
        // Nothing reads them once stopped (`stackUser` answers `undefined`), and AnalyzeStack's own
        // decoding is where the pack's peak memory is: let the copies of the inputs go.
        this.snapshots.clear();
        this.principalNames.clear();
        this.unresolved.clear();
        this.objectIdByName.clear();
        this.urnByObjectId.clear();
        // Set by the first resource the inventory reads, which starts the gathering.
        return this.askedTenantWide;
    }

    /** Resolves once no prefetch is scheduled or waiting for answers (for tests and benchmarks). */
    async settled(): Promise<void> {
        while (this.timer || this.outstanding.size > 0) {
            await (this.outstanding.size > 0 ? Promise.all(this.outstanding) : new Promise((resolve) => setTimeout(resolve, this.debounceMs)));
        }
    }

    /**
     * The time each evaluation may ask for, from its own start: AnalyzeStack gives each evidence
     * source at least this share of its budget, and starts later, so no question asked here
     * outlasts the one AnalyzeStack would ask (which would then ask it again). Counted from each
     * evaluation, not from the first Analyze: a program may take minutes to register its resources.
     */
    private roundMs(config: MfaPolicyConfig): number {
        return (config.verificationBudgetSeconds * 1000) / Math.max(1, config.acceptedEvidence.length);
    }

    private askTenantWide(config: MfaPolicyConfig): void {
        // No later than the first share evaluateUsers gives a source of the same budget, so the
        // evaluations below find these questions asked rather than asking them again.
        const request = { cloud: config.cloud, deadline: this.dependencies.now().getTime() + this.roundMs(config) / Math.max(1, config.acceptedEvidence.length) };
        const { evidence } = this;
        if (config.acceptedEvidence.includes("conditionalAccess")) evidence.conditionalAccessPolicies(request).catch(() => undefined);
        if (config.acceptedEvidence.includes("securityDefaults")) evidence.securityDefaultsEnabled(request).catch(() => undefined);
    }

    /**
     * Evaluates the stack seen so far at most every `debounceMs` while resources keep arriving (a
     * trailing debounce would wait for the last Analyze call). An evaluation waiting on Graph does
     * not hold the next one back: questions already asked are shared, so each asks only about
     * what arrived since; at most MAX_OUTSTANDING_EVALUATIONS wait at once.
     */
    private schedule(): void {
        this.unevaluated = true;
        if (this.timer || this.stopped || this.outstanding.size >= MAX_OUTSTANDING_EVALUATIONS) return;
        this.timer = setTimeout(() => {
            this.timer = undefined;
            if (this.stopped) return;
            this.unevaluated = false;
            const evaluation = this.evaluate().finally(() => {
                this.outstanding.delete(evaluation);
                if (this.unevaluated) this.schedule();
            });
            this.outstanding.add(evaluation);
        }, Math.max(this.debounceMs, this.lastEvaluationCpuMs / PREFETCH_CPU_SHARE));
        // A pending prefetch must never keep the pack's process alive.
        this.timer.unref();
    }

    private async evaluate(): Promise<void> {
        const config = this.config!;
        const deadline = this.dependencies.now().getTime() + this.roundMs(config);
        try {
            // The resources seen before the names are resolved: one analyzed meanwhile could name a user
            // whose name is still unresolved, and would be taken for an outsider; the next evaluation has it.
            const seen = [...this.snapshots.values()];
            await this.resolvePrincipalNames({ cloud: config.cloud, deadline });
            const cpuStart = performance.now();
            const inventory = buildInventory(this.withObjectIds(seen), this.dependencies.catalog);
            const context = { config, evidence: this.evidence, now: this.dependencies.now(), deadline };
            const evaluation = evaluateUsers(inventory, context, new Set(["non-privileged", "privileged"] as const));
            this.lastEvaluationCpuMs = performance.now() - cpuStart;
            await evaluation;
        } catch {
            // Only the cache matters; AnalyzeStack asks again for whatever failed.
        }
    }

    /**
     * The stack's user with this object id, its inputs with the object id AnalyzeStack will see, or
     * `undefined` when no user resource seen so far has it. Names not resolved yet are asked now,
     * and waited for until the request's deadline.
     */
    async stackUser(objectId: string, request: EvidenceRequest): Promise<StackResourceSnapshot | undefined> {
        if (this.stopped) return undefined;
        let urn = this.urnByObjectId.get(objectId.toLowerCase());
        if (urn === undefined && this.unresolved.size > 0 && Date.now() < request.deadline) {
            await untilDeadline(this.resolvePrincipalNames(request).catch(() => undefined), request.deadline);
            urn = this.urnByObjectId.get(objectId.toLowerCase());
        }
        const snapshot = urn === undefined ? undefined : this.snapshots.get(urn);
        return snapshot && { ...snapshot, props: { ...snapshot.props, objectId } };
    }

    /** Asks Graph for the object ids of the user principal names not asked about before. */
    private async resolvePrincipalNames(request: EvidenceRequest): Promise<void> {
        // Names already in flight are asked again here, and share that request (MfaEvidence keeps one per name).
        const unasked = [...this.unresolved.values()];
        if (unasked.length === 0) return;
        const answers = await this.evidence.userIdsByPrincipalName(unasked.map(({ name }) => name), request);
        for (const { name, urn } of unasked) {
            const answer = answers.get(name);
            // A name Graph did not answer for (a failure, or no time left) stays to be asked by the next evaluation.
            if (answer?.kind !== "value" && answer?.kind !== "not-found") continue;
            const key = name.toLowerCase();
            this.unresolved.delete(key);
            this.objectIdByName.set(key, answer.kind === "value" ? answer.value : undefined);
            if (answer.kind === "value") this.urnByObjectId.set(answer.value.toLowerCase(), urn);
        }
    }

    /** The snapshots, each user Graph knows by name with its object id, as AnalyzeStack's outputs will carry it. */
    private withObjectIds(snapshots: readonly StackResourceSnapshot[]): StackResourceSnapshot[] {
        return snapshots.map((snapshot) => {
            const name = this.principalNames.get(snapshot.urn);
            const objectId = name === undefined ? undefined : this.objectIdByName.get(name.toLowerCase());
            return objectId === undefined ? snapshot : { ...snapshot, props: { ...snapshot.props, objectId } };
        });
    }
}

/**
 * The evidence, refusing every question once `isStopped` says so instead of sending anything: an
 * evaluation still running when AnalyzeStack starts would otherwise go on asking (a profile, then
 * the state it leads to) next to AnalyzeStack's own questions, and go on deciding users with the
 * CPU AnalyzeStack needs. The refusal ends the evaluation (`evaluate` catches it).
 */
function untilStopped(evidence: MfaEvidence, isStopped: () => boolean): MfaEvidence {
    return wrapQuestions(evidence, (args, ask) => (isStopped() ? Promise.reject(new Error("the prefetch stopped: AnalyzeStack had started")) : ask(...args)));
}
