// The targets of issue 8 ("Graph off the critical path"), judged as ratios of one run of `npm run bench`.
import { previewShapedBoundMs, PreviewShapedResult } from "./previewShaped";
import { BenchResults, judgeColdAgainstFloor, judgedRun, judgeThrottledShare, megabytes, milliseconds, seconds, TargetVerdict } from "./report";
import { median } from "./startTime";

export const ISSUE_8_TARGETS = {
    maxRatioToThrottlingFloorAt10000: 1.3,
    maxThrottledShareAt10000: 0.02,
    maxGraphRequestsAt100: 7,
    maxRssOverSdkFloorBytes: 60 * 1024 * 1024,
    maxStartRatioToBarePack: 1.5,
    maxInventoryCpuRatioToSdkFloor: 1.1,
} as const;

const users = (count: number) => count.toLocaleString("en-US");

export function judgeIssue8Targets(results: BenchResults, previewShaped: readonly PreviewShapedResult[]): TargetVerdict[] {
    const verdicts: TargetVerdict[] = [];
    const notRun = (target: string, how: string) => verdicts.push({ target, measured: `not run (see ${how})`, met: undefined });

    for (const count of [1_000, 10_000]) {
        const slack = count >= 10_000 ? "1 s" : "100 ms";
        const target = `${users(count)} users, preview-shaped: AnalyzeStack within 1.3× the SDK floor pack's + ${slack}`;
        const run = previewShaped.find((r) => r.users === count);
        if (run === undefined) {
            notRun(target, "--preview-shaped-sizes");
            continue;
        }
        const bound = previewShapedBoundMs(run);
        verdicts.push({
            target,
            measured: `${seconds(run.pack.analyzeStackWallMs)} = ${(run.pack.analyzeStackWallMs / run.sdkFloor.analyzeStackWallMs).toFixed(2)}× the floor's ${seconds(run.sdkFloor.analyzeStackWallMs)} (bound ${seconds(bound)})`,
            met: run.pack.analyzeStackWallMs <= bound,
        });
    }

    verdicts.push(judgeColdAgainstFloor(results, 10_000, ISSUE_8_TARGETS.maxRatioToThrottlingFloorAt10000));
    verdicts.push(judgeThrottledShare(results, ISSUE_8_TARGETS.maxThrottledShareAt10000));

    const size100 = results.sizes.find((s) => s.users === 100);
    const cold100 = size100 && judgedRun(size100);
    const requestsTarget = `100 users, cold: at most ${ISSUE_8_TARGETS.maxGraphRequestsAt100} Graph HTTP requests`;
    if (cold100 === undefined) notRun(requestsTarget, "--sizes, --runs");
    else verdicts.push({ target: requestsTarget, measured: `${cold100.traffic.httpRequests}`, met: cold100.traffic.httpRequests <= ISSUE_8_TARGETS.maxGraphRequestsAt100 });

    // Every run that has an SDK floor beside it: the cold runs, the preview-shaped runs, the inventory.
    const pairs = [
        ...results.sizes.flatMap((size) => {
            const cold = judgedRun(size);
            return cold && size.sdkFloor ? [{ label: `${users(size.users)} users, cold`, pack: cold.peakRssBytes, floor: size.sdkFloor.peakRssBytes }] : [];
        }),
        ...previewShaped.map((r) => ({ label: `${users(r.users)} users, preview-shaped`, pack: r.pack.peakRssBytes, floor: r.sdkFloor.peakRssBytes })),
        ...(results.inventory ? [{ label: `${users(results.inventory.resources)} resources`, pack: results.inventory.peakRssBytes, floor: results.inventory.sdkFloor.peakRssBytes }] : []),
    ];
    const rssTarget = `Pack peak RSS within the SDK floor pack's + ${megabytes(ISSUE_8_TARGETS.maxRssOverSdkFloorBytes)} at every size`;
    if (pairs.length === 0) notRun(rssTarget, "--sizes, --preview-shaped-sizes, --inventory-resources");
    else {
        const worst = pairs.reduce((a, b) => (b.pack - b.floor > a.pack - a.floor ? b : a));
        const each = pairs.map((p) => `${p.label} ${signedMegabytes(p.pack - p.floor)}`).join("; ");
        verdicts.push({ target: rssTarget, measured: `largest excess ${signedMegabytes(worst.pack - worst.floor)} (${worst.label}); ${each}`, met: pairs.every((p) => p.pack - p.floor <= ISSUE_8_TARGETS.maxRssOverSdkFloorBytes) });
    }

    const startTarget = `Pack start within ${ISSUE_8_TARGETS.maxStartRatioToBarePack}× of a bare pack (medians)`;
    if (results.startTimes === undefined) notRun(startTarget, "--start-runs");
    else {
        const ratio = median(results.startTimes.pack) / median(results.startTimes.bare);
        verdicts.push({ target: startTarget, measured: `${milliseconds(median(results.startTimes.pack))} / ${milliseconds(median(results.startTimes.bare))} = ${ratio.toFixed(2)}×`, met: ratio <= ISSUE_8_TARGETS.maxStartRatioToBarePack });
    }

    const inventory = results.inventory;
    const inventoryTarget = `Inventory alone: AnalyzeStack CPU within ${ISSUE_8_TARGETS.maxInventoryCpuRatioToSdkFloor}× the SDK floor's`;
    if (inventory === undefined) notRun(inventoryTarget, "--inventory-resources");
    else {
        const ratio = inventory.analyzeStackCpuMs / inventory.sdkFloor.analyzeStackCpuMs;
        verdicts.push({
            target: inventoryTarget,
            measured: `${users(inventory.resources)} resources: ${seconds(inventory.analyzeStackCpuMs)} / ${seconds(inventory.sdkFloor.analyzeStackCpuMs)} = ${ratio.toFixed(2)}×${inventory.cpuMsPerRun.length > 1 ? ` (means of ${inventory.cpuMsPerRun.length} runs each)` : ""}`,
            met: ratio <= ISSUE_8_TARGETS.maxInventoryCpuRatioToSdkFloor,
        });
    }
    return verdicts;
}

function signedMegabytes(bytes: number): string {
    return `${bytes >= 0 ? "+" : "−"}${megabytes(Math.abs(bytes))}`;
}

export function renderIssue8Targets(verdicts: readonly TargetVerdict[]): string {
    return [
        "## Targets of issue 8 (Graph off the critical path), as ratios measured in this run",
        "",
        "| Target | Measured | Met |",
        "| --- | --- | --- |",
        ...verdicts.map((v) => `| ${v.target} | ${v.measured} | ${v.met === undefined ? "not measured" : v.met ? "yes" : "**no**"} |`),
        "",
    ].join("\n");
}
