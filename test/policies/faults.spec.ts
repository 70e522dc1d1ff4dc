import * as assert from "node:assert/strict";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { graphMfaEvidence } from "../../policies/graph/mfaEvidence";
import { GraphTransport } from "../../policies/graph/types";
import { FAULT_PATHS, FaultSpec, GraphEmulator, InjectedFault, startGraphEmulator } from "../emulator/graphEmulator";
import { AZURE_ROLE, group, roleAssignment, user } from "../fixtures/resources";
import { StackResource } from "../harness";
import { MFA_POLICY, PackRun, runPack, sharedCauses, tenantUser, UNVERIFIED_POLICY, unverifiedUserDiagnostics } from "./packUnderTest";

/**
 * Time a run may take past its budget, counted from the pack's first request to the emulator (pack
 * start and the Analyze calls come before it and vary with the machine's load): the Graph client's
 * set-up, the verdicts, and the pack's shutdown. Well under 1 s on an idle 2-core machine.
 */
const OVERHEAD_MS = 3_000;

/**
 * The first request now goes out at the first `Analyze` (the evidence prefetch and the Analyze-time
 * advisory), and the advisory may hold `Analyze` calls for Graph up to 1 s in all before the stack
 * rules' own budget starts at `AnalyzeStack` (policies/privilegedAssignmentMfaCoverage.ts).
 */
const ANALYZE_TIME_BANK_MS = 1_000;

/**
 * The `$batch` that carries the per-user MFA requests. Conditional Access is read from beta too,
 * so the fault also names a per-user sub-request to leave the policies' batch alone.
 */
const PER_USER_BATCH = { path: "/beta/$batch", subRequestPath: FAULT_PATHS.mfaRequirements };

/**
 * Short enough to keep the matrix fast, long enough that the first `$batch` goes out before the
 * deadline even while the Graph client loads on a busy 2-core machine (2 s was not, with two
 * suites running at once).
 */
const SHORT_BUDGET_SECONDS = 3;

/** Room for a fault that clears to be retried past; still far below the 120 s default. */
const RECOVERY_BUDGET_SECONDS = 6;

/** A port nothing listens on: bound, read and closed again, so the kernel refuses connections to it. */
async function closedLoopbackPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (address === null || typeof address === "string") throw new Error("no TCP port was bound");
    return address.port;
}

/** Two non-privileged users whose verdicts differ, so a mixed-up answer shows as a wrong verdict. */
interface FaultStack {
    noMfa: StackResource;
    withMfa: StackResource;
    resources: StackResource[];
}

function faultStack(emulator: GraphEmulator): FaultStack {
    const noMfa = user({ name: "no-mfa" });
    const withMfa = user({ name: "with-mfa" });
    emulator.upsertUser(tenantUser(noMfa, "disabled"));
    emulator.upsertUser(tenantUser(withMfa, "enforced"));
    const reader = roleAssignment({ name: "with-mfa-reader", principal: withMfa, role: AZURE_ROLE.Reader });
    return { noMfa, withMfa, resources: [noMfa, withMfa, reader] };
}

interface FaultedRun {
    run: PackRun;
    /** From the pack's first request to the emulator (token service or Graph) to the end of the run. */
    verifyingMs: number;
    injected: InjectedFault[];
}

/** One `pulumi preview` with the faults switched on from before the pack starts. */
async function previewWithFaults(
    emulator: GraphEmulator,
    resources: StackResource[],
    faults: readonly FaultSpec[],
    budgetSeconds: number,
    env: Record<string, string> = {},
): Promise<FaultedRun> {
    const injected = faults.map((fault) => emulator.faults.inject(fault));
    // runPack rejects with the gRPC error if the pack fails a call, so resolving is "the preview finished".
    const run = await runPack(emulator, resources, { config: { [MFA_POLICY]: { verificationBudgetSeconds: budgetSeconds } }, env });
    const firstRequest = emulator.requests[0];
    assert.ok(firstRequest, "the pack never reached the emulator");
    return { run, verifyingMs: Date.now() - firstRequest.at, injected };
}

interface ExpectedOutcome {
    /** Users the unverified policy must list, each with `cause`; nobody else. */
    unverified: StackResource[];
    cause?: RegExp;
    /** The only verdict diagnostics any other policy may give, as `[policy, user]`. */
    violations: [string, StackResource][];
    budgetSeconds: number;
}

