import * as assert from "node:assert/strict";
import { PolicyResource, unknownCheckingProxy } from "@pulumi/policy";
import { DEFAULT_CONFIG, MfaPolicyConfig } from "../../../policies/config";
import { Rule } from "../../../policies/evidence/evaluate";
import { EvaluationResult, PolicyDependencies, RuleResult, RuleResults, snapshotIdentityResources, STACK_COLLECTION, StackEvaluator } from "../../../policies/evidence/stackEvaluation";
import { MfaEvidence } from "../../../policies/graph/mfaEvidence";
import { UNKNOWN } from "../../../policies/inventory/propertyValues";
import { builtInRoleCatalog } from "../../../policies/roles/catalog";
import { AZURE_ROLE, guidFrom, roleAssignment, user } from "../../fixtures/resources";
import { UNKNOWN as UNKNOWN_SENTINEL } from "../../harness/stackResource";
import { policyResourceOf } from "../snapshots";
import { recordingEvidence } from "./recordingEvidence";

const NOW = new Date("2026-12-02T12:00:00Z");

const alice = user({ name: "alice" });
const bob = user({ name: "bob" });
const ALICE_ID = guidFrom("user:alice");
const BOB_ID = guidFrom("user:bob");
const bobOwner = roleAssignment({ name: "bob-owner", principal: bob, role: AZURE_ROLE.Owner });
const storage: PolicyResource = {
    ...policyResourceOf(alice),
    urn: "urn:pulumi:dev::p::azure-native:storage:StorageAccount::data",
    type: "azure-native:storage:StorageAccount",
    name: "data",
    props: unknownCheckingProxy({ kind: "StorageV2" }),
};

/** Each stack policy of one AnalyzeStack gets its own copy of the stack from the SDK. */
function decodedStack(): PolicyResource[] {
    return [alice, bob, bobOwner].map(policyResourceOf).concat(storage);
}

/** Per-user MFA 'disabled' for both users; Conditional Access none, security defaults off. */
function disabledForBoth() {
    const disabled = { kind: "state", state: "disabled" };
    return recordingEvidence(false, { perUser: { [ALICE_ID]: disabled, [BOB_ID]: disabled } });
}

function evaluatorWith(evidence: MfaEvidence, extra: Partial<PolicyDependencies> = {}): StackEvaluator {
    return new StackEvaluator({ evidence, catalog: builtInRoleCatalog, now: () => NOW, env: {}, ...extra });
}

function verdictsOf(result: EvaluationResult): string[] {
    assert.ok("evaluation" in result, `expected an evaluation, got ${JSON.stringify(result)}`);
    return result.evaluation.verdicts.map((v) => `${v.rule} ${v.user.userPrincipalName} ${v.kind}`);
}

/** The three stack policies of one AnalyzeStack, in the pack's order, each with its own copy. */
async function oneAnalyzeStack(evaluator: StackEvaluator, config?: MfaPolicyConfig): Promise<{ nonPrivileged: RuleResult; privileged: RuleResult; all: RuleResults }> {
    const nonPrivileged = await evaluator.evaluate(decodedStack(), "non-privileged", config);
    const privileged = await evaluator.evaluate(decodedStack(), "privileged");
    const all = await evaluator.evaluated(decodedStack());
    return { nonPrivileged, privileged, all };
}

