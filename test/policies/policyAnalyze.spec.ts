import * as assert from "node:assert/strict";
import { promises as fs, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MfaReport } from "../../policies/report/reportTypes";
import { GraphEmulator } from "../emulator/graphEmulator";
import { FIXTURE_FILE, FIXTURE_PASSPHRASE } from "../fixtures/writeIdentityStackExport";
import {
    Diagnostic,
    failsPolicyAnalyze,
    isStackVariable,
    launchPolicyPack,
    parseStackExport,
    passphraseCrypterFor,
    policyAnalyze,
    PolicyPackConfig,
    PolicyRun,
    resourcesOfExport,
    SecretHandling,
    StackExport,
    secret,
    StackResource,
} from "../harness";
import { emulatorPerSuite, MFA_POLICY, PACK_DIR, PRIVILEGED_POLICY, runPack, UNVERIFIED_POLICY } from "./packUnderTest";

const FIXTURE_PATH = path.resolve(PACK_DIR, "test", "fixtures", FIXTURE_FILE);
const REPORT_FILE_VARIABLE = "ENTRA_MFA_GUARD_REPORT";

/** The URN of the export's resource named `name` (the live one, when a replaced copy waits for deletion). */
function urnNamed(exported: StackExport, name: string): string {
    const found = exported.deployment.resources?.find((r) => r.urn.endsWith(`::${name}`) && r.delete !== true);
    assert.ok(found, `no resource ${name} in the export`);
    return found.urn;
}

/** A verdict as the engine shows it: which policy, on which user's resource, at which level. */
function verdicts(diagnostics: Diagnostic[], policies = [MFA_POLICY, PRIVILEGED_POLICY]): string[] {
    return diagnostics
        .filter((d) => policies.includes(d.policyName))
        .map((d) => `${d.policyName} ${d.enforcementLevel} ${d.urn ?? "<stack>"}`)
        .sort();
}

interface AnalyzeRun extends PolicyRun {
    calls: readonly string[];
    /** The pack's environment as the kernel started it (`/proc/<pid>/environ`). */
    environment: Record<string, string>;
    report: MfaReport;
    output: string;
}

/**
 * Runs the identity stack through the engine protocol against the emulated tenant: as `pulumi policy
 * analyze --file` does, and as `pulumi preview` of the same (unchanged) program does.
 */