const sortedUrns = (resources: readonly { urn?: string }[]) => resources.map((r) => r.urn).sort();

/**
 * The fault contract: users without evidence are listed as unverified with the cause, no one is
 * passed or failed without evidence, users with evidence get their verdict, the run stays within
 * its budget, and nothing secret is printed on the way.
 */
function assertFaultContract(emulator: GraphEmulator, { run, verifyingMs }: FaultedRun, expected: ExpectedOutcome): void {
    assert.deepEqual(run.analyze, [], "Analyze reports nothing for these resources");
    const unverified = unverifiedUserDiagnostics(run);
    assert.deepEqual(sortedUrns(unverified), sortedUrns(expected.unverified), `unverified users:\n${run.of(UNVERIFIED_POLICY).map((d) => d.message).join("\n")}`);
    // A cause shared by several users is stated once per run, not once per user.
    const causes = sharedCauses(run);
    assert.equal(new Set(causes).size, causes.length, `a shared cause was stated twice:\n${causes.join("\n")}`);
    for (const diagnostic of unverified) {
        assert.match(diagnostic.message, /It is neither passed nor failed/);
        if (expected.cause) assert.match(diagnostic.message, expected.cause);
    }
    const verdicts = run.stack.filter((d) => d.policyName !== UNVERIFIED_POLICY).map((d) => `${d.policyName} ${d.urn}`).sort();
    assert.deepEqual(verdicts, expected.violations.map(([policy, resource]) => `${policy} ${resource.urn}`).sort());
    assert.ok(!run.output.includes("can't run policy"), run.output);
    assert.ok(!run.output.includes(emulator.clientSecret), "the client secret was printed");
    assert.ok(!/eyJ[\w-]+\.|Bearer /.test(run.output), "a token was printed");
    const boundMs = expected.budgetSeconds * 1000 + ANALYZE_TIME_BANK_MS + OVERHEAD_MS;
    assert.ok(verifyingMs < boundMs, `verifying took ${verifyingMs} ms; the budget of ${expected.budgetSeconds} s allows ${boundMs} ms`);
}

/**
 * Clears the faults `ms` after the first of them fires. A storm timed from injection could end
 * before a slow pack start is over; timed from its first hit, the pack always meets all of it.
 */
function clearAfterFirstHit(faults: readonly InjectedFault[], ms: number): { stop(): Promise<void> } {
    const stopping = new AbortController();
    const watching = (async () => {
        while (!faults.some((fault) => fault.hits > 0)) await sleep(10, undefined, { signal: stopping.signal });
        await sleep(ms, undefined, { signal: stopping.signal });
    })()
        .catch((error: unknown) => {
            if (!stopping.signal.aborted) throw error;
        })
        .finally(() => faults.forEach((fault) => fault.clear()));
    return {
        async stop() {
            stopping.abort();
            await watching;
        },
    };
}

function assertEveryFaultFired(injected: readonly InjectedFault[]): void {
    for (const fault of injected) assert.ok(fault.hits > 0, `the fault ${JSON.stringify(fault.spec)} never fired`);
}

interface UnverifiedCase {
    title: string;
    faults: FaultSpec[];
    /** Text the unverified message must give as the cause. */
    cause: RegExp;
    /** Points the pack's Graph endpoint somewhere else than the emulator. */
    graphEndpoint?: () => Promise<string>;
    /** Tokens the token service issues in the run (the credential asked again counts). */
    tokensIssued?: number;
}

interface RecoveryCase {
    title: string;
    faults: FaultSpec[];
    /** Clears the faults this long after the first one fires, rather than when their spec says. */
    clearAfterFirstHitMs?: number;
    /** Exactly how often the fault fires before the pack gets through. */
    hits?: number;
    tokensIssued?: number;
}

