// What one benchmark run measured, the targets of issue 3 judged as ratios of it, and the Markdown for both.
import { readFileSync } from "node:fs";
import * as os from "node:os";

import { RecordedRequest, ThrottleModel } from "../test/emulator/graphEmulator";
import { median } from "./startTime";

/** What a client sent to the Graph emulator and how much of it Graph throttled. */
export interface GraphTraffic {
    /** HTTP requests to Graph, `$batch` POSTs included; token requests excluded. */
    httpRequests: number;
    batches: number;
    subRequests: number;
    /** 429s received: HTTP answers plus `$batch` sub-responses. */
    throttled: number;
    tokenRequests: number;
}

/**
 * How the engine reached AnalyzeStack. `cold`: ConfigureStack, Configure, AnalyzeStack, nothing
 * before it warmed the Graph client, the token or the Conditional Access answer. `preview`: one
 * Analyze per resource first, as `pulumi preview` does (the Analyze-time policy reads Graph).
 */
export type RunKind = "cold" | "preview";

export interface PackMeasurement {
    kind: RunKind;
    analyzeStackWallMs: number;
    analyzeStackCpuMs: number;
    /** The whole conversation: ConfigureStack, Configure, the Analyze calls if any, AnalyzeStack. */
    sequenceWallMs: number;
    requestBytes: number;
    peakRssBytes: number;
    traffic: GraphTraffic;
    phases: AnalyzeStackPhases;
}

/** Where an AnalyzeStack call's wall time went, placed by the emulator's request log. */
export interface AnalyzeStackPhases {
    /** Call sent to the first request at the emulator (token or Graph): the SDK's decoding, the inventory, loading the Graph client. */
    beforeGraphMs: number;
    /** First request at the emulator to the last Graph answer. */
    graphMs: number;
    /** Last Graph answer to the reply: verdicts, messages, the response. */
    afterGraphMs: number;
}

export interface BaselineMeasurement {
    wallMs: number;
    traffic: GraphTraffic;
}

export interface SizeResult {
    users: number;
    resources: number;
    /** Users the pack's policies must ask Graph about. */
    graphLookups: number;
    fixtureBuildMs: number;
    /** One fresh pack process per kind of run. */
    runs: PackMeasurement[];
    baseline?: BaselineMeasurement;
    /** The SDK floor pack (as many no-op stack policies) driven cold on the same stack: what @pulumi/policy alone costs. */
    sdkFloor?: { stackPolicies: number; analyzeStackWallMs: number; peakRssBytes: number };
}

/** The inventory-only runs; each figure is the mean over the runs (see `cpuMsPerRun`). */
export interface InventoryResult {
    resources: number;
    analyzeStackWallMs: number;
    analyzeStackCpuMs: number;
    /** Each run's AnalyzeStack CPU, in the order run. */
    cpuMsPerRun: number[];
    requestBytes: number;
    peakRssBytes: number;
    graphHttpRequests: number;
    /** The same AnalyzeStack on a pack of as many no-op stack policies: the SDK's own cost. */
    sdkFloor: { stackPolicies: number; analyzeStackWallMs: number; analyzeStackCpuMs: number; cpuMsPerRun: number[]; peakRssBytes: number };
}

export interface Machine {
    cpuModel: string;
    cpus: number;
    memoryBytes: number;
    node: string;
    loadAverageAtStart: number[];
}

export interface BenchResults {
    date: Date;
    machine: Machine;
    latencyMs: number;
    throttle: ThrottleModel;
    sizes: SizeResult[];
    /** Left out with `--start-runs 0`. */
    startTimes?: { bare: number[]; pack: number[] };
    /** Left out with `--inventory-resources 0`. */
    inventory?: InventoryResult;
    /** This script from start to end; `npm run bench` adds the build. */
    runWallMs: number;
}

/** The figures issue 3 sets: what they are measured against, and the bound. */
export const TARGETS = {
    maxRatioToThrottlingFloor: 1.3,
    /** 429s received, as a share of sub-requests sent, in the cold 10,000-user run. */
    maxThrottledShareAt10000: 0.02,
    minSpeedupOverBaselineAt1000: 25,
    maxStartRatioToBarePack: 1.5,
    maxInventoryCpuMs: 2_000,
    inventoryResources: 50_000,
    maxPeakRssBytes: 300 * 1024 * 1024,
} as const;

