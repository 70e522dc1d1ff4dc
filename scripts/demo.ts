/**
 * `npm run demo [-- --config <file>]`: runs the pack as `pulumi preview --policy-pack .` would, on the
 * stack examples/index.ts defines (run under Pulumi's mocks), against the bundled Graph emulator's
 * sample tenant, and prints what the Pulumi CLI would show, then every user from the JSON report.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { formatForPath, REPORT_FILE_VARIABLE, writeReports } from "../policies/report/reportFiles";
import { MfaReport } from "../policies/report/reportTypes";
import { startGraphEmulator } from "../test/emulator/graphEmulator";
import { formatDiagnostics, launchPolicyPack, PolicyPackConfig, preview, reconcilePolicyPackConfig } from "../test/harness";
import { DEMO_PROJECT, DEMO_STACK, demoConditionalAccessPolicies, demoProviders, demoStackConfig, demoTenantUsers } from "./demoTenant";
import { stackOfProgram } from "./exampleStack";

const ROOT = path.resolve(__dirname, "..", "..");
const EXAMPLE_PROGRAM = path.join(ROOT, "examples", "index.ts");
const DEFAULT_CONFIG = path.join(ROOT, "examples", "policy-config.json");
/** `npm run` starts scripts in the package folder; paths the user typed are relative to where they were. */
const USER_CWD = process.env.INIT_CWD ?? process.cwd();

const USAGE = `usage: npm run demo [-- --config <policy-pack-config.json>]
  --config  a file as \`pulumi preview --policy-pack-config\` takes it (default: examples/policy-config.json)
Environment: ${REPORT_FILE_VARIABLE} (.json, .sarif or .md) is written as in CI. The demo signs in to its
own emulator, so your AZURE_* and ARM_* credential variables are set aside; ARM_ENVIRONMENT is honoured
(fix commands name that cloud's Graph).`;

// Kept for the pack: which cloud the fix commands name. Every other AZURE_ or ARM_ variable is a
// credential or an endpoint, which the emulator replaces.
const HONOURED_AZURE_VARIABLES = new Set(["ARM_ENVIRONMENT"]);

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { config: { type: "string" }, help: { type: "boolean", short: "h" } } });
    if (values.help) {
        console.log(USAGE);
        return;
    }
    const configPath = values.config ? path.resolve(USER_CWD, values.config) : DEFAULT_CONFIG;
    const config = readPolicyPackConfig(configPath);
    const userReport = process.env[REPORT_FILE_VARIABLE]?.trim() ? path.resolve(USER_CWD, process.env[REPORT_FILE_VARIABLE]!.trim()) : undefined;

    const emulator = await startGraphEmulator({ users: demoTenantUsers, conditionalAccessPolicies: demoConditionalAccessPolicies, latencyMs: 40 });
    const scratch = mkdtempSync(path.join(os.tmpdir(), "entra-mfa-guard-demo-"));
    // The table needs JSON; a .sarif or .md report is written from it afterwards by the pack's own writer.
    const jsonReport = userReport && formatForPath(userReport) === "json" ? userReport : path.join(scratch, "report.json");
    const setAside = Object.keys(process.env).filter((name) => /^(AZURE|ARM)_/.test(name) && !HONOURED_AZURE_VARIABLES.has(name));
    const starting = launchPolicyPack({
        packDir: ROOT,
        env: { ...Object.fromEntries(setAside.map((name) => [name, undefined])), ...emulator.env(), [REPORT_FILE_VARIABLE]: jsonReport },
        stack: { project: DEMO_PROJECT, stack: DEMO_STACK },
    });
    // The example program runs here while the pack process starts.
    const program = stackOfProgram({ program: EXAMPLE_PROGRAM, project: DEMO_PROJECT, stack: DEMO_STACK, config: demoStackConfig, providers: demoProviders });
    program.catch(() => undefined);
    const pack = await starting;
    try {
        const info = await pack.analyzerInfo();
        try {
            reconcilePolicyPackConfig(info, config);
        } catch (error) {
            throw new Error(`${path.relative(USER_CWD, configPath)} is not a valid policy pack config for this pack; \`pulumi preview\` would stop with:\n${(error as Error).message}`);
        }
        const resources = await program;
        console.log(`Previewing update (${DEMO_STACK}) of examples/index.ts with policy pack ${info.name}@v${info.version}, against the Graph emulator at ${emulator.url}`);
        console.log(`(pack started in ${Math.round(pack.startMs)} ms; --policy-pack-config ${path.relative(USER_CWD, configPath)})`);
        if (setAside.length > 0) console.log(`(set aside for the emulator's sign-in: ${setAside.sort().join(", ")})`);
        console.log("");

        const run = await preview(pack, resources, config);
        const diagnostics = [...run.analyze, ...run.stack];
        console.log(formatDiagnostics(diagnostics, { packs: [{ name: info.name, version: info.version, localPath: "." }], stackUrn: resources[0].urn }));

        const report = JSON.parse(readFileSync(jsonReport, "utf8")) as MfaReport;
        console.log(`\nEvery user, from the report file (${REPORT_FILE_VARIABLE}):`);
        for (const entry of report.entries) {
            const rule = entry.policy === "entra-privileged-user-mfa" ? "privileged" : "non-privileged";
            console.log(`    ${entry.verdict.padEnd(12)} ${entry.user.displayName.padEnd(38)} ${rule.padEnd(15)} ${entry.reason}`);
        }
        if (userReport && userReport !== jsonReport) {
            const outcome = await writeReports(report, { [REPORT_FILE_VARIABLE]: userReport }, { policies: info.policies });
            outcome.errors.forEach((error) => console.log(error));
        }
        if (userReport && existsSync(userReport)) console.log(`Report written to ${userReport}`);

        const batches = emulator.requests.filter((r) => r.isBatch);
        console.log(`\nGraph: ${batches.length} $batch request(s) carrying ${emulator.countGraphUnits()} GET(s).`);
        const mandatory = diagnostics.filter((d) => d.enforcementLevel === "mandatory").length;
        console.log(mandatory > 0 ? `\n${mandatory} mandatory violation(s): \`pulumi preview\` would fail.` : "\nNo mandatory violation: the preview would pass.");
    } finally {
        await pack.close();
        await emulator.close();
        rmSync(scratch, { recursive: true, force: true });
    }
}

function readPolicyPackConfig(file: string): PolicyPackConfig {
    let text: string;
    try {
        text = readFileSync(file, "utf8");
    } catch (error) {
        throw new Error(`Cannot read the policy pack config ${file}: ${(error as Error).message}\n\n${USAGE}`);
    }
    try {
        return JSON.parse(text) as PolicyPackConfig;
    } catch (error) {
        throw new Error(`${file} is not JSON: ${(error as Error).message}`);
    }
}

main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
});