describe("StackEvaluator", () => {
    it("decides both rules in one pass for the policies of one AnalyzeStack, each rule getting its own users", async () => {
        const evidence = disabledForBoth();
        const { nonPrivileged, privileged, all } = await oneAnalyzeStack(evaluatorWith(evidence), DEFAULT_CONFIG);

        assert.deepEqual(verdictsOf(nonPrivileged.result), ["non-privileged alice@contoso.onmicrosoft.com noncompliant"]);
        assert.deepEqual(verdictsOf(privileged.result), ["privileged bob@contoso.onmicrosoft.com noncompliant"]);
        assert.deepEqual([nonPrivileged.rule, privileged.rule], ["non-privileged", "privileged"]);
        // One question per source for both rules: the second policy read the first one's evaluation.
        assert.deepEqual(evidence.asked, ["conditionalAccess", "securityDefaults", `perUser:${ALICE_ID},${BOB_ID}`]);
        assert.deepEqual(
            all.map((r) => r.rule),
            ["non-privileged", "privileged"],
        );
    });

    it("decides a second AnalyzeStack afresh, asking again", async () => {
        const evidence = disabledForBoth();
        const evaluator = evaluatorWith(evidence);
        await oneAnalyzeStack(evaluator, DEFAULT_CONFIG);
        const again = await evaluator.evaluate(decodedStack(), "non-privileged", DEFAULT_CONFIG);

        assert.deepEqual(verdictsOf(again.result), ["non-privileged alice@contoso.onmicrosoft.com noncompliant"]);
        assert.equal(evidence.asked.filter((q) => q.startsWith("perUser")).length, 2);
    });

    it("evaluates afresh for a stack of another size, or for other settings, rather than reuse a result for different input", async () => {
        const evidence = disabledForBoth();
        const evaluator = evaluatorWith(evidence);
        await evaluator.evaluate(decodedStack(), "non-privileged", DEFAULT_CONFIG);
        const smaller = await evaluator.evaluate([alice].map(policyResourceOf), "privileged");
        assert.deepEqual(verdictsOf(smaller.result), []);
        assert.deepEqual(evidence.asked.filter((q) => q.startsWith("perUser")), [`perUser:${ALICE_ID},${BOB_ID}`, `perUser:${ALICE_ID}`]);

        // Settings equal in value, not the same object: one evaluation.
        await evaluator.evaluate(decodedStack(), "non-privileged", { ...DEFAULT_CONFIG });
        await evaluator.evaluate(decodedStack(), "privileged", { ...DEFAULT_CONFIG });
        assert.equal(evidence.asked.filter((q) => q.startsWith("perUser")).length, 3);

        // The next AnalyzeStack, its second policy on other settings: evaluated on its own.
        await evaluator.evaluate(decodedStack(), "non-privileged", DEFAULT_CONFIG);
        const withoutGuests = { ...DEFAULT_CONFIG, includeGuests: !DEFAULT_CONFIG.includeGuests };
        const otherSettings = await evaluator.evaluate(decodedStack(), "privileged", withoutGuests);
        assert.deepEqual(otherSettings.config, withoutGuests);
        assert.equal(evidence.asked.filter((q) => q.startsWith("perUser")).length, 5);
    });

    it("gives a policy without settings of its own those of the evaluation it joins, or the defaults when it comes first", async () => {
        const custom = { ...DEFAULT_CONFIG, verificationBudgetSeconds: 7 };
        const evaluator = evaluatorWith(disabledForBoth());
        const { privileged } = await oneAnalyzeStack(evaluator, custom);
        assert.deepEqual(privileged.config, custom);

        const first = await evaluatorWith(disabledForBoth()).evaluate(decodedStack(), "privileged");
        assert.deepEqual(first.config, DEFAULT_CONFIG);
    });

    it("asks Graph within one deadline for the stack, now plus the configured budget", async () => {
        const evidence = disabledForBoth();
        await oneAnalyzeStack(evaluatorWith(evidence), { ...DEFAULT_CONFIG, verificationBudgetSeconds: 30 });
        const deadlines = evidence.requests.map((request) => request.deadline);
        assert.ok(deadlines.every((deadline) => deadline <= NOW.getTime() + 30_000), deadlines.join(", "));
        // The last source has all the time that is left: the stack's own deadline.
        assert.equal(deadlines.at(-1), NOW.getTime() + 30_000);
    });

    it("reports a stack whose resources cannot be read as a failure of the rules, never as a violation", async () => {
        const unreadable: PolicyResource = {
            ...policyResourceOf(alice),
            props: new Proxy({ objectId: ALICE_ID }, { get: () => {
                throw new Error("malformed property");
            } }),
        };
        const evidence = disabledForBoth();
        const evaluator = evaluatorWith(evidence);
        const custom = { ...DEFAULT_CONFIG, verificationBudgetSeconds: 7 };
        const result = await evaluator.evaluate([unreadable], "non-privileged", custom);
        const withoutSettings = await evaluator.evaluate([unreadable], "privileged");
        const all = await evaluator.evaluated([unreadable]);

        const failure = { failure: "the stack's resources could not be read" };
        assert.deepEqual(result, { rule: "non-privileged", result: failure, config: custom });
        assert.deepEqual(withoutSettings, { rule: "privileged", result: failure, config: DEFAULT_CONFIG });
        assert.deepEqual(all, [{ rule: "non-privileged", result: failure, config: DEFAULT_CONFIG }]);
        assert.deepEqual(evidence.asked, []);
    });

    it("reports an evaluation that throws as the pack's own failure, with its message, for every rule", async () => {
        const evaluator = evaluatorWith(recordingEvidence(true));
        const { nonPrivileged, privileged } = await oneAnalyzeStack(evaluator, DEFAULT_CONFIG);
        const failure = { failure: "the pack failed while evaluating the stack (Graph exploded)" };
        assert.deepEqual([nonPrivileged.result, privileged.result], [failure, failure]);
    });

    it("hands the report every rule settled so far as each completes, and keeps the verdicts when the report fails", async () => {
        const seen: Rule[][] = [];
        const onEvaluated = (results: RuleResults) => {
            seen.push(results.map((r) => r.rule));
            throw new Error("disk full");
        };
        const { nonPrivileged, privileged } = await oneAnalyzeStack(evaluatorWith(disabledForBoth(), { onEvaluated }), DEFAULT_CONFIG);

        assert.deepEqual(seen, [["non-privileged"], ["non-privileged", "privileged"]]);
        assert.deepEqual(verdictsOf(nonPrivileged.result), ["non-privileged alice@contoso.onmicrosoft.com noncompliant"]);
        assert.deepEqual(verdictsOf(privileged.result), ["privileged bob@contoso.onmicrosoft.com noncompliant"]);
    });

    it("stops the Analyze-time prefetch as soon as a stack policy asks", async () => {
        let stops = 0;
        const prefetch = { observe: () => undefined, stackUser: async () => undefined, stop: () => (stops++, false) };
        const evaluator = evaluatorWith(disabledForBoth(), { prefetch });
        const pending = evaluator.evaluate(decodedStack(), "non-privileged", DEFAULT_CONFIG);
        assert.equal(stops, 1);
        await pending;
    });
});

