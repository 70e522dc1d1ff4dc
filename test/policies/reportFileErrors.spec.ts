import * as assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GraphEmulator } from "../emulator/graphEmulator";
import { AZURE_ROLE, roleAssignment, stack, user } from "../fixtures/resources";
import { emulatorPerSuite, runPack, tenantUser } from "./packUnderTest";

/** A report file that cannot be written is said once per run, although the files are rewritten as each rule completes. */
describe("report-file problems, through the engine protocol", function () {
    this.timeout(60_000);
    let emulator!: GraphEmulator;
    emulatorPerSuite((started) => (emulator = started));

    it("says once that the report cannot be written, with the path and the cause, and changes no verdict", async () => {
        // A path under a regular file can never be created, whoever runs the test.
        const blocker = path.join(mkdtempSync(path.join(os.tmpdir(), "entra-mfa-guard-report-")), "a-file");
        writeFileSync(blocker, "");
        const target = path.join(blocker, "report.json");
        const reader = user({ name: "reader" });
        const owner = user({ name: "owner" });
        for (const u of [reader, owner]) emulator.upsertUser(tenantUser(u, "disabled"));
        const resources = [stack(), reader, owner, roleAssignment({ name: "reader", principal: reader, role: AZURE_ROLE.Reader }), roleAssignment({ name: "owner", principal: owner, role: AZURE_ROLE.Owner })];

        const run = await runPack(emulator, resources, { env: { ENTRA_MFA_GUARD_REPORT: target } });
        const said = run.output.split("\n").filter((line) => line.includes(`Could not write the MFA report to '${target}'`));
        assert.equal(said.length, 1, run.output);
        assert.match(said[0], /EEXIST|ENOTDIR/);
        // Both rules still gave their verdicts.
        assert.deepEqual(run.stack.map((d) => d.policyName).sort(), ["entra-non-privileged-user-mfa", "entra-privileged-user-mfa"]);
    });
});
