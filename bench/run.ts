/**
 * `npm run bench`: the built pack through the engine protocol against the Graph emulator, with
 * Graph's latency and throttling, at tenant scale; writes bench/results.md.
 *
 *   node bin/bench/run.js [--latency-ms 40] [--sizes 100,1000,10000] [--runs cold,preview]
 *                         [--baseline-up-to 1000] [--start-runs 5] [--inventory-resources 50000] [--inventory-pairs 2]
 *                         [--preview-shaped-sizes 1000,10000] [--preview-span-ms <ms>] [--only-preview-shaped]
 *                         [--out bench/results.md]
 *
 * `--start-runs 0` and `--inventory-resources 0` leave those sections out, to iterate on the users.
 * The preview-shaped runs spread the Analyze calls over a span and compare with the SDK floor pack
 * driven the same way (`bench/previewShaped.ts`); `--preview-shaped-sizes ""` leaves them out.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

import { EmulatedUser, GraphEmulator, startGraphEmulator, ThrottleModel } from "../test/emulator/graphEmulator";
import { Diagnostic, launchPolicyPack, preview, StackResource } from "../test/harness";
import { MFA_POLICY, PACK_DIR, UNVERIFIED_POLICY } from "../test/policies/packUnderTest";
import { peakRssBytes } from "./processStats";
import {
    analyzeStackPhases,
    BaselineMeasurement,
    BenchResults,
    describeMachine,
    graphTraffic,
    InventoryResult,
    judgeTargets,
    PackMeasurement,
    renderResults,
    RunKind,
    SizeResult,
} from "./report";
import { defaultAnalyzeSpanMs, measurePreviewShaped, PreviewShapedResult, renderPreviewShaped } from "./previewShaped";
import { runSequentialBaseline } from "./sequentialBaseline";
import { BenchStack, inventoryOnlyStack, mixedRoleStack } from "./stacks";
import { measureStartTimes } from "./startTime";
import { withTimedAnalyzeStack } from "./timedAnalyzeStack";
import { judgeIssue8Targets, renderIssue8Targets } from "./issue8Targets";

/** Identity and access, large tenant (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits). */
/** No-op stack policies: what @pulumi/policy alone costs per AnalyzeStack. */
const SDK_FLOOR_PACK_DIR = path.join(PACK_DIR, "bench", "sdk-floor-pack");

const LARGE_TENANT_THROTTLE: ThrottleModel = { unitsPerWindow: 8_000, windowMs: 10_000 };

interface BenchOptions {
    latencyMs: number;
    sizes: number[];
    runs: RunKind[];
    /** The sequential baseline runs for sizes up to this; at 10,000 users it alone would take minutes. */
    baselineUpTo: number;
    startRuns: number;
    inventoryResources: number;
    /** Runs of each pack on the inventory-only stack, alternating (see measureInventory). */
    inventoryPairs: number;
    out: string;
    previewSizes: number[];
    /** Unset: 3 s for 1,000 users, 10 s for 10,000. */
    previewSpanMs?: number;
    /** Only the preview-shaped runs, written to `out` alone. */
    onlyPreviewShaped: boolean;
}