export function describeMachine(): Machine {
    const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
    return {
        cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1].trim() ?? "unknown",
        cpus: os.availableParallelism(),
        memoryBytes: os.totalmem(),
        node: process.version,
        loadAverageAtStart: os.loadavg(),
    };
}

export function graphTraffic(requests: readonly RecordedRequest[]): GraphTraffic {
    const traffic: GraphTraffic = { httpRequests: 0, batches: 0, subRequests: 0, throttled: 0, tokenRequests: 0 };
    for (const request of requests) {
        if (request.endpoint === "token") traffic.tokenRequests++;
        if (request.endpoint !== "graph" && request.endpoint !== "batch") continue;
        traffic.httpRequests++;
        if (request.status === 429) traffic.throttled++;
        if (request.isBatch) traffic.batches++;
        for (const subRequest of request.subRequests ?? []) {
            traffic.subRequests++;
            if (subRequest.status === 429) traffic.throttled++;
        }
    }
    return traffic;
}

export function analyzeStackPhases(requests: readonly RecordedRequest[], startedAt: number, wallMs: number): AnalyzeStackPhases {
    // Requests made before AnalyzeStack (the Analyze-time Conditional Access read) are not its phases.
    requests = requests.filter((r) => r.at >= startedAt);
    if (requests.length === 0) return { beforeGraphMs: wallMs, graphMs: 0, afterGraphMs: 0 };
    const firstArrival = Math.min(...requests.map((r) => r.at));
    const lastAnswer = Math.max(...requests.map((r) => r.at + r.durationMs));
    const beforeGraphMs = Math.max(0, firstArrival - startedAt);
    const graphMs = lastAnswer - firstArrival;
    return { beforeGraphMs, graphMs, afterGraphMs: Math.max(0, wallMs - beforeGraphMs - graphMs) };
}

/**
 * The least time `users` Graph GETs can take once the budget is the limit: users ÷ (units per
 * window ÷ window), e.g. 1,000 ÷ 800/s = 1.25 s. It ignores the first window's burst, so a stack
 * that needs fewer units than one window holds can beat it.
 */
export function throttlingFloorMs(users: number, throttle: ThrottleModel): number {
    return (users * throttle.windowMs) / throttle.unitsPerWindow;
}

export interface TargetVerdict {
    target: string;
    measured: string;
    met: boolean | undefined;
}

/** The run the targets are judged on: cold, so nothing before AnalyzeStack did part of its work. */
export function judgedRun(size: SizeResult): PackMeasurement | undefined {
    return size.runs.find((run) => run.kind === "cold");
}

/** A cold run's AnalyzeStack against the throttling floor; shared by the first release's targets and issue 8's. */
export function judgeColdAgainstFloor(results: BenchResults, users: number, maxRatio: number): TargetVerdict {
    const size = results.sizes.find((s) => s.users === users);
    const run = size && judgedRun(size);
    const floorMs = throttlingFloorMs(users, results.throttle);
    const target = `${users.toLocaleString("en-US")} users, cold: AnalyzeStack within ${maxRatio}× of the throttling floor (${seconds(floorMs)})`;
    if (run === undefined) return { target, measured: "not run (see --sizes, --runs)", met: undefined };
    const ratio = run.analyzeStackWallMs / floorMs;
    const sdk = size!.sdkFloor ? `; the SDK floor pack alone takes ${seconds(size!.sdkFloor.analyzeStackWallMs)}` : "";
    return { target, measured: `${seconds(run.analyzeStackWallMs)} = ${ratio.toFixed(2)}× the floor${sdk}`, met: ratio <= maxRatio };
}

