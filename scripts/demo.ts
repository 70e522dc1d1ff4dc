/**
 * `npm run demo`: runs the pack as `pulumi preview --policy-pack .` would, on the example stack,
 * against the bundled Graph emulator's sample tenant, and prints what the Pulumi CLI would show.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MfaReport } from "../policies/report/reportTypes";
import { startGraphEmulator } from "../test/emulator/graphEmulator";
import { formatDiagnostics, launchPolicyPack, preview } from "../test/harness";
import { demoStack } from "./demoStack";

const PACK_DIR = path.resolve(__dirname, "..", "..");

async function main(): Promise<void> {
    const { resources, tenant, conditionalAccessPolicies, config } = demoStack();
    const emulator = await startGraphEmulator({ users: tenant, conditionalAccessPolicies, latencyMs: 40 });
    const reportDir = mkdtempSync(path.join(os.tmpdir(), "entra-mfa-guard-demo-"));
    const reportPath = path.join(reportDir, "report.json");
    const pack = await launchPolicyPack({ packDir: PACK_DIR, env: { ...emulator.env(), ENTRA_MFA_GUARD_REPORT: reportPath } });
    try {
        const info = await pack.analyzerInfo();
        console.log(`Previewing update (dev) with policy pack ${info.name}@v${info.version}, against the Graph emulator at ${emulator.url}`);
        console.log(`(pack started in ${Math.round(pack.startMs)} ms; policy config: ${JSON.stringify(config)})\n`);
        const run = await preview(pack, resources, config as never);
        const diagnostics = [...run.analyze, ...run.stack];
        console.log(formatDiagnostics(diagnostics, { packs: [{ name: info.name, version: info.version, localPath: "." }] }));

        // The JSON report CI would keep (ENTRA_MFA_GUARD_REPORT): every user, with the evidence that decided.
        const report = JSON.parse(readFileSync(reportPath, "utf8")) as MfaReport;
        console.log("\nEvery user, from the report file (ENTRA_MFA_GUARD_REPORT):");
        for (const entry of report.entries) {
            const rule = entry.policy === "entra-privileged-user-mfa" ? "privileged" : "non-privileged";
            console.log(`    ${entry.verdict.padEnd(12)} ${entry.user.displayName.padEnd(38)} ${rule.padEnd(15)} ${entry.reason}`);
        }
        const batches = emulator.requests.filter((r) => r.isBatch);
        console.log(`\nGraph: ${batches.length} $batch request(s) carrying ${emulator.countGraphUnits()} GET(s).`);
        const mandatory = diagnostics.filter((d) => d.enforcementLevel === "mandatory").length;
        console.log(mandatory > 0 ? `\n${mandatory} mandatory violation(s): \`pulumi preview\` would fail.` : "\nNo mandatory violation: the preview would pass.");
    } finally {
        await pack.close();
        await emulator.close();
        rmSync(reportDir, { recursive: true, force: true });
    }
}

main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
});