function readOptions(argv: string[]): BenchOptions {
    const { values } = parseArgs({
        args: argv,
        options: {
            "latency-ms": { type: "string", default: "40" },
            sizes: { type: "string", default: "100,1000,10000" },
            runs: { type: "string", default: "cold,preview" },
            "baseline-up-to": { type: "string", default: "1000" },
            "start-runs": { type: "string", default: "5" },
            "inventory-resources": { type: "string", default: "50000" },
            "inventory-pairs": { type: "string", default: "2" },
            out: { type: "string", default: path.join("bench", "results.md") },
            "preview-shaped-sizes": { type: "string", default: "1000,10000" },
            "preview-span-ms": { type: "string" },
            "only-preview-shaped": { type: "boolean", default: false },
        },
    });
    const wholeNumber = (name: string, text: string) => {
        const value = Number(text);
        if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number, got '${text}'`);
        return value;
    };
    if (values.runs.trim() === "") throw new Error("--runs needs cold, preview or both");
    return {
        latencyMs: wholeNumber("latency-ms", values["latency-ms"]),
        sizes: values.sizes.split(",").map((size) => wholeNumber("sizes", size.trim())),
        baselineUpTo: wholeNumber("baseline-up-to", values["baseline-up-to"]),
        runs: values.runs.split(",").map((kind) => {
            const trimmed = kind.trim();
            if (trimmed !== "cold" && trimmed !== "preview") throw new Error(`--runs takes cold and/or preview, got '${kind}'`);
            return trimmed;
        }),
        startRuns: wholeNumber("start-runs", values["start-runs"]),
        inventoryResources: wholeNumber("inventory-resources", values["inventory-resources"]),
        inventoryPairs: Math.max(1, wholeNumber("inventory-pairs", values["inventory-pairs"])),
        out: path.resolve(PACK_DIR, values.out),
        previewSizes: values["preview-shaped-sizes"].split(",").filter((size) => size.trim() !== "").map((size) => wholeNumber("preview-shaped-sizes", size.trim())),
        ...(values["preview-span-ms"] !== undefined ? { previewSpanMs: wholeNumber("preview-span-ms", values["preview-span-ms"]) } : {}),
        onlyPreviewShaped: values["only-preview-shaped"],
    };
}

function replaceTenantUsers(emulator: GraphEmulator, users: readonly EmulatedUser[]): void {
    for (const id of [...emulator.users.keys()]) emulator.removeUser(id);
    for (const user of users) emulator.upsertUser(user);
}

/** Checks privileged users too, when the pack has it (the pack grew it while this benchmark was written). */
const PRIVILEGED_POLICY = "entra-privileged-user-mfa";

/** What a correct pack does with a stack: whom it asks Graph about, and how many violations each policy reports. */
interface Expectation {
    graphLookups: string[];
    violations: Map<string, number>;
}

function expectationFor(built: BenchStack, policyNames: readonly string[]): Expectation {
    const checksPrivileged = policyNames.includes(PRIVILEGED_POLICY);
    const violations = new Map([[MFA_POLICY, built.disabledNonPrivileged]]);
    if (checksPrivileged) violations.set(PRIVILEGED_POLICY, built.disabledPrivileged);
    return { graphLookups: checksPrivileged ? [...built.nonPrivilegedIds, ...built.privilegedIds] : built.nonPrivilegedIds, violations };
}

/**
 * A fast run that verified nobody would be no result: the pack must flag exactly the users whose
 * MFA is disabled and leave nobody unverified.
 */
function checkVerdicts(stackDiagnostics: Diagnostic[], expectation: Expectation, users: number): void {
    const unverified = stackDiagnostics.filter((d) => d.policyName === UNVERIFIED_POLICY);
    const wrong = [...expectation.violations].filter(([policy, count]) => stackDiagnostics.filter((d) => d.policyName === policy).length !== count);
    if (wrong.length > 0 || unverified.length > 0) {
        const counts = [...expectation.violations].map(([policy, count]) => `${policy}: expected ${count}, got ${stackDiagnostics.filter((d) => d.policyName === policy).length}`);
        const sample = stackDiagnostics.slice(0, 3).map((d) => `  ${d.policyName}: ${d.message}`);
        throw new Error(`${users} users: ${counts.join("; ")}; ${unverified.length} unverified\n${sample.join("\n")}`);
    }
}

function checkBaselineStates(states: Map<string, string | undefined>, built: BenchStack, graphLookups: readonly string[]): void {
    const tenantStates = new Map(built.tenantUsers.map((user) => [user.id, user.perUserMfaState]));
    for (const objectId of graphLookups) {
        if (states.get(objectId) !== tenantStates.get(objectId)) {
            throw new Error(`the baseline read ${String(states.get(objectId))} for ${objectId}, the tenant holds ${String(tenantStates.get(objectId))}`);
        }
    }
}

/** One fresh pack process (the pack keeps Graph's answers for the life of its process), one conversation. */
async function measurePackRun(emulator: GraphEmulator, built: BenchStack, users: number, kind: RunKind): Promise<{ run: PackMeasurement; graphLookups: string[]; stackPolicies: number }> {
    emulator.reset();
    const launched = await launchPolicyPack({ packDir: PACK_DIR, env: emulator.env() });
    const timed = withTimedAnalyzeStack(launched);
    try {
        const { policies } = await launched.analyzerInfo();
        const expectation = expectationFor(built, policies.map((policy) => policy.name));
        const stackPolicies = policies.filter((policy) => policy.policyType === "stack").length;
        const sequenceStart = performance.now();
        let stackDiagnostics: Diagnostic[];
        if (kind === "preview") {
            stackDiagnostics = (await preview(timed.pack, built.resources)).stack;
        } else {
            await timed.pack.configureStack({ dryRun: true });
            await timed.pack.configure();
            stackDiagnostics = await timed.pack.analyzeStack(built.resources);
        }
        const sequenceWallMs = performance.now() - sequenceStart;
        checkVerdicts(stackDiagnostics, expectation, users);
        const [analyzeStack] = timed.timings;
        const run: PackMeasurement = {
            kind,
            analyzeStackWallMs: analyzeStack.wallMs,
            analyzeStackCpuMs: analyzeStack.packCpuMs,
            sequenceWallMs,
            requestBytes: analyzeStack.requestBytes,
            peakRssBytes: peakRssBytes(launched.pid),
            traffic: graphTraffic(emulator.requests),
            phases: analyzeStackPhases(emulator.requests, analyzeStack.startedAt, analyzeStack.wallMs),
        };
        return { run, graphLookups: expectation.graphLookups, stackPolicies };
    } finally {
        timed.close();
        await launched.close();
    }
}

async function measureSize(emulator: GraphEmulator, users: number, kinds: readonly RunKind[], withBaseline: boolean): Promise<SizeResult> {
    const buildStart = performance.now();
    const built = mixedRoleStack(users);
    const fixtureBuildMs = performance.now() - buildStart;
    replaceTenantUsers(emulator, built.tenantUsers);

    const runs: PackMeasurement[] = [];
    let graphLookups: string[] = [];
    let stackPolicies = 0;
    for (const kind of kinds) {
        const measured = await measurePackRun(emulator, built, users, kind);
        runs.push(measured.run);
        graphLookups = measured.graphLookups;
        stackPolicies = measured.stackPolicies;
    }
    const result: SizeResult = { users, resources: built.resources.length, graphLookups: graphLookups.length, fixtureBuildMs, runs };
    // The SDK floor pack on the same stack, for the RSS target: what @pulumi/policy alone holds.
    const floor = await analyzeStackOnce(SDK_FLOOR_PACK_DIR, { SDK_FLOOR_STACK_POLICIES: String(stackPolicies) }, built.resources);
    result.sdkFloor = { stackPolicies: floor.stackPolicies, analyzeStackWallMs: floor.timing.wallMs, peakRssBytes: floor.peakRssBytes };

    if (withBaseline) {
        // A fresh throttle window, as the pack had.
        emulator.reset();
        const baseline = await runSequentialBaseline(emulator, graphLookups);
        checkBaselineStates(baseline.states, built, graphLookups);
        result.baseline = { wallMs: baseline.wallMs, traffic: graphTraffic(emulator.requests) } satisfies BaselineMeasurement;
    }
    return result;
}

/** A pack's AnalyzeStack on `resources` after ConfigureStack and Configure, and its peak RSS. */
async function analyzeStackOnce(packDir: string, env: Record<string, string>, resources: StackResource[]) {
    const launched = await launchPolicyPack({ packDir, env });
    const timed = withTimedAnalyzeStack(launched);
    try {
        // Not `preview`: fifty thousand Analyze calls would only add minutes of RPCs that both packs,
        // whose policies are all stack policies, answer without looking.
        await timed.pack.configureStack();
        await timed.pack.configure();
        const stackPolicies = (await timed.pack.analyzerInfo()).policies.filter((policy) => policy.policyType === "stack").length;
        const diagnostics = await timed.pack.analyzeStack(resources);
        return { timing: timed.timings[0], diagnostics, stackPolicies, peakRssBytes: peakRssBytes(launched.pid) };
    } finally {
        timed.close();
        await launched.close();
    }
}

/**
 * The inventory-only stack, pack and SDK floor in turn, `pairs` times each in ABBA order (pack,
 * floor, floor, pack, …): a 50,000-resource AnalyzeStack spends ~20 s of CPU, mostly in the SDK's
 * decoding and GC, and the same pack's CPU spread by ±2 s from one process to the next on this
 * machine, more than the 10 % the target allows. Alternating cancels a drift in the machine's speed;
 * the figures are the means, each run listed beside them.
 */
async function measureInventory(emulator: GraphEmulator, resourceCount: number, pairs: number): Promise<InventoryResult> {
    const resources = inventoryOnlyStack(resourceCount);
    replaceTenantUsers(emulator, []);
    const packRuns: Awaited<ReturnType<typeof analyzeStackOnce>>[] = [];
    const floorRuns: Awaited<ReturnType<typeof analyzeStackOnce>>[] = [];
    let graphHttpRequests = 0;
    const runPack = async () => {
        emulator.reset();
        const pack = await analyzeStackOnce(PACK_DIR, emulator.env(), resources);
        const verdicts = pack.diagnostics.filter((d) => d.policyName === MFA_POLICY || d.policyName === UNVERIFIED_POLICY);
        if (verdicts.length > 0) {
            throw new Error(`the inventory-only stack needs no verdict, but the pack reported: ${verdicts[0].message}`);
        }
        graphHttpRequests += graphTraffic(emulator.requests).httpRequests;
        packRuns.push(pack);
    };
    const runFloor = async () => {
        floorRuns.push(await analyzeStackOnce(SDK_FLOOR_PACK_DIR, { SDK_FLOOR_STACK_POLICIES: String(packRuns[0].stackPolicies) }, resources));
    };
    for (let pair = 0; pair < pairs; pair++) {
        if (pair % 2 === 0) {
            await runPack();
            await runFloor();
        } else {
            await runFloor();
            await runPack();
        }
    }
    const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
    return {
        resources: resources.length,
        analyzeStackWallMs: mean(packRuns.map((run) => run.timing.wallMs)),
        analyzeStackCpuMs: mean(packRuns.map((run) => run.timing.packCpuMs)),
        cpuMsPerRun: packRuns.map((run) => run.timing.packCpuMs),
        requestBytes: packRuns[0].timing.requestBytes,
        peakRssBytes: mean(packRuns.map((run) => run.peakRssBytes)),
        graphHttpRequests,
        sdkFloor: {
            stackPolicies: packRuns[0].stackPolicies,
            analyzeStackWallMs: mean(floorRuns.map((run) => run.timing.wallMs)),
            analyzeStackCpuMs: mean(floorRuns.map((run) => run.timing.packCpuMs)),
            cpuMsPerRun: floorRuns.map((run) => run.timing.packCpuMs),
            peakRssBytes: mean(floorRuns.map((run) => run.peakRssBytes)),
        },
    };
}

async function main(): Promise<void> {
    const runStart = performance.now();
    const options = readOptions(process.argv.slice(2));
    const machine = describeMachine();
    const date = new Date();
    const emulator = await startGraphEmulator({ latencyMs: options.latencyMs, throttle: LARGE_TENANT_THROTTLE });
    try {
        const previewShaped: PreviewShapedResult[] = [];
        for (const users of options.previewSizes) {
            const built = mixedRoleStack(users);
            replaceTenantUsers(emulator, built.tenantUsers);
            const expectation = expectationFor(built, [MFA_POLICY, PRIVILEGED_POLICY]);
            const span = options.previewSpanMs ?? defaultAnalyzeSpanMs(users);
            const result = await measurePreviewShaped(emulator, built, span, SDK_FLOOR_PACK_DIR, (diagnostics) => checkVerdicts(diagnostics, expectation, users));
            previewShaped.push(result);
            console.log(`${users} users, preview-shaped: AnalyzeStack ${(result.pack.analyzeStackWallMs / 1000).toFixed(2)} s (floor ${(result.sdkFloor.analyzeStackWallMs / 1000).toFixed(2)} s), conversation ${(result.pack.conversationWallMs / 1000).toFixed(2)} s, ${result.pack.traffic?.throttled} 429s`);
        }
        if (options.onlyPreviewShaped) {
            const markdown = renderPreviewShaped(previewShaped);
            writeFileSync(options.out, markdown);
            console.log(`\n${markdown}`);
            return;
        }
        const sizes: SizeResult[] = [];
        for (const users of options.sizes) {
            const size = await measureSize(emulator, users, options.runs, users <= options.baselineUpTo);
            sizes.push(size);
            const baseline = size.baseline ? `; sequential baseline ${(size.baseline.wallMs / 1000).toFixed(2)} s` : "";
            const runs = size.runs.map((run) => `${run.kind} AnalyzeStack ${(run.analyzeStackWallMs / 1000).toFixed(2)} s, ${run.traffic.throttled} 429s of ${run.traffic.subRequests}`);
            console.log(`${users} users: ${runs.join("; ")}${baseline}`);
        }
        let startTimes: BenchResults["startTimes"];
        if (options.startRuns > 0) {
            const times = await measureStartTimes(options.startRuns);
            startTimes = { bare: times.bare, pack: times["entra-mfa-guard"] };
            console.log(`start: pack ${startTimes.pack.map(Math.round).join(", ")} ms; bare ${startTimes.bare.map(Math.round).join(", ")} ms`);
        }
        let inventory: InventoryResult | undefined;
        if (options.inventoryResources > 0) {
            inventory = await measureInventory(emulator, options.inventoryResources, options.inventoryPairs);
            console.log(`${inventory.resources} resources: AnalyzeStack ${(inventory.analyzeStackCpuMs / 1000).toFixed(2)} s CPU`);
        }

        const results: BenchResults = {
            date,
            machine,
            latencyMs: options.latencyMs,
            throttle: LARGE_TENANT_THROTTLE,
            sizes,
            startTimes,
            inventory,
            runWallMs: performance.now() - runStart,
        };
        const issue8 = judgeIssue8Targets(results, previewShaped);
        const markdown = `${renderResults(results)}\n${renderPreviewShaped(previewShaped)}\n${renderIssue8Targets(issue8)}`;
        writeFileSync(options.out, markdown);
        console.log(`\n${markdown}`);
        console.log(`Written to ${path.relative(process.cwd(), options.out) || options.out}.`);
        if ([...judgeTargets(results), ...issue8].some((verdict) => verdict.met === false)) {
            console.log("Some targets were missed; see the table above.");
        }
    } finally {
        await emulator.close();
    }
}

main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
});