describe("StackEvaluator's collections inside AnalyzeStack", () => {
    /** A heap that reports `usedBytes` and records, at each collection, how many questions Graph had been asked. */
    function fakeHeap(usedBytes: number, asked: () => number) {
        const collections: number[] = [];
        return { collections, heapUsedBytes: () => usedBytes, collectGarbage: () => (collections.push(asked()), true) };
    }
    const prefetchThatSaw = (observed: boolean) => ({ observe: () => undefined, stackUser: async () => undefined, stop: () => observed });

    it("collects once, after the evaluation and before the next policy, when Analyze calls came first and the heap is large", async () => {
        const evidence = disabledForBoth();
        const heap = fakeHeap(STACK_COLLECTION.minHeapBytes, () => evidence.asked.length);
        const evaluator = evaluatorWith(evidence, { prefetch: prefetchThatSaw(true), heap });
        await evaluator.evaluate(decodedStack(), "non-privileged", DEFAULT_CONFIG);
        // After all three questions of the evaluation, before the policy that asked got its result.
        assert.deepEqual(heap.collections, [3]);
        await evaluator.evaluate(decodedStack(), "privileged");
        await evaluator.evaluated(decodedStack());
        // Two users reported: the response is too small to collect before it.
        assert.deepEqual(heap.collections, [3]);
    });

    it("does not collect after an evaluation without Analyze calls before it, nor with a heap below the floor", async () => {
        for (const [observed, usedBytes] of [
            [false, 2 * STACK_COLLECTION.minHeapBytes],
            [true, STACK_COLLECTION.minHeapBytes - 1],
        ] as const) {
            const heap = fakeHeap(usedBytes, () => 0);
            await oneAnalyzeStack(evaluatorWith(disabledForBoth(), { prefetch: prefetchThatSaw(observed), heap }), DEFAULT_CONFIG);
            assert.deepEqual(heap.collections, [], `observed ${observed}, heap ${usedBytes}`);
        }
    });

    it("collects before the response of the last policy once it reports enough users, with or without Analyze calls", async () => {
        // `count` users without a role: every other one has per-user MFA disabled (noncompliant), the
        // others get no answer from Graph (unverified); both kinds are reported.
        const disabled = Object.fromEntries(
            Array.from({ length: STACK_COLLECTION.minReportedVerdicts }, (_, index) => [guidFrom(`user:user${index}`), index % 2 === 0 ? { kind: "state", state: "disabled" } : undefined]),
        );
        const stackOf = (count: number) => () => Array.from({ length: count }, (_, index) => policyResourceOf(user({ name: `user${index}` })));
        for (const [count, expected] of [
            [STACK_COLLECTION.minReportedVerdicts, 1],
            [STACK_COLLECTION.minReportedVerdicts - 1, 0],
        ] as const) {
            const heap = fakeHeap(STACK_COLLECTION.minHeapBytes, () => 0);
            const evaluator = evaluatorWith(recordingEvidence(false, { perUser: disabled }), { heap });
            const stack = stackOf(count);
            await evaluator.evaluate(stack(), "non-privileged", DEFAULT_CONFIG);
            await evaluator.evaluate(stack(), "privileged");
            assert.equal(heap.collections.length, 0, "nothing before the last policy");
            const all = await evaluator.evaluated(stack());
            const kinds = all.flatMap(({ result }) => ("evaluation" in result ? result.evaluation.verdicts : [])).map((v) => v.kind);
            assert.deepEqual([kinds.filter((k) => k === "noncompliant").length, kinds.filter((k) => k === "unverified").length], [Math.ceil(count / 2), Math.floor(count / 2)]);
            assert.equal(heap.collections.length, expected, `${count} users reported`);
        }
    });

    it("keeps every verdict when the heap fails to report its size or to collect", async () => {
        const failing = [
            { heapUsedBytes: () => { throw new Error("no statistics"); }, collectGarbage: () => true },
            { heapUsedBytes: () => STACK_COLLECTION.minHeapBytes, collectGarbage: (): boolean => { throw new Error("no gc"); } },
        ];
        for (const heap of failing) {
            const { nonPrivileged, privileged } = await oneAnalyzeStack(evaluatorWith(disabledForBoth(), { prefetch: prefetchThatSaw(true), heap }), DEFAULT_CONFIG);
            assert.deepEqual(verdictsOf(nonPrivileged.result), ["non-privileged alice@contoso.onmicrosoft.com noncompliant"]);
            assert.deepEqual(verdictsOf(privileged.result), ["privileged bob@contoso.onmicrosoft.com noncompliant"]);
        }
    });

    it("counts only the users reported, not those found compliant", async () => {
        const ids = Array.from({ length: STACK_COLLECTION.minReportedVerdicts }, (_, index) => guidFrom(`user:user${index}`));
        // Every user but one has per-user MFA enforced: one report, no collection.
        const enforced = Object.fromEntries(ids.slice(1).map((id) => [id, { kind: "state", state: "enforced" }]));
        const heap = fakeHeap(STACK_COLLECTION.minHeapBytes, () => 0);
        const evaluator = evaluatorWith(recordingEvidence(false, { perUser: enforced }), { heap });
        const stack = () => ids.map((_, index) => policyResourceOf(user({ name: `user${index}` })));
        await evaluator.evaluate(stack(), "non-privileged", DEFAULT_CONFIG);
        const [{ result }] = await evaluator.evaluated(stack());
        assert.ok("evaluation" in result, JSON.stringify(result));
        assert.equal(result.evaluation.verdicts.filter((v) => v.kind === "compliant").length, ids.length - 1);
        assert.deepEqual(heap.collections, []);
    });
});

describe("snapshotIdentityResources", () => {
    it("copies only the identity resources, only the properties the inventory reads, unknowns marked, dependencies as URNs", () => {
        const previewAssignment = policyResourceOf(bobOwner);
        previewAssignment.props = unknownCheckingProxy({ ...(bobOwner.outputs as Record<string, unknown>), principalId: UNKNOWN_SENTINEL });
        const snapshots = snapshotIdentityResources([policyResourceOf(alice), previewAssignment, storage]);

        assert.deepEqual(
            snapshots.map((s) => s.urn),
            [alice.urn, bobOwner.urn],
        );
        const [aliceSnapshot, assignmentSnapshot] = snapshots;
        assert.deepEqual(Object.keys(aliceSnapshot.props).sort(), ["accountEnabled", "creationType", "externalUserState", "objectId", "userPrincipalName", "userType"]);
        assert.equal(aliceSnapshot.props.objectId, ALICE_ID);
        assert.equal(assignmentSnapshot.props.principalId, UNKNOWN);
        assert.deepEqual(assignmentSnapshot.propertyDependencies, bobOwner.propertyDependencies);
    });
});
