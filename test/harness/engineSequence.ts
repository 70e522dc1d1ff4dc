// The order in which the engine drives a policy pack during an update: ConfigureStack when the analyzer
// is created, GetAnalyzerInfo and Configure while loading policy packs (pkg/engine/update.go,
// installAndLoadPolicyPlugins), Analyze as each resource is registered, AnalyzeStack at the end.
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
export function preview(pack: PolicyPackProcess, resources: StackResource[], config?: PolicyPackConfig): Promise<PolicyRun> {
    return runPolicies(pack, resources, config, true);
}

/**
 * The same sequence for `pulumi up`. The pack's environment still says what it was launched with
 * (`stack.dryRun` in `launchPolicyPack`), as the engine starts a fresh pack per operation.
 */
export function up(pack: PolicyPackProcess, resources: StackResource[], config?: PolicyPackConfig): Promise<PolicyRun> {
    return runPolicies(pack, resources, config, false);
}

async function runPolicies(
    pack: PolicyPackProcess,
    resources: StackResource[],
    config: PolicyPackConfig | undefined,
    dryRun: boolean,
): Promise<PolicyRun> {
    await pack.configureStack({ dryRun });
    await pack.configure(config);
    const analyze: Diagnostic[] = [];
    for (const resource of resources) {
        const diagnostics = await pack.analyze(resource, resources);
        analyze.push(...diagnostics.map((diagnostic) => ({ ...diagnostic, urn: resource.urn })));
    }
    const stack = await pack.analyzeStack(resources);
    return { analyze, stack };
}