/** 429s received in the cold 10,000-user run, as a share of the sub-requests sent. */
export function judgeThrottledShare(results: BenchResults, maxShare: number): TargetVerdict {
    const size = results.sizes.find((s) => s.users === 10_000);
    const run = size && judgedRun(size);
    const target = `10,000 users, cold: 429s under ${maxShare * 100} % of sub-requests`;
    if (run === undefined) return { target, measured: "not run (see --sizes, --runs)", met: undefined };
    const { throttled, subRequests } = run.traffic;
    const share = throttled / Math.max(1, subRequests);
    return { target, measured: `${throttled.toLocaleString("en-US")} of ${subRequests.toLocaleString("en-US")} = ${(share * 100).toFixed(2)} %`, met: share < maxShare };
}

export function judgeTargets(results: BenchResults): TargetVerdict[] {
    const verdicts: TargetVerdict[] = [1_000, 10_000].map((users) => judgeColdAgainstFloor(results, users, TARGETS.maxRatioToThrottlingFloor));
    verdicts.push(judgeThrottledShare(results, TARGETS.maxThrottledShareAt10000));

    const at1000 = results.sizes.find((s) => s.users === 1_000);
    const cold1000 = at1000 && judgedRun(at1000);
    const speedupTarget = `1,000 users, cold: at least ${TARGETS.minSpeedupOverBaselineAt1000}× faster than the sequential baseline`;
    if (at1000?.baseline === undefined || cold1000 === undefined) {
        verdicts.push({ target: speedupTarget, measured: "not run (see --sizes, --runs, --baseline-up-to)", met: undefined });
    } else {
        const speedup = at1000.baseline.wallMs / cold1000.analyzeStackWallMs;
        verdicts.push({
            target: speedupTarget,
            measured: `${seconds(at1000.baseline.wallMs)} / ${seconds(cold1000.analyzeStackWallMs)} = ${speedup.toFixed(1)}×`,
            met: speedup >= TARGETS.minSpeedupOverBaselineAt1000,
        });
    }

    const startTarget = `Pack start within ${TARGETS.maxStartRatioToBarePack}× of a bare @pulumi/policy pack (medians)`;
    if (results.startTimes === undefined) {
        verdicts.push({ target: startTarget, measured: "not run (see --start-runs)", met: undefined });
    } else {
        const packStart = median(results.startTimes.pack);
        const bareStart = median(results.startTimes.bare);
        verdicts.push({
            target: startTarget,
            measured: `${milliseconds(packStart)} / ${milliseconds(bareStart)} = ${(packStart / bareStart).toFixed(2)}×`,
            met: packStart / bareStart <= TARGETS.maxStartRatioToBarePack,
        });
    }

    const inventory = results.inventory;
    const inventoryTarget = `${TARGETS.inventoryResources.toLocaleString("en-US")} resources, no Graph: AnalyzeStack under ${seconds(TARGETS.maxInventoryCpuMs)} CPU`;
    if (inventory === undefined) {
        verdicts.push({ target: inventoryTarget, measured: "not run (see --inventory-resources)", met: undefined });
    } else {
        verdicts.push({
            target: inventoryTarget,
            measured: `${inventory.resources.toLocaleString("en-US")} resources: ${seconds(inventory.analyzeStackCpuMs)} CPU = ${(inventory.analyzeStackCpuMs / TARGETS.maxInventoryCpuMs).toFixed(2)}× the bound (SDK floor ${seconds(inventory.sdkFloor.analyzeStackCpuMs)})`,
            met: inventory.resources >= TARGETS.inventoryResources && inventory.analyzeStackCpuMs < TARGETS.maxInventoryCpuMs,
        });
    }

    const userRuns = results.sizes.flatMap((s) => s.runs.map((run) => ({ label: `${s.users.toLocaleString("en-US")} users, ${run.kind}`, bytes: run.peakRssBytes })));
    const runs = inventory === undefined ? userRuns : [...userRuns, { label: `${inventory.resources.toLocaleString("en-US")} resources`, bytes: inventory.peakRssBytes }];
    if (runs.length > 0) {
        const largest = runs.reduce((a, b) => (b.bytes > a.bytes ? b : a));
        verdicts.push({
            target: `Pack peak RSS under ${megabytes(TARGETS.maxPeakRssBytes)} in every run`,
            measured: `largest ${megabytes(largest.bytes)} (${largest.label}) = ${(largest.bytes / TARGETS.maxPeakRssBytes).toFixed(2)}× the bound`,
            met: largest.bytes < TARGETS.maxPeakRssBytes,
        });
    }
    return verdicts;
}

