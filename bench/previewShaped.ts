// The benchmark's preview-shaped run: the engine's Analyze calls spread over the time a program
// takes to register its resources, then AnalyzeStack, as `pulumi preview` drives a pack.
import { performance } from "node:perf_hooks";

import { GraphEmulator } from "../test/emulator/graphEmulator";
import { Diagnostic, launchPolicyPack, preview } from "../test/harness";
import { PACK_DIR } from "../test/policies/packUnderTest";
import { peakRssBytes } from "./processStats";
import { analyzeStackPhases, AnalyzeStackPhases, graphTraffic, GraphTraffic, megabytes } from "./report";
import { BenchStack } from "./stacks";
import { withTimedAnalyzeStack } from "./timedAnalyzeStack";

/** One pack driven through a whole preview. */
export interface PreviewShapedPackRun {
    analyzeStackWallMs: number;
    /** From ConfigureStack to the AnalyzeStack reply. */
    conversationWallMs: number;
    /** The Analyze calls alone, from the first sent to the last answered. */
    analyzeCallsWallMs: number;
    traffic?: GraphTraffic;
    /** Graph sub-requests (and plain requests) the pack sent while AnalyzeStack ran: what prefetching left on the critical path. */
    subRequestsDuringAnalyzeStack?: number;
    phases?: AnalyzeStackPhases;
    peakRssBytes: number;
}

export interface PreviewShapedResult {
    users: number;
    resources: number;
    /** The span the Analyze calls were spread over (they take longer when the pack answers slowly). */
    analyzeSpanMs: number;
    pack: PreviewShapedPackRun;
    sdkFloor: PreviewShapedPackRun & { stackPolicies: number };
}

/** The default span: 3 s for 1,000 users, 10 s for 10,000, in proportion between and below. */
export function defaultAnalyzeSpanMs(users: number): number {
    return users <= 1_000 ? 3 * users : 3_000 + ((users - 1_000) * 7_000) / 9_000;
}

async function drive(packDir: string, env: Record<string, string>, built: BenchStack, analyzeSpanMs: number) {
    const launched = await launchPolicyPack({ packDir, env });
    const timed = withTimedAnalyzeStack(launched);
    try {
        const stackPolicies = (await launched.analyzerInfo()).policies.filter((policy) => policy.policyType === "stack").length;
        const start = performance.now();
        let analyzeEnd = start;
        const run = await preview(timed.pack, built.resources, undefined, { analyzeSpanMs, beforeAnalyzeStack: () => void (analyzeEnd = performance.now()) });
        const conversationWallMs = performance.now() - start;
        const [analyzeStack] = timed.timings;
        return {
            run,
            stackPolicies,
            conversationWallMs,
            analyzeCallsWallMs: analyzeEnd - start,
            analyzeStackWallMs: analyzeStack.wallMs,
            analyzeStackStartedAt: analyzeStack.startedAt,
            peakRssBytes: peakRssBytes(launched.pid),
        };
    } finally {
        timed.close();
        await launched.close();
    }
}

/**
 * The pack, then the SDK floor pack (as many no-op stack policies, no resource policy) driven the
 * same way, each in a fresh process and a fresh throttle window. `check` rejects wrong verdicts.
 */
export async function measurePreviewShaped(
    emulator: GraphEmulator,
    built: BenchStack,
    analyzeSpanMs: number,
    floorPackDir: string,
    check: (stackDiagnostics: Diagnostic[]) => void,
): Promise<PreviewShapedResult> {
    emulator.reset();
    const pack = await drive(PACK_DIR, emulator.env(), built, analyzeSpanMs);
    check(pack.run.stack);
    const traffic = graphTraffic(emulator.requests);
    const duringAnalyzeStack = emulator.requests.filter((r) => r.at >= pack.analyzeStackStartedAt && (r.endpoint === "graph" || r.endpoint === "batch"));
    const subRequestsDuringAnalyzeStack = duringAnalyzeStack.reduce((count, r) => count + (r.subRequests?.length ?? 1), 0);
    const phases = analyzeStackPhases(emulator.requests, pack.analyzeStackStartedAt, pack.analyzeStackWallMs);
    emulator.reset();
    const floor = await drive(floorPackDir, { SDK_FLOOR_STACK_POLICIES: String(pack.stackPolicies) }, built, analyzeSpanMs);
    const users = built.nonPrivilegedIds.length + built.privilegedIds.length;
    return {
        users,
        resources: built.resources.length,
        analyzeSpanMs,
        pack: {
            analyzeStackWallMs: pack.analyzeStackWallMs,
            conversationWallMs: pack.conversationWallMs,
            analyzeCallsWallMs: pack.analyzeCallsWallMs,
            traffic,
            subRequestsDuringAnalyzeStack,
            phases,
            peakRssBytes: pack.peakRssBytes,
        },
        sdkFloor: {
            analyzeStackWallMs: floor.analyzeStackWallMs,
            conversationWallMs: floor.conversationWallMs,
            analyzeCallsWallMs: floor.analyzeCallsWallMs,
            stackPolicies: floor.stackPolicies,
            peakRssBytes: floor.peakRssBytes,
        },
    };
}

/** AnalyzeStack wall within 1.3× of the floor pack's, plus 100 ms at 1,000 users and 1 s at 10,000. */
export function previewShapedBoundMs(result: PreviewShapedResult): number {
    const slack = result.users >= 10_000 ? 1_000 : 100;
    return 1.3 * result.sdkFloor.analyzeStackWallMs + slack;
}

export function renderPreviewShaped(results: readonly PreviewShapedResult[]): string {
    if (results.length === 0) return "";
    const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
    const lines = [
        "## Preview-shaped runs",
        "",
        "The engine's `Analyze` call for every resource (inputs), spread over the span a program takes to register them, then `AnalyzeStack`, as `pulumi preview` drives a pack; each pack in a fresh process and throttle window. The pack gathers evidence while the Analyze calls arrive; the SDK floor pack (no-op stack policies, no resource policy) is driven the same way. `Analyze calls` is the wall time from the first Analyze sent to the last answered (longer than the span when the pack answers slowly).",
        "",
        "| Users | Resources | Span | Pack | AnalyzeStack wall | Graph in AnalyzeStack (sub-requests, time) | Analyze calls | Whole conversation | Graph HTTP requests | 429s | Peak RSS |",
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ];
    for (const r of results) {
        lines.push(`| ${r.users.toLocaleString("en-US")} | ${r.resources.toLocaleString("en-US")} | ${seconds(r.analyzeSpanMs)} | pack | ${seconds(r.pack.analyzeStackWallMs)} | ${r.pack.subRequestsDuringAnalyzeStack}, ${seconds(r.pack.phases!.graphMs)} | ${seconds(r.pack.analyzeCallsWallMs)} | ${seconds(r.pack.conversationWallMs)} | ${r.pack.traffic!.httpRequests.toLocaleString("en-US")} | ${r.pack.traffic!.throttled} | ${megabytes(r.pack.peakRssBytes)} |`);
        lines.push(`| | | | SDK floor (${r.sdkFloor.stackPolicies} no-op stack policies) | ${seconds(r.sdkFloor.analyzeStackWallMs)} | – | ${seconds(r.sdkFloor.analyzeCallsWallMs)} | ${seconds(r.sdkFloor.conversationWallMs)} | – | – | ${megabytes(r.sdkFloor.peakRssBytes)} |`);
    }
    return `${lines.join("\n")}\n`;
}
