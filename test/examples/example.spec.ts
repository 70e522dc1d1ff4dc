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

describe("examples/advisory.json", function () {
    this.timeout(60_000);

    it("is a policy-pack config the engine accepts, as `pulumi policy validate-config` would", async () => {
        const { readFileSync } = await import("node:fs");
        const { launchPolicyPack } = await import("../harness");
        const config = JSON.parse(readFileSync(path.join(ROOT, "examples", "advisory.json"), "utf8"));
        const pack = await launchPolicyPack({ packDir: ROOT });
        try {
            const sent = await pack.configure(config);
            assert.deepEqual(
                Object.values(sent).map((policy) => policy.enforcementLevel),
                ["advisory", "advisory", "advisory"],
            );
        } finally {
            await pack.close();
        }
    });
});