export function renderResults(results: BenchResults): string {
    const { machine, throttle } = results;
    const lines = [
        "# entra-mfa-guard benchmark",
        "",
        `Run ${results.date.toISOString()} by \`npm run bench\` (\`bench/run.ts\`); this script took ${seconds(results.runWallMs)}, the build not included.`,
        "",
        `Machine: ${machine.cpuModel}, ${machine.cpus} CPUs, ${gigabytes(machine.memoryBytes)} memory, Node ${machine.node}; load average at start ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(" / ")}.`,
        "",
        `Graph emulator on 127.0.0.1: ${results.latencyMs} ms added to every HTTP request; throttle ${throttle.unitsPerWindow.toLocaleString("en-US")} resource units per ${throttle.windowMs / 1000} s (1 per GET, each \`$batch\` sub-request counted, 429 with Retry-After beyond). A fresh pack process per size, as each \`pulumi preview\` starts one. Stacks: 70 % non-privileged users (Reader, Data Lake Analytics Developer, Global Reader, or no role), 30 % privileged (Owner, Contributor, Global Administrator); tenant states disabled/enabled/enforced in turn. "Graph lookups" are the users the pack's policies must ask Graph about: the tenant has no Conditional Access policy and security defaults are off, so after one request for each of those, every user needs its per-user MFA state.`,
        "",
        "## Users",
        "",
        "AnalyzeStack wall time is the RPC alone: the request is built and serialized to bytes before the clock starts and the response decoded after it stops, as the benchmark's JavaScript protobuf codec spends seconds at 10,000 users where the engine's Go one does not; the floor is users ÷ 800/s. Each size runs in two fresh pack processes: *cold* (ConfigureStack, Configure, AnalyzeStack: the Graph client, the token and every Graph answer are fetched inside AnalyzeStack) and *after preview's Analyze* (one Analyze per resource first, as `pulumi preview` sends; the Analyze-time policy reads Conditional Access, which warms the client and the token). The targets are judged on the cold runs. The baseline asks the same users one sequential GET at a time.",
        "",
        "| Users | Resources | Graph lookups | Client | AnalyzeStack wall | vs floor | Graph HTTP requests | `$batch`es | Sub-requests | 429s | Token requests | Before Graph / Graph / after | Pack peak RSS | Pack CPU in AnalyzeStack | Whole conversation |",
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ];
    for (const size of results.sizes) {
        const floorMs = throttlingFloorMs(size.users, throttle);
        const common = `| ${size.users.toLocaleString("en-US")} | ${size.resources.toLocaleString("en-US")} | ${size.graphLookups.toLocaleString("en-US")}`;
        for (const run of size.runs) {
            lines.push(
                `${common} | pack, ${run.kind === "cold" ? "cold" : "after preview's Analyze"} | ${seconds(run.analyzeStackWallMs)} | ${(run.analyzeStackWallMs / floorMs).toFixed(2)}× of ${seconds(floorMs)} | ${trafficCells(run.traffic)} | ${phaseCells(run.phases)} | ${megabytes(run.peakRssBytes)} | ${seconds(run.analyzeStackCpuMs)} | ${seconds(run.sequenceWallMs)} |`,
            );
        }
        if (size.sdkFloor) {
            lines.push(`${common} | SDK floor (${size.sdkFloor.stackPolicies} no-op stack policies), cold | ${seconds(size.sdkFloor.analyzeStackWallMs)} | – | – | – | – | – | – | – | ${megabytes(size.sdkFloor.peakRssBytes)} | – | – |`);
        }
        const cold = judgedRun(size);
        if (size.baseline) {
            const speedup = cold === undefined ? "" : ` (pack ${(size.baseline.wallMs / cold.analyzeStackWallMs).toFixed(1)}× faster, cold)`;
            lines.push(`${common} | sequential baseline | ${seconds(size.baseline.wallMs)} | ${(size.baseline.wallMs / floorMs).toFixed(2)}×${speedup} | ${trafficCells(size.baseline.traffic)} | – | – | – | – |`);
        }
    }
    const { startTimes, inventory } = results;
    if (startTimes !== undefined) {
        lines.push(
            "",
            "## Pack start (spawn to port line)",
            "",
            "| Pack | Median | Runs |",
            "| --- | ---: | --- |",
            `| entra-mfa-guard (built) | ${milliseconds(median(startTimes.pack))} | ${startTimes.pack.map((t) => Math.round(t)).join(", ")} ms |`,
            `| bare @pulumi/policy pack | ${milliseconds(median(startTimes.bare))} | ${startTimes.bare.map((t) => Math.round(t)).join(", ")} ms |`,
        );
    }
    if (inventory !== undefined) {
        lines.push(
            "",
            "## Inventory alone",
            "",
            `Users with sign-in disabled (out of scope of both MFA rules by default, still inventoried and classified), their Owner assignments and storage accounts: nothing to ask Graph. ConfigureStack, Configure, then AnalyzeStack (no Analyze calls: both packs have stack policies only). The SDK floor is a pack of as many no-op stack policies (\`bench/sdk-floor-pack\`): @pulumi/policy decodes every resource once per stack policy before calling it. ${inventoryRunsSentence(inventory.cpuMsPerRun.length)}`,
            "",
            "| Pack | Resources | Request size | AnalyzeStack CPU (mean) | CPU of each run | AnalyzeStack wall | Peak RSS | Graph requests |",
            "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
            `| entra-mfa-guard | ${inventory.resources.toLocaleString("en-US")} | ${megabytes(inventory.requestBytes)} | ${seconds(inventory.analyzeStackCpuMs)} | ${inventory.cpuMsPerRun.map(seconds).join(", ")} | ${seconds(inventory.analyzeStackWallMs)} | ${megabytes(inventory.peakRssBytes)} | ${inventory.graphHttpRequests} |`,
            `| SDK floor (${inventory.sdkFloor.stackPolicies} no-op stack policies) | ${inventory.resources.toLocaleString("en-US")} | ${megabytes(inventory.requestBytes)} | ${seconds(inventory.sdkFloor.analyzeStackCpuMs)} | ${inventory.sdkFloor.cpuMsPerRun.map(seconds).join(", ")} | ${seconds(inventory.sdkFloor.analyzeStackWallMs)} | ${megabytes(inventory.sdkFloor.peakRssBytes)} | – |`,
        );
    }
    lines.push(
        "",
        "## Targets of the first release (issue 3), as ratios measured in this run",
        "",
        "| Target | Measured | Met |",
        "| --- | --- | --- |",
        ...judgeTargets(results).map((v) => `| ${v.target} | ${v.measured} | ${v.met === undefined ? "not measured" : v.met ? "yes" : "**no**"} |`),
        "",
        "Fixture building (benchmark side, not timed above): " +
            results.sizes.map((s) => `${s.users.toLocaleString("en-US")} users ${seconds(s.fixtureBuildMs)}`).join(", ") +
            ".",
        "",
    );
    return lines.join("\n");
}

function trafficCells(traffic: GraphTraffic): string {
    return [traffic.httpRequests, traffic.batches, traffic.subRequests, traffic.throttled, traffic.tokenRequests].map((n) => n.toLocaleString("en-US")).join(" | ");
}

function phaseCells(phases: AnalyzeStackPhases): string {
    return [phases.beforeGraphMs, phases.graphMs, phases.afterGraphMs].map(seconds).join(" / ");
}

function inventoryRunsSentence(runs: number): string {
    if (runs < 2) return "Each pack runs once, in a fresh process.";
    return `Each pack runs ${runs} times, each in a fresh process, the two alternating in ABBA order (pack, floor, floor, pack, …) so that a drift in the machine's speed falls on both alike. Figures are means over a pack's runs; the CPU of each run is listed too, as one process's CPU on this stack varies by seconds, most of it the SDK's decoding and GC.`;
}

export function seconds(ms: number): string {
    return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function milliseconds(ms: number): string {
    return `${Math.round(ms)} ms`;
}

export function megabytes(bytes: number): string {
    return `${Math.round(bytes / (1024 * 1024))} MB`;
}

function gigabytes(bytes: number): string {
    return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}
