import { PolicyResource, UnknownValueError } from "@pulumi/policy";
import { DEFAULT_CONFIG, MfaPolicyConfig } from "../config";
import { evaluateUsers, Rule, StackEvaluation } from "./evaluate";
import { GRAPH_DEFAULTS } from "../graph/defaults";
import { HeapRuntime } from "../graph/idleCollection";
import { MfaEvidence } from "../graph/mfaEvidence";
import { EvidencePrefetch } from "./prefetch";
import { buildInventory } from "../inventory/buildInventory";
import { copyPropertyBag } from "../inventory/propertyValues";
import { READ_PROPERTIES, resourceKindOf } from "../inventory/resourceTypes";
import { StackResourceSnapshot } from "../inventory/types";
import { RoleCatalog } from "../roles/catalog";

/** What the policies need from outside; `index.ts` passes the real ones, tests pass fakes. */
export interface PolicyDependencies {
    evidence: MfaEvidence;
    catalog: RoleCatalog;
    now: () => Date;
    env: NodeJS.ProcessEnv;
    /** The settings the Analyze-time advisory last ran with, to compare with the stack rules' own. */
    analyzeTimeSettings?: { config?: MfaPolicyConfig };
    /** Records each resource `Analyze` sees, to gather evidence before `AnalyzeStack` arrives (`EvidencePrefetch`). */
    prefetch?: Pick<EvidencePrefetch, "observe" | "stop" | "stackUser">;
    /** Collects garbage where an AnalyzeStack call has just left much of it (`StackEvaluator`); nothing is collected without it. */
    heap?: HeapRuntime;
    /** Called with every rule evaluated so far for a stack, each time one completes (CI report files). */
    onEvaluated?: (results: RuleResults) => void | Promise<void>;
}

/**
 * When a full collection inside AnalyzeStack is worth its time: it costs about 0.5 ms per MB the
 * heap still holds (0.27 s at 10,000 users on 2 CPUs), on the critical path.
 */
export const STACK_COLLECTION: { readonly minHeapBytes: number; readonly minReportedVerdicts: number } = {
    /** A smaller heap holds too little garbage to lower the peak (the idle collection's floor). */
    minHeapBytes: GRAPH_DEFAULTS.idleCollectionMinHeapBytes,
    /** At least this many users reported make a response whose encoding alone allocates over 12 MB. */
    minReportedVerdicts: 1_000,
};

/** An evaluation, or the error that stopped it (reported as unverified, never as a violation). */
export type EvaluationResult = { evaluation: StackEvaluation } | { failure: string };

/** One rule's result, with the settings it was evaluated with. */
export interface RuleResult {
    rule: Rule;
    result: EvaluationResult;
    config: MfaPolicyConfig;
}

export type RuleResults = RuleResult[];

interface StackMemo {
    resourceCount: number;
    /** The policies (by what they ask for) this memo has answered: one that has not is in the same AnalyzeStack call. */
    served: Set<string>;
    config: MfaPolicyConfig;
    /** The stack's one time budget, shared by every rule. */
    deadline: number;
    /** The stack's identity resources until the evaluation has read them; let go of then. */
    snapshots?: StackResourceSnapshot[];
    /** Both rules in one pass, started by whichever rule is asked for first: one set of Graph batches serves both. */
    evaluation?: Promise<EvaluationResult>;
    byRule: Map<Rule, Promise<RuleResult>>;
    settled: RuleResults;
}

/**
 * Evaluates a stack once, for both rules, for all the pack's policies of one AnalyzeStack call
 * (each gets its own copy of the resources from the SDK; the first one called is evaluated, the
 * others read its result). The non-privileged policy owns the settings (scope, evidence,
 * exemptions); the other policies reuse them, or the defaults when that policy is disabled.
 */
export class StackEvaluator {
    private memo?: StackMemo;

    constructor(private readonly dependencies: PolicyDependencies) {}

    /**
     * The result for one rule; `config` is given by the policy that owns the settings. The stack is
     * copied out of the SDK's objects before this returns, so a caller that passes `resources` and
     * awaits the result in a function that does not itself hold them keeps none of them alive while
     * Graph answers: the SDK decodes the next policy's copy meanwhile.
     */
    evaluate(resources: readonly PolicyResource[], rule: Rule, config?: MfaPolicyConfig): Promise<RuleResult> {
        const afterPrefetch = this.dependencies.prefetch?.stop() ?? false;
        const memo = this.memoFor(resources, rule, config);
        if (!memo) return Promise.resolve({ rule, result: { failure: "the stack's resources could not be read" }, config: config ?? DEFAULT_CONFIG });
        // A memo serves each rule once (`memoFor`), so this rule has no result in it yet.
        const result = this.run(memo, rule, afterPrefetch);
        memo.byRule.set(rule, result);
        // A promise of its own for each caller: with the debugger on (run-policy-pack turns it on),
        // V8 links an awaited promise to the async function awaiting it (for async stack traces), so
        // the memo's promise, awaited directly, kept the policy's `args` (the SDK's decoded stack and
        // the whole AnalyzeStack request) alive for as long as the memo: +140 MB retained after
        // AnalyzeStack at 3,000 users, +200 MB peak at 10,000.
        return result.then((value) => value);
    }

    /**
     * Every rule evaluated for this stack so far, for the pack's last stack policy. Not `async`:
     * nothing of `resources` may be held across the wait.
     */
    evaluated(resources: readonly PolicyResource[]): Promise<RuleResults> {
        const memo = this.memoFor(resources, "unverified");
        if (!memo) return Promise.resolve([{ rule: "non-privileged", result: { failure: "the stack's resources could not be read" }, config: DEFAULT_CONFIG }]);
        return Promise.all(memo.byRule.values()).then(() => {
            this.collectBeforeResponse(memo.settled);
            return memo.settled;
        });
    }