describe("pulumi policy analyze, through the engine protocol", function () {
    this.timeout(120_000);
    let emulator!: GraphEmulator;
    emulatorPerSuite((started) => (emulator = started));

    const exported = parseStackExport(readFileSync(FIXTURE_PATH, "utf8"));
    const salt = (exported.deployment.secrets_providers?.state as { salt: string }).salt;
    let decrypted!: SecretHandling;
    before(() => {
        decrypted = { decrypt: passphraseCrypterFor(FIXTURE_PASSPHRASE, salt).decrypt };
    });

    const user = {
        alice: urnNamed(exported, "alice"),
        bob: urnNamed(exported, "bob"),
        carol: urnNamed(exported, "carol"),
        partner: urnNamed(exported, "partner"),
    };

    /** The tenant behind the stack: only bob's group policy and partner's per-user state satisfy the rules. */
    beforeEach(() => {
        const { analyzed } = resourcesOfExport(exported, "undecryptable");
        const outputs = (urn: string) => analyzed.find((r) => r.urn === urn)!.outputs;
        const carolUpn = "carol@contoso.onmicrosoft.com";
        for (const [urn, state] of [[user.alice, "disabled"], [user.bob, "disabled"], [user.carol, "disabled"], [user.partner, "enforced"]] as const) {
            const id = String(outputs(urn).objectId ?? outputs(urn).userId);
            const upn = urn === user.carol ? carolUpn : String(outputs(urn).userPrincipalName ?? outputs(urn).userEmailAddress);
            emulator.upsertUser({ id, userPrincipalName: upn, perUserMfaState: state });
        }
        const admins = outputs(urnNamed(exported, "identity-admins"));
        emulator.upsertGroup({ id: String(admins.objectId), displayName: String(admins.displayName), members: [String(outputs(user.bob).objectId)] });
    });

    async function analyze(
        secrets: SecretHandling,
        change: (resources: StackResource[]) => StackResource[] = (resources) => resources,
        config?: PolicyPackConfig,
    ): Promise<AnalyzeRun> {
        const reportDir = await fs.mkdtemp(path.join(os.tmpdir(), "policy-analyze-"));
        const reportPath = path.join(reportDir, "report.json");
        const pack = await launchPolicyPack({ packDir: PACK_DIR, env: { ...emulator.env(), [REPORT_FILE_VARIABLE]: reportPath }, stack: null });
        try {
            const environment = Object.fromEntries(
                readFileSync(`/proc/${pack.pid}/environ`, "utf8")
                    .split("\0")
                    .filter(Boolean)
                    .map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]),
            );
            const run = await policyAnalyze(pack, change(resourcesOfExport(exported, secrets).analyzed), config);
            const report = JSON.parse(await fs.readFile(reportPath, "utf8")) as MfaReport;
            const output = [...pack.stdout, ...pack.stderr, ...[...run.analyze, ...run.stack].map((d) => JSON.stringify(d)), JSON.stringify(report)].join("\n");
            return { ...run, calls: [...pack.calls], environment, report, output };
        } finally {
            await pack.close();
            await fs.rm(reportDir, { recursive: true, force: true });
        }
    }

    /** `pulumi preview` of the program that produced the export, with nothing to change: read resources get no call. */
    function previewResources(): StackResource[] {
        const { analyzed, external } = resourcesOfExport(exported, decrypted);
        return analyzed.filter((resource) => !external.includes(resource.urn));
    }

    it("converses as the command does: no ConfigureStack, no stack variables, every live resource analyzed in snapshot order", async () => {
        const run = await analyze(decrypted);
        const live = resourcesOfExport(exported, decrypted).analyzed;
        assert.deepEqual(run.calls, ["GetAnalyzerInfo", "Configure", ...live.map(() => "Analyze"), "AnalyzeStack"]);
        assert.deepEqual(Object.keys(run.environment).filter(isStackVariable), []);
        // Started without a stack, the pack still writes its report, without a stack to name.
        assert.equal(run.report.stack, undefined);
        assert.ok(run.report.entries.length > 0);
        assert.ok(!run.output.includes("can't run policy"), run.output);
    });

    it("gives the verdicts a preview of the same stack gives, user by user", async () => {
        const preview = await runPack(emulator, previewResources());
        const analyzed = await analyze(decrypted);
        assert.deepEqual(verdicts(analyzed.stack), verdicts(preview.stack));
        // And they are the stack's real verdicts, not two empty lists.
        assert.deepEqual(verdicts(analyzed.stack), [`${MFA_POLICY} mandatory ${user.alice}`, `${PRIVILEGED_POLICY} mandatory ${user.carol}`].sort());
        const messages = (run: { stack: Diagnostic[] }) => run.stack.filter((d) => d.policyName !== UNVERIFIED_POLICY).map((d) => `${d.policyName} ${d.urn} ${d.message}`).sort();
        assert.deepEqual(messages(analyzed), messages(preview));
        assert.deepEqual(verdicts(analyzed.analyze, [MFA_POLICY, PRIVILEGED_POLICY, UNVERIFIED_POLICY]), verdicts(preview.analyze, [MFA_POLICY, PRIVILEGED_POLICY, UNVERIFIED_POLICY]));
        // alice and carol fail mandatory policies, so the command exits non-zero, as the preview fails.
        assert.equal(failsPolicyAnalyze(analyzed), true);
    });

    it("leaves out the replaced role assignment that waits for deletion (alice's old Owner role)", async () => {
        const run = await analyze(decrypted);
        assert.ok(!run.output.includes("appears twice"), run.output);
        assert.deepEqual(verdicts(run.stack).filter((v) => v.includes(user.alice)), [`${MFA_POLICY} mandatory ${user.alice}`]);
        const { skipped } = resourcesOfExport(exported, decrypted);
        assert.deepEqual(skipped.map((r) => r.urn), [urnNamed(exported, "alice-subscription")]);
    });

    describe("when the export's secrets cannot be decrypted", () => {
        it("sends every secret as the string \"[secret]\"", () => {
            const carol = resourcesOfExport(exported, "undecryptable").analyzed.find((r) => r.urn === user.carol)!;
            const wrapped = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "[secret]" };
            assert.deepEqual([carol.inputs.userPrincipalName, carol.outputs.userPrincipalName, carol.outputs.password], [wrapped, wrapped, wrapped]);
        });

        it("keeps every verdict that needs no secret, never names a user \"[secret]\", and says which property it could not read", async () => {
            const clear = await analyze(decrypted);
            const redacted = await analyze("undecryptable");
            assert.deepEqual(verdicts(redacted.stack), verdicts(clear.stack));
            assert.ok(!redacted.output.includes("[secret]"), redacted.output);

            const carol = redacted.stack.find((d) => d.policyName === PRIVILEGED_POLICY && d.urn === user.carol);
            assert.ok(carol);
            const carolId = resourcesOfExport(exported, "undecryptable").analyzed.find((r) => r.urn === user.carol)!.outputs.objectId as string;
            // Named by resource name, identified by object id: the one line after the SDK's description names the user.
            assert.match(carol.message.split("\n")[1], /^User 'carol' /);
            assert.ok(carol.message.includes(carolId), carol.message);

            const problems = redacted.stack.filter((d) => d.policyName === UNVERIFIED_POLICY && !clear.stack.some((c) => c.message === d.message));
            assert.deepEqual(problems.map((d) => d.urn), [user.carol]);
            assert.match(problems[0].message, /userPrincipalName' is secret and could not be decrypted/);
            const carolEntries = redacted.report.entries.filter((e) => e.user.urn === user.carol);
            assert.deepEqual(carolEntries.map((e) => [e.policy, e.verdict, e.user.displayName, e.user.userPrincipalName, e.user.objectId]), [[PRIVILEGED_POLICY, "fail", "carol", undefined, carolId]]);
        });

        it("fails no one and names no one \"[secret]\" when every property of every resource is secret", async () => {
            const everythingSecret = (resources: StackResource[]) =>
                resources.map((resource) => {
                    const redact = (bag: Record<string, unknown>) => Object.fromEntries(Object.keys(bag).map((key) => [key, secret("[secret]")]));
                    return { ...resource, inputs: redact(resource.inputs), outputs: redact(resource.outputs) };
                });
            const run = await analyze("undecryptable", everythingSecret, { [UNVERIFIED_POLICY]: "mandatory" });
            assert.ok(!run.output.includes("[secret]"), run.output);
            assert.deepEqual(verdicts([...run.analyze, ...run.stack]), []);
            assert.deepEqual(run.report.entries.filter((e) => e.verdict === "fail"), []);
            // Every user resource is accounted for as unverifiable, none silently passed.
            const unverified = new Set(run.stack.filter((d) => d.policyName === UNVERIFIED_POLICY).map((d) => d.urn));
            for (const urn of Object.values(user)) assert.ok(unverified.has(urn), `${urn} not reported as unverifiable:\n${run.output}`);
            // An audit that makes unverifiable users mandatory fails on an export it cannot read.
            assert.equal(failsPolicyAnalyze(run), true);
        });
    });
});
