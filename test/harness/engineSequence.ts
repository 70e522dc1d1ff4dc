// The order in which the engine drives a policy pack during an update: ConfigureStack when the analyzer
// is created, GetAnalyzerInfo and Configure while loading policy packs (pkg/engine/update.go,
// installAndLoadPolicyPlugins), Analyze as each resource is registered, AnalyzeStack at the end.
// `pulumi policy analyze` (pkg/cmd/pulumi/policy/policy_analyze.go) loads the packs before it knows a
// stack, so it skips ConfigureStack, then analyzes the snapshot's resources in order.
import { Diagnostic } from "./analyzerWire";
import { PolicyPackConfig } from "./policyPackConfig";
import { PolicyPackProcess } from "./policyPackProcess";
import { StackResource } from "./stackResource";

export interface PolicyRun {
    /** From `Analyze`, one call per resource, in order. */
    analyze: Diagnostic[];
    /** From the single `AnalyzeStack` call. */
    stack: Diagnostic[];
}

/**
 * Runs the engine's whole `pulumi preview` sequence against a launched pack.
 *
 * `Analyze` violations are attributed to the analyzed resource whatever URN they name, as the engine's
 * step generator reports them (`OnPolicyViolation(new.URN, d)`); `AnalyzeStack` ones keep their own URN,
 * or none (the stack).
 *
 * For example:
 * ```ts
 * const { analyze, stack } = await preview(pack, [user, roleAssignment], { all: "mandatory" });
 * ```
 */
export function preview(pack: PolicyPackProcess, resources: StackResource[], config?: PolicyPackConfig, options?: SequenceOptions): Promise<PolicyRun> {
    return runPolicies(pack, resources, config, true, options);
}

/** Variations on the engine's sequence; by default every resource is analyzed back to back, then the stack. */
export interface SequenceOptions {
    /** Sends no `Analyze` at all, as if the engine went straight to `AnalyzeStack`. */
    skipAnalyze?: boolean;
    /** Spreads the `Analyze` calls evenly over this many milliseconds, as a program registering resources does. */
    analyzeSpanMs?: number;
    /** Runs after the last `Analyze` and before `AnalyzeStack` is sent, e.g. to record what the pack did meanwhile. */
    beforeAnalyzeStack?: () => void | Promise<void>;
}

/**
 * The same sequence for `pulumi up`. The pack's environment still says what it was launched with
 * (`stack.dryRun` in `launchPolicyPack`), as the engine starts a fresh pack per operation.
 */
export function up(pack: PolicyPackProcess, resources: StackResource[], config?: PolicyPackConfig, options?: SequenceOptions): Promise<PolicyRun> {
    return runPolicies(pack, resources, config, false, options);
}

/**
 * The sequence of `pulumi policy analyze --stack …` or `--file <export>`: no `ConfigureStack`; GetAnalyzerInfo
 * and Configure; `Analyze` on each resource's inputs in snapshot order; one `AnalyzeStack` on outputs.
 * `resources` are the snapshot's, pending deletes already left out (see `resourcesOfExport`). The pack
 * must have been launched as the command launches it, with `stack: null`.
 *
 * For example:
 * ```ts
 * const pack = await launchPolicyPack({ packDir, stack: null });
 * const { analyze, stack } = await policyAnalyze(pack, resourcesOfExport(exported, "undecryptable").analyzed);
 * ```
 */
export async function policyAnalyze(pack: PolicyPackProcess, resources: StackResource[], config?: PolicyPackConfig): Promise<PolicyRun> {
    if (pack.stackContext !== undefined) {
        throw new Error("`pulumi policy analyze` starts the pack before a stack is known: launch it with `stack: null`");
    }
    await pack.configure(config);
    return analyzeAll(pack, resources);
}

/** Whether `pulumi policy analyze` exits non-zero after this run: it does on any mandatory violation. */
export function failsPolicyAnalyze(run: PolicyRun): boolean {
    return [...run.analyze, ...run.stack].some((diagnostic) => diagnostic.enforcementLevel === "mandatory");
}

async function runPolicies(
    pack: PolicyPackProcess,
    resources: StackResource[],
    config: PolicyPackConfig | undefined,
    dryRun: boolean,
    options: SequenceOptions = {},
): Promise<PolicyRun> {
    await pack.configureStack({ dryRun });
    await pack.configure(config);
    return analyzeAll(pack, resources, options);
}

async function analyzeAll(pack: PolicyPackProcess, resources: StackResource[], options: SequenceOptions = {}): Promise<PolicyRun> {
    const analyze: Diagnostic[] = [];
    const startedAt = Date.now();
    for (const [index, resource] of (options.skipAnalyze ? [] : resources).entries()) {
        if (options.analyzeSpanMs) {
            const due = startedAt + (options.analyzeSpanMs * index) / resources.length;
            if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        }
        const diagnostics = await pack.analyze(resource, resources);
        analyze.push(...diagnostics.map((diagnostic) => ({ ...diagnostic, urn: resource.urn })));
    }
    await options.beforeAnalyzeStack?.();
    const stack = await pack.analyzeStack(resources);
    return { analyze, stack };
}
