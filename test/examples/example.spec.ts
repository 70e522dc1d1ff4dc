import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..", "..");

describe("examples/", function () {
    this.timeout(120_000);

    it("type-checks against the provider SDKs, so the example users try stays a real program", () => {
        const tsc = require.resolve("typescript/bin/tsc", { paths: [ROOT] });
        // execFileSync throws with tsc's diagnostics when the program does not compile.
        const output = execFileSync(process.execPath, [tsc, "-p", path.join(ROOT, "examples", "tsconfig.json")], { encoding: "utf8" });
        assert.equal(output.trim(), "");
    });
});

describe("examples/*.json policy-pack configs", function () {
    this.timeout(60_000);

    async function configured(file: string) {
        const { readFileSync } = await import("node:fs");
        const { launchPolicyPack } = await import("../harness");
        const config = JSON.parse(readFileSync(path.join(ROOT, "examples", file), "utf8"));
        const pack = await launchPolicyPack({ packDir: ROOT });
        try {
            // The harness validates each policy's part against its configSchema, as `pulumi policy validate-config` would.
            return { sent: await pack.configure(config), policies: (await pack.analyzerInfo()).policies.map((p) => p.name) };
        } finally {
            await pack.close();
        }
    }

    it("advisory.json makes every policy advisory", async () => {
        const { sent, policies } = await configured("advisory.json");
        const levels = Object.values(sent).map((policy) => policy.enforcementLevel);
        assert.equal(levels.length, policies.length);
        assert.ok(levels.every((level) => level === "advisory"), levels.join(", "));
    });

    it("policy-config.json sets every setting the README lists, and the engine accepts it", async () => {
        const { sent, policies } = await configured("policy-config.json");
        assert.deepEqual(Object.keys(sent).sort(), [...policies].sort());
        assert.equal(sent["entra-privileged-user-mfa"].enforcementLevel, "mandatory");
        const settings = sent["entra-non-privileged-user-mfa"].properties as Record<string, unknown>;
        assert.deepEqual(settings.acceptedEvidence, ["conditionalAccess", "securityDefaults", "perUserMfa"]);
        assert.equal((settings.exemptions as unknown[]).length, 1);
    });
});