    private memoFor(resources: readonly PolicyResource[], caller: string, config?: MfaPolicyConfig): StackMemo | undefined {
        const sameSettings = (memo: StackMemo) => config === undefined || JSON.stringify(config) === JSON.stringify(memo.config);
        // The SDK calls the stack policies of one AnalyzeStack one after the other, each with its own
        // copy of the same resources; a new AnalyzeStack starts again with a policy already served.
        // So a policy the memo has not served yet is in the same call, and is spared copying the whole
        // stack again: at 10,000 users that grew the pack's peak memory ~150 MB over the SDK's own,
        // right where the SDK's copy for the next policy is largest. A new AnalyzeStack is evaluated
        // afresh (Graph's answers are cached for the run, so that costs no requests).
        if (this.memo && !this.memo.served.has(caller) && this.memo.resourceCount === resources.length && sameSettings(this.memo)) {
            this.memo.served.add(caller);
            return this.memo;
        }
        let snapshots: StackResourceSnapshot[];
        try {
            snapshots = snapshotIdentityResources(resources);
        } catch {
            return undefined;
        }
        const settings = config ?? DEFAULT_CONFIG;
        const deadline = this.dependencies.now().getTime() + settings.verificationBudgetSeconds * 1000;
        this.memo = { resourceCount: resources.length, served: new Set([caller]), config: settings, deadline, snapshots, byRule: new Map(), settled: [] };
        return this.memo;
    }

    /** `afterPrefetch`: Analyze calls came before this AnalyzeStack, so the prefetch's leftovers are on the heap. */
    private async run(memo: StackMemo, rule: Rule, afterPrefetch: boolean): Promise<RuleResult> {
        memo.evaluation ??= this.evaluateBothRules(memo).then((result) => {
            if (afterPrefetch) this.collectGarbage();
            return result;
        });
        const shared = await memo.evaluation;
        const result: EvaluationResult =
            "evaluation" in shared ? { evaluation: { ...shared.evaluation, verdicts: shared.evaluation.verdicts.filter((v) => v.rule === rule) } } : shared;
        const ruleResult = { rule, result, config: memo.config };
        memo.settled.push(ruleResult);
        try {
            await this.dependencies.onEvaluated?.(memo.settled);
        } catch {
            // Reports are a by-product; a failure to write one must not change any verdict.
        }
        return ruleResult;
    }

    private async evaluateBothRules(memo: StackMemo): Promise<EvaluationResult> {
        try {
            const inventory = buildInventory(memo.snapshots!, this.dependencies.catalog);
            memo.snapshots = undefined;
            const context = { config: memo.config, evidence: this.dependencies.evidence, now: this.dependencies.now(), deadline: memo.deadline };
            return { evaluation: await evaluateUsers(inventory, context, BOTH_RULES) };
        } catch (error) {
            return { failure: `the pack failed while evaluating the stack (${messageOf(error)})` };
        }
    }

    /**
     * Why collect inside AnalyzeStack at all: V8 runs no full collection in a short AnalyzeStack, so
     * whatever dies there stays on the heap while the SDK decodes the stack again for each later
     * stack policy and then encodes the response, where the process peaks. Two kinds of garbage
     * are worth a collection's time (measured at 10,000 users, preview-shaped, `npm run bench`):
     * - after an evaluation that followed Analyze calls: the prefetch's rounds, the AnalyzeStack
     *   request's buffers (46 MB) and the evaluation's own working set. Collected here, the SDK's
     *   next decodes reuse the space; the pack peaked 137 MB above the SDK floor pack without it;
     * - before a large response: @pulumi/policy's encoder (google-protobuf) keeps each byte of it as
     *   an element of a JavaScript array: 42 MB of heap for the 2.8 MB response of 3,340 violations
     *   (`node bin/bench/responseEncodingMemory.js`), which must find room on a heap already full.
     * Without Analyze calls, a stack this large has the pack wait on Graph's throttle inside
     * AnalyzeStack, where the idle collection (`collectGarbageWhileWaiting`) does the first's work
     * at no cost in wall time.
     */
    private collectGarbage(): void {
        const heap = this.dependencies.heap;
        try {
            if (heap && heap.heapUsedBytes() >= STACK_COLLECTION.minHeapBytes) heap.collectGarbage();
        } catch {
            // Memory only: whatever goes wrong here, the verdicts stand.
        }
    }

    private collectBeforeResponse(settled: RuleResults): void {
        const reported = settled.reduce(
            (count, { result }) => count + ("evaluation" in result ? result.evaluation.verdicts.filter((v) => v.kind === "noncompliant" || v.kind === "unverified").length : 0),
            0,
        );
        if (reported >= STACK_COLLECTION.minReportedVerdicts) this.collectGarbage();
    }
}

const BOTH_RULES: ReadonlySet<Rule> = new Set<Rule>(["non-privileged", "privileged"]);

/** Copies the resources the inventory reads out of the SDK's unknown-checking proxies. */
export function snapshotIdentityResources(resources: readonly PolicyResource[]): StackResourceSnapshot[] {
    const snapshots: StackResourceSnapshot[] = [];
    for (const resource of resources) {
        const kind = resourceKindOf(resource.type);
        if (!kind) continue;
        snapshots.push({
            urn: resource.urn,
            type: resource.type,
            name: resource.name,
            props: copyPropertyBag(resource.props, (error) => error instanceof UnknownValueError, READ_PROPERTIES[kind]),
            propertyDependencies: Object.fromEntries(
                Object.entries(resource.propertyDependencies ?? {}).map(([property, dependencies]) => [property, dependencies.map((d) => d.urn)]),
            ),
        });
    }
    return snapshots;
}

function messageOf(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}
