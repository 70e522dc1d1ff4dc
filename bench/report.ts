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

export interface PackMeasurement {
    analyzeStackWallMs: number;
    analyzeStackCpuMs: number;
    /** The whole preview sequence (ConfigureStack, Configure, one Analyze per resource, AnalyzeStack). */
    previewWallMs: number;
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
    pack: PackMeasurement;
    baseline?: BaselineMeasurement;
}

export interface InventoryResult {
    resources: number;
    analyzeStackWallMs: number;
    analyzeStackCpuMs: number;
    requestBytes: number;
    peakRssBytes: number;
    graphHttpRequests: number;
    /** The same AnalyzeStack on a pack of as many no-op stack policies: the SDK's own cost. */
    sdkFloor: { stackPolicies: number; analyzeStackWallMs: number; analyzeStackCpuMs: number; peakRssBytes: number };
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
    startTimes: { bare: number[]; pack: number[] };
    inventory: InventoryResult;
    /** This script from start to end; `npm run bench` adds the build. */
    runWallMs: number;
}

/** The figures issue 3 sets: what they are measured against, and the bound. */
export const TARGETS = {
    maxRatioToThrottlingFloor: 1.3,
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

export function judgeTargets(results: BenchResults): TargetVerdict[] {
    const verdicts: TargetVerdict[] = [];
    for (const users of [1_000, 10_000]) {
        const size = results.sizes.find((s) => s.users === users);
        const floorMs = throttlingFloorMs(users, results.throttle);
        const target = `${users.toLocaleString("en-US")} users: AnalyzeStack within ${TARGETS.maxRatioToThrottlingFloor}× of the throttling floor (${seconds(floorMs)})`;
        if (size === undefined) {
            verdicts.push({ target, measured: "not run (see --sizes)", met: undefined });
            continue;
        }
        const ratio = size.pack.analyzeStackWallMs / floorMs;
        verdicts.push({ target, measured: `${seconds(size.pack.analyzeStackWallMs)} = ${ratio.toFixed(2)}× the floor`, met: ratio <= TARGETS.maxRatioToThrottlingFloor });
    }

    const at1000 = results.sizes.find((s) => s.users === 1_000);
    const speedupTarget = `1,000 users: at least ${TARGETS.minSpeedupOverBaselineAt1000}× faster than the sequential baseline`;
    if (at1000?.baseline === undefined) {
        verdicts.push({ target: speedupTarget, measured: "not run (see --sizes, --baseline-up-to)", met: undefined });
    } else {
        const speedup = at1000.baseline.wallMs / at1000.pack.analyzeStackWallMs;
        verdicts.push({
            target: speedupTarget,
            measured: `${seconds(at1000.baseline.wallMs)} / ${seconds(at1000.pack.analyzeStackWallMs)} = ${speedup.toFixed(1)}×`,
            met: speedup >= TARGETS.minSpeedupOverBaselineAt1000,
        });
    }

    const packStart = median(results.startTimes.pack);
    const bareStart = median(results.startTimes.bare);
    verdicts.push({
        target: `Pack start within ${TARGETS.maxStartRatioToBarePack}× of a bare @pulumi/policy pack (medians)`,
        measured: `${milliseconds(packStart)} / ${milliseconds(bareStart)} = ${(packStart / bareStart).toFixed(2)}×`,
        met: packStart / bareStart <= TARGETS.maxStartRatioToBarePack,
    });

    const inventory = results.inventory;
    verdicts.push({
        target: `${inventory.resources.toLocaleString("en-US")} resources, no Graph: AnalyzeStack under ${seconds(TARGETS.maxInventoryCpuMs)} CPU`,
        measured: `${seconds(inventory.analyzeStackCpuMs)} CPU = ${(inventory.analyzeStackCpuMs / TARGETS.maxInventoryCpuMs).toFixed(2)}× the bound (SDK floor ${seconds(inventory.sdkFloor.analyzeStackCpuMs)})`,
        met: inventory.resources >= TARGETS.inventoryResources && inventory.analyzeStackCpuMs < TARGETS.maxInventoryCpuMs,
    });

    const userRuns = results.sizes.map((s) => ({ label: `${s.users.toLocaleString("en-US")} users`, bytes: s.pack.peakRssBytes }));
    const runs = [...userRuns, { label: `${inventory.resources.toLocaleString("en-US")} resources`, bytes: inventory.peakRssBytes }];
    const largest = runs.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    verdicts.push({
        target: `Pack peak RSS under ${megabytes(TARGETS.maxPeakRssBytes)} in every run`,
        measured: `largest ${megabytes(largest.bytes)} (${largest.label}) = ${(largest.bytes / TARGETS.maxPeakRssBytes).toFixed(2)}× the bound`,
        met: largest.bytes < TARGETS.maxPeakRssBytes,
    });
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
        "AnalyzeStack wall time is the RPC alone (the request is encoded before the clock starts); the floor is users ÷ 800/s. The baseline asks the same users one sequential GET at a time.",
        "",
        "| Users | Resources | Graph lookups | Client | AnalyzeStack wall | vs floor | Graph HTTP requests | `$batch`es | Sub-requests | 429s | Token requests | Before Graph / Graph / after | Pack peak RSS | Pack CPU in AnalyzeStack | Whole preview |",
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ];
    for (const size of results.sizes) {
        const floorMs = throttlingFloorMs(size.users, throttle);
        const common = `| ${size.users.toLocaleString("en-US")} | ${size.resources.toLocaleString("en-US")} | ${size.graphLookups.toLocaleString("en-US")}`;
        const { pack } = size;
        lines.push(
            `${common} | pack | ${seconds(pack.analyzeStackWallMs)} | ${(pack.analyzeStackWallMs / floorMs).toFixed(2)}× of ${seconds(floorMs)} | ${trafficCells(pack.traffic)} | ${phaseCells(pack.phases)} | ${megabytes(pack.peakRssBytes)} | ${seconds(pack.analyzeStackCpuMs)} | ${seconds(pack.previewWallMs)} |`,
        );
        if (size.baseline) {
            const speedup = size.baseline.wallMs / pack.analyzeStackWallMs;
            lines.push(`${common} | sequential baseline | ${seconds(size.baseline.wallMs)} | ${(size.baseline.wallMs / floorMs).toFixed(2)}× (pack ${speedup.toFixed(1)}× faster) | ${trafficCells(size.baseline.traffic)} | – | – | – | – |`);
        }
    }
    const inventory = results.inventory;
    lines.push(
        "",
        "## Pack start (spawn to port line)",
        "",
        "| Pack | Median | Runs |",
        "| --- | ---: | --- |",
        `| entra-mfa-guard (built) | ${milliseconds(median(results.startTimes.pack))} | ${results.startTimes.pack.map((t) => Math.round(t)).join(", ")} ms |`,
        `| bare @pulumi/policy pack | ${milliseconds(median(results.startTimes.bare))} | ${results.startTimes.bare.map((t) => Math.round(t)).join(", ")} ms |`,
        "",
        "## Inventory alone",
        "",
        "Users with sign-in disabled (out of scope of both MFA rules by default, still inventoried and classified), their Owner assignments and storage accounts: nothing to ask Graph. ConfigureStack, Configure, then AnalyzeStack (no Analyze calls: both packs have stack policies only). The SDK floor is a pack of as many no-op stack policies (`bench/sdk-floor-pack`): @pulumi/policy decodes every resource once per stack policy before calling it.",
        "",
        "| Pack | Resources | Request size | AnalyzeStack CPU | AnalyzeStack wall | Peak RSS | Graph requests |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        `| entra-mfa-guard | ${inventory.resources.toLocaleString("en-US")} | ${megabytes(inventory.requestBytes)} | ${seconds(inventory.analyzeStackCpuMs)} | ${seconds(inventory.analyzeStackWallMs)} | ${megabytes(inventory.peakRssBytes)} | ${inventory.graphHttpRequests} |`,
        `| SDK floor (${inventory.sdkFloor.stackPolicies} no-op stack policies) | ${inventory.resources.toLocaleString("en-US")} | ${megabytes(inventory.requestBytes)} | ${seconds(inventory.sdkFloor.analyzeStackCpuMs)} | ${seconds(inventory.sdkFloor.analyzeStackWallMs)} | ${megabytes(inventory.sdkFloor.peakRssBytes)} | – |`,
        "",
        "## Targets (issue 3), as ratios measured in this run",
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

function seconds(ms: number): string {
    return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function milliseconds(ms: number): string {
    return `${Math.round(ms)} ms`;
}

function megabytes(bytes: number): string {
    return `${Math.round(bytes / (1024 * 1024))} MB`;
}

function gigabytes(bytes: number): string {
    return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}
