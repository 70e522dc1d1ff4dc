import * as assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { launchPolicyPack, PolicyPackConfig } from "../harness";
import { MfaReport } from "../../policies/report/reportTypes";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const readJson = (file: string) => JSON.parse(readFileSync(path.join(ROOT, file), "utf8"));

describe("examples/", function () {
    this.timeout(120_000);

    it("type-checks against the SDKs its own package.json names, so the example users copy stays a real program", () => {
        // examples/ is an npm workspace of the root: one `npm install` puts its dependencies where the
        // program resolves them, as `cd examples && npm install` would for a copy.
        const declared = Object.keys(readJson("examples/package.json").dependencies);
        for (const dependency of declared) require.resolve(`${dependency}/package.json`, { paths: [path.join(ROOT, "examples")] });
        const tsc = require.resolve("typescript/bin/tsc", { paths: [ROOT] });
        // execFileSync throws with tsc's diagnostics when the program does not compile.
        const output = execFileSync(process.execPath, [tsc, "-p", path.join(ROOT, "examples", "tsconfig.json")], { encoding: "utf8" });
        assert.equal(output.trim(), "");
    });

    it("imports nothing its package.json does not declare", () => {
        const declared = new Set(Object.keys(readJson("examples/package.json").dependencies));
        const source = readFileSync(path.join(ROOT, "examples", "index.ts"), "utf8");
        const imported = [...source.matchAll(/from "(@[^/"]+\/[^/"]+|[^@./"][^/"]*)/g)].map((match) => match[1]);
        assert.ok(imported.length > 0);
        assert.deepEqual(imported.filter((name) => !declared.has(name)), []);
    });
});

describe("examples/*.json policy-pack configs", function () {
    this.timeout(60_000);

    async function configured(file: string) {
        const config = readJson(path.join("examples", file)) as PolicyPackConfig;
        const pack = await launchPolicyPack({ packDir: ROOT });
        try {
            // The harness validates each policy's part against its configSchema, as `pulumi preview` does.
            const info = await pack.analyzerInfo();
            return { config, sent: await pack.configure(config), info };
        } finally {
            await pack.close();
        }
    }

    it("advisory.json makes every policy advisory", async () => {
        const { sent, info } = await configured("advisory.json");
        const levels = Object.values(sent).map((policy) => policy.enforcementLevel);
        assert.equal(levels.length, info.policies.length);
        assert.ok(levels.every((level) => level === "advisory"), levels.join(", "));
    });

    it("policy-config.json names every policy and sets every setting of every schema, and the engine accepts it", async () => {
        const { config, sent, info } = await configured("policy-config.json");
        assert.deepEqual(Object.keys(sent).sort(), info.policies.map((p) => p.name).sort());
        assert.deepEqual(Object.keys(config).sort(), info.policies.map((p) => p.name).sort());
        for (const policy of info.policies) {
            const settings = Object.keys((policy.configSchema?.properties ?? {}) as Record<string, unknown>);
            const given = config[policy.name];
            const shown = typeof given === "object" ? Object.keys(given).filter((key) => key !== "enforcementLevel") : [];
            assert.deepEqual(shown.sort(), settings.sort(), `${policy.name} in policy-config.json`);
        }
        assert.equal(sent["entra-privileged-user-mfa"].enforcementLevel, "mandatory");
    });
});

describe("npm run demo: the example program under Pulumi's mocks, against the emulator", function () {
    this.timeout(180_000);
    const run = promisify(execFile);
    let scratch: string;

    before(() => {
        scratch = mkdtempSync(path.join(os.tmpdir(), "entra-mfa-guard-demo-spec-"));
    });
    after(() => rmSync(scratch, { recursive: true, force: true }));

    async function demo(args: string[], env: Record<string, string> = {}) {
        const report = path.join(scratch, `report-${Math.random().toString(36).slice(2)}.json`);
        const { stdout } = await run(process.execPath, [path.join(ROOT, "bin", "scripts", "demo.js"), ...args], {
            cwd: ROOT,
            env: { ...process.env, INIT_CWD: ROOT, ENTRA_MFA_GUARD_REPORT: report, ...env },
        });
        return { stdout, report: JSON.parse(readFileSync(report, "utf8")) as MfaReport };
    }
    const verdictOf = (report: MfaReport, upn: string) => report.entries.find((entry) => entry.user.userPrincipalName === upn)?.verdict;

    it("checks every user the example creates or gives a role to, and the example configs exempt its own break-glass account", async () => {
        const { stdout, report } = await demo([]);
        const users = new Set(report.entries.map((entry) => entry.user.userPrincipalName));
        const created = [...readFileSync(path.join(ROOT, "examples", "index.ts"), "utf8").matchAll(/person\("(\w+)"/g)].map((match) => `${match[1]}@contoso.onmicrosoft.com`);
        assert.deepEqual([...created, "auditor@contoso.onmicrosoft.com"].filter((upn) => !users.has(upn)), []);
        assert.equal(verdictOf(report, "breakglass@contoso.onmicrosoft.com"), "exempt");
        assert.equal(verdictOf(report, "carol@contoso.onmicrosoft.com"), "fail");
        assert.match(stdout, /frank@contoso\.onmicrosoft\.com' \(created by this deployment\)/);
        // Fix commands name the cloud's Graph, never the emulator the requests went to.
        assert.match(stdout, /--uri 'https:\/\/graph\.microsoft\.com\/beta\/users\//);
        assert.doesNotMatch(stdout, /--uri 'https:\/\/127\.0\.0\.1/);
        assert.match(stdout, /mandatory violation\(s\): `pulumi preview` would fail/);
    });

    it("takes --config as pulumi preview --policy-pack-config does", async () => {
        const { stdout, report } = await demo(["--config", "examples/advisory.json"]);
        assert.equal(verdictOf(report, "breakglass@contoso.onmicrosoft.com"), "exempt");
        assert.doesNotMatch(stdout, /\[mandatory\]/);
        assert.match(stdout, /No mandatory violation/);
    });

    it("stops with the engine's validation error on a config the schemas refuse", async () => {
        const invalid = path.join(scratch, "invalid.json");
        writeFileSync(invalid, JSON.stringify({ "entra-non-privileged-user-mfa": { acceptedEvidence: ["sms"] } }));
        const failure = await demo(["--config", invalid]).then(
            () => assert.fail("the demo accepted an invalid config"),
            (error: { code: number; stderr: string }) => error,
        );
        assert.equal(failure.code, 1);
        assert.match(failure.stderr, /is not a valid policy pack config/);
        assert.match(failure.stderr, /entra-non-privileged-user-mfa: acceptedEvidence\.0: must be equal to one of the allowed values/);
    });

    it("says which of the user's credential variables it set aside for the emulator, and never prints them", async () => {
        const { stdout } = await demo(["--config", "examples/advisory.json"], { AZURE_CLIENT_SECRET: "user-secret-value-123", ARM_CLIENT_ID: "user-client-id" });
        assert.match(stdout, /set aside for the emulator's sign-in: ARM_CLIENT_ID, AZURE_CLIENT_SECRET/);
        assert.doesNotMatch(stdout, /user-secret-value-123/);
    });
});