describe("fault injection, through the engine protocol", function () {
    this.timeout(60_000);
    let emulator: GraphEmulator;
    let stack: FaultStack;

    // A fresh emulator per test: closing it cuts off answers a fault is still holding back, which
    // would otherwise arrive during the next test and use up that test's faults.
    beforeEach(async () => {
        emulator = await startGraphEmulator();
        stack = faultStack(emulator);
    });
    afterEach(async () => {
        await emulator?.close();
    });

    describe("faults that outlast the budget leave every user unverified, with the cause", () => {
        const cases: UnverifiedCase[] = [
            {
                title: "a 429 storm on every Graph request",
                faults: [{ kind: "status", status: 429, retryAfterSeconds: 1, path: "/beta/" }],
                cause: /Graph kept throttling the requests \(HTTP 429\)/,
            },
            ...[500, 502, 503, 504].map((status) => ({
                title: `HTTP ${status} on every $batch`,
                faults: [{ kind: "status" as const, status, path: FAULT_PATHS.batch }],
                cause: new RegExp(`Graph answered HTTP ${status}`),
            })),
            {
                title: "the connection reset in the middle of every $batch reply",
                faults: [{ kind: "connectionReset", path: FAULT_PATHS.batch }],
                cause: /the connection broke while reading Graph's answer/,
            },
            {
                // The pack's per-request timeout (GRAPH_DEFAULTS.requestTimeoutMs, 30 s) cannot be
                // set from outside; the budget caps each request's timeout to the time left.
                title: "a $batch reply held back longer than the budget",
                faults: [{ kind: "delay", ms: 20_000, path: FAULT_PATHS.batch }],
                cause: /Graph did not answer within|time budget/,
            },
            {
                title: "a $batch reply that is not JSON",
                faults: [{ kind: "malformedJson", path: FAULT_PATHS.batch }],
                cause: /Graph answered HTTP 200 with a body that is not JSON/,
            },
            {
                title: "HTTP 401 on every per-user $batch, after the credential was asked again once",
                faults: [{ kind: "status", status: 401, ...PER_USER_BATCH }],
                cause: /Graph rejected the credential's token \(HTTP 401 InvalidAuthenticationToken\), also after asking the credential again/,
                tokensIssued: 2,
            },
            {
                title: "HTTP 403 on every sub-request",
                faults: [{ kind: "status", status: 403, path: FAULT_PATHS.mfaRequirements }],
                cause: /Graph denied access \(HTTP 403 Authorization_RequestDenied\).*Policy\.Read\.All/,
            },
            {
                title: "a Graph endpoint that refuses connections",
                faults: [],
                graphEndpoint: async () => `https://127.0.0.1:${await closedLoopbackPort()}`,
                cause: /could not reach Graph \(ECONNREFUSED\)/,
            },
            {
                title: "a token service that rejects the client",
                faults: [{ kind: "status", status: 401, code: "invalid_client", path: FAULT_PATHS.token }],
                cause: /no Azure credential gave a token/,
                tokensIssued: 0,
            },
        ];

        for (const fault of cases) {
            it(fault.title, async () => {
                const env: Record<string, string> = fault.graphEndpoint ? { ENTRA_MFA_GUARD_GRAPH_ENDPOINT: await fault.graphEndpoint() } : {};
                const faulted = await previewWithFaults(emulator, stack.resources, fault.faults, SHORT_BUDGET_SECONDS, env);

                assertEveryFaultFired(faulted.injected);
                assertFaultContract(emulator, faulted, {
                    unverified: [stack.noMfa, stack.withMfa],
                    cause: fault.cause,
                    violations: [],
                    budgetSeconds: SHORT_BUDGET_SECONDS,
                });
                if (fault.tokensIssued !== undefined) assert.equal(emulator.tokensIssued, fault.tokensIssued);
                if (fault.graphEndpoint) {
                    assert.ok(!emulator.requests.some((r) => r.endpoint === "batch" || r.endpoint === "graph"), "Graph requests reached the emulator");
                }
            });
        }
    });

    describe("faults that clear within the budget end with every user decided", () => {
        const cases: RecoveryCase[] = [
            {
                title: "a 429 storm on every per-user Graph request for 2 s",
                faults: [{ kind: "status", status: 429, retryAfterSeconds: 1, path: FAULT_PATHS.mfaRequirements }],
                clearAfterFirstHitMs: 2_000,
            },
            {
                title: "one HTTP 503 on the per-user $batch",
                faults: [{ kind: "status", status: 503, ...PER_USER_BATCH, times: 1 }],
                hits: 1,
            },
            {
                title: "one connection reset mid-batch",
                faults: [{ kind: "connectionReset", ...PER_USER_BATCH, times: 1 }],
                hits: 1,
            },
            {
                title: "one per-user $batch reply that is not JSON",
                faults: [{ kind: "malformedJson", ...PER_USER_BATCH, times: 1 }],
                hits: 1,
            },
            {
                // The repeated id carries one user's 'disabled' and the other's 'enforced': taking
                // either answer for it would give one of the users the wrong verdict.
                title: "one per-user $batch reply that repeats an id and leaves another out",
                faults: [{ kind: "batchDuplicateIds", ...PER_USER_BATCH, times: 1 }],
                hits: 1,
            },
            {
                title: "one HTTP 401 on a $batch (token expiry), answered by asking the credential again once",
                faults: [{ kind: "status", status: 401, path: FAULT_PATHS.batch, times: 1 }],
                hits: 1,
                tokensIssued: 2,
            },
        ];

        for (const fault of cases) {
            it(fault.title, async () => {
                const injected = fault.faults.map((spec) => emulator.faults.inject(spec));
                const cleared = fault.clearAfterFirstHitMs === undefined ? undefined : clearAfterFirstHit(injected, fault.clearAfterFirstHitMs);
                const faulted = await previewWithFaults(emulator, stack.resources, [], RECOVERY_BUDGET_SECONDS);
                await cleared?.stop();

                assertEveryFaultFired(injected);
                if (fault.hits !== undefined) assert.deepEqual(injected.map((f) => f.hits), [fault.hits]);
                assertFaultContract(emulator, faulted, { unverified: [], violations: [[MFA_POLICY, stack.noMfa]], budgetSeconds: RECOVERY_BUDGET_SECONDS });
                assert.equal(emulator.tokensIssued, fault.tokensIssued ?? 1);
            });
        }
    });

    describe("faults that reach some users only", () => {
        it("decides the users Graph answered when every $batch reply leaves one sub-response out", async () => {
            const faulted = await previewWithFaults(emulator, stack.resources, [{ kind: "batchDropResponses", count: 1, ...PER_USER_BATCH }], SHORT_BUDGET_SECONDS);

            assertEveryFaultFired(faulted.injected);
            // Which user the first reply leaves out depends on the order the pack asks in; that
            // user's retries go alone and are left out again, so exactly one stays unverified.
            const unverifiedUrns = faulted.run.of(UNVERIFIED_POLICY).map((d) => d.urn);
            const leftOut = [stack.noMfa, stack.withMfa].filter((u) => unverifiedUrns.includes(u.urn));
            assert.equal(leftOut.length, 1, `expected one unverified user, got ${JSON.stringify(unverifiedUrns)}`);
            assertFaultContract(emulator, faulted, {
                unverified: leftOut,
                cause: /the \$batch reply had no answer for this request/,
                violations: leftOut[0] === stack.noMfa ? [] : [[MFA_POLICY, stack.noMfa]],
                budgetSeconds: SHORT_BUDGET_SECONDS,
            });
        });

        it("leaves the user Graph calls 'disabled' unverified, not failed, when Conditional Access cannot be read", async () => {
            // A Conditional Access policy could require MFA where the per-user state is 'disabled'.
            const faulted = await previewWithFaults(
                emulator,
                stack.resources,
                [{ kind: "status", status: 503, path: FAULT_PATHS.conditionalAccessPolicies }],
                SHORT_BUDGET_SECONDS,
            );

            assertEveryFaultFired(faulted.injected);
            assertFaultContract(emulator, faulted, {
                unverified: [stack.noMfa],
                cause: /the tenant's Conditional Access policies could not be read \(Graph answered HTTP 503/,
                violations: [],
                budgetSeconds: SHORT_BUDGET_SECONDS,
            });
        });

        it("leaves only the user whose own sub-request fails unverified", async () => {
            const noMfaId = String(stack.noMfa.outputs.objectId);
            const faulted = await previewWithFaults(
                emulator,
                stack.resources,
                [{ kind: "status", status: 500, path: `/users/${noMfaId}/authentication/requirements` }],
                SHORT_BUDGET_SECONDS,
            );

            assertEveryFaultFired(faulted.injected);
            assertFaultContract(emulator, faulted, { unverified: [stack.noMfa], cause: /Graph answered HTTP 500/, violations: [], budgetSeconds: SHORT_BUDGET_SECONDS });
        });
    });

    // Each of these once ran past the budget; they guard the places the budget is easy to miss.
    describe("one time budget for the whole preview", () => {
        // The token request happens inside the Graph client's auth middleware, before the
        // transport's own timeout starts, and @azure/identity waits and retries on its own.
        it("stops waiting for a token service that does not answer within the budget", async () => {
            const budgetSeconds = SHORT_BUDGET_SECONDS;
            const faulted = await previewWithFaults(emulator, stack.resources, [{ kind: "delay", ms: 8_000, path: FAULT_PATHS.token }], budgetSeconds);

            assertEveryFaultFired(faulted.injected);
            assertFaultContract(emulator, faulted, {
                unverified: [stack.noMfa, stack.withMfa],
                // The cause must not blame Graph, which was never asked.
                cause: /token|time budget/,
                violations: [],
                budgetSeconds,
            });
        });

        it("answers every user by the evidence request's deadline even when the transport stalls", async () => {
            // What createGraphClientTransport does while the credential's getToken hangs: the
            // request's timeoutMs only starts to count once the token is in, so the runner must not
            // rely on the transport to give up.
            const stalled: GraphTransport = {
                send: () => new Promise(() => undefined),
                refreshCredential: () => undefined,
            };
            const evidence = graphMfaEvidence({ env: { ENTRA_MFA_GUARD_GRAPH_ENDPOINT: "https://127.0.0.1:1" }, transportFor: () => stalled });
            const deadline = Date.now() + 300;
            let giveUp: NodeJS.Timeout | undefined;
            const stillWaiting = new Promise<"still waiting">((resolve) => (giveUp = setTimeout(() => resolve("still waiting"), 1_300)));

            const outcome = await Promise.race([evidence.perUserMfaStates(["stalled-user"], { deadline }), stillWaiting]);
            clearTimeout(giveUp);

            assert.ok(outcome !== "still waiting", "the answers were not in 1 s after the deadline");
            assert.deepEqual([...outcome.values()].map((answer) => answer.kind), ["unverified"]);
        });

        // verificationBudgetSeconds is "most time spent asking Microsoft Graph per stack": the
        // privileged rule, evaluated after the non-privileged one, must not start a budget of its own.
        it("keeps to one budget for the stack when both rules have users to ask about", async () => {
            // Long enough that two budgets end clear of one budget plus the overhead.
            const budgetSeconds = 6;
            const owner = user({ name: "owner" });
            emulator.upsertUser(tenantUser(owner, "disabled"));
            // Owner through a group, so that no Analyze-time policy asks Graph about the assignment.
            const owners = group({ name: "owners", members: [owner] });
            const ownersAreOwners = roleAssignment({ name: "owners-owner", principal: owners, principalType: "Group", role: AZURE_ROLE.Owner });
            const faulted = await previewWithFaults(
                emulator,
                [...stack.resources, owner, owners, ownersAreOwners],
                [{ kind: "delay", ms: 20_000, path: FAULT_PATHS.batch }],
                budgetSeconds,
            );

            assertEveryFaultFired(faulted.injected);
            assertFaultContract(emulator, faulted, {
                unverified: [stack.noMfa, stack.withMfa, owner],
                cause: /Graph did not answer within|time budget/,
                violations: [],
                budgetSeconds,
            });
        });

        // The Analyze-time coverage warning reads the tenant's Conditional Access policies before
        // AnalyzeStack starts its budget; a slow read there must not hold the preview up.
        it("keeps the Analyze-time Conditional Access read within the configured budget", async () => {
            const budgetSeconds = 2;
            const owner = user({ name: "owner" });
            emulator.upsertUser(tenantUser(owner, "enforced"));
            const ownerAssignment = roleAssignment({ name: "owner", principal: owner, role: AZURE_ROLE.Owner });
            const faulted = await previewWithFaults(emulator, [owner, ownerAssignment], [{ kind: "delay", ms: 8_000, path: "/beta/$batch", subRequestPath: FAULT_PATHS.conditionalAccessPolicies }], budgetSeconds);

            assertEveryFaultFired(faulted.injected);
            // The slow Conditional Access read gets only its share of the budget, so the per-user
            // state (not delayed) still decides the owner: MFA enforced.
            assertFaultContract(emulator, faulted, { unverified: [], violations: [], budgetSeconds });
        });
    });
});
