/**
 * `npm run demo`: runs the pack as `pulumi preview --policy-pack .` would, on the example stack,
 * against the bundled Graph emulator's sample tenant, and prints what the Pulumi CLI would show.
 */
import * as path from "node:path";
import { startGraphEmulator } from "../test/emulator/graphEmulator";
import { formatDiagnostics, launchPolicyPack, preview } from "../test/harness";
import { demoStack } from "./demoStack";

const PACK_DIR = path.resolve(__dirname, "..", "..");

async function main(): Promise<void> {
    const { resources, tenant, config } = demoStack();
    const emulator = await startGraphEmulator({ users: tenant, latencyMs: 40 });
    const pack = await launchPolicyPack({ packDir: PACK_DIR, env: emulator.env() });
    try {
        const info = await pack.analyzerInfo();
        console.log(`Previewing update (dev) with policy pack ${info.name}@v${info.version}, against the Graph emulator at ${emulator.url}`);
        console.log(`(pack started in ${Math.round(pack.startMs)} ms; policy config: ${JSON.stringify(config)})\n`);
        const run = await preview(pack, resources, config as never);
        const diagnostics = [...run.analyze, ...run.stack];
        console.log(formatDiagnostics(diagnostics, { packs: [{ name: info.name, version: info.version, localPath: "." }] }));

        const flagged = new Set(diagnostics.map((d) => d.urn));
        const users = resources.filter((r) => r.type === "azuread:index/user:User");
        console.log("\nUsers in the stack:");
        for (const u of users) {
            const mark = flagged.has(u.urn) ? "flagged" : "not flagged (privileged, exempt, or MFA on)";
            console.log(`    ${String(u.inputs.userPrincipalName).padEnd(40)} ${mark}`);
        }
        const batches = emulator.requests.filter((r) => r.isBatch);
        console.log(`\nGraph: ${batches.length} $batch request(s), ${emulator.countGraphUnits()} user(s) asked.`);
        const mandatory = diagnostics.filter((d) => d.enforcementLevel === "mandatory").length;
        console.log(mandatory > 0 ? `\n${mandatory} mandatory violation(s): \`pulumi preview\` would fail.` : "\nNo mandatory violation: the preview would pass.");
    } finally {
        await pack.close();
        await emulator.close();
    }
}

main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
});
