// The pack as every enforcing machine gets it: `pulumi policy publish` runs `npm pack`; the CLI that
// enforces it unpacks the tarball, runs plain `npm install` in it, and starts it with run-policy-pack.
import * as assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { promisify } from "node:util";

import { startGraphEmulator } from "../emulator/graphEmulator";
import { roleAssignment, stack, user, AZURE_ROLE } from "../fixtures/resources";
import { launchPolicyPack, preview } from "../harness";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "..", "..", "..");
const rootManifest = () => JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));

describe("the published pack (npm pack, then plain npm install as the enforcing CLI does)", function () {
    // A cold npm cache downloads ~150 MB; a warm one takes some 20 s on a shared 2-core machine.
    this.timeout(600_000);

    let scratch: string;
    let packDir: string;
    let installSeconds: number;

    before(async () => {
        scratch = mkdtempSync(path.join(os.tmpdir(), "entra-mfa-guard-published-"));
        await run("npm", ["pack", "--pack-destination", scratch], { cwd: ROOT });
        const [tarball] = readdirSync(scratch).filter((file) => file.endsWith(".tgz"));
        packDir = path.join(scratch, "pack");
        await run("mkdir", [packDir]);
        await run("tar", ["-xzf", path.join(scratch, tarball), "-C", packDir, "--strip-components=1"]);
        const startedAt = performance.now();
        await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: packDir });
        installSeconds = (performance.now() - startedAt) / 1000;
    });

    after(() => {
        // `npm pack` restores package.json in postpack; a pack that failed half-way would leave the stripped one.
        if (existsSync(path.join(ROOT, "package.json.backup"))) {
            execFileSync(process.execPath, [require.resolve("clean-package/bin/main.js"), "restore"], { cwd: ROOT });
        }
        if (scratch) rmSync(scratch, { recursive: true, force: true });
    });

    it("leaves the working tree as it was: package.json with its dev fields, no shrinkwrap beside package-lock.json", () => {
        assert.ok(!existsSync(path.join(ROOT, "package.json.backup")));
        assert.ok(!existsSync(path.join(ROOT, "npm-shrinkwrap.json")));
        assert.ok(rootManifest().devDependencies, "package.json lost its devDependencies");
    });

    it("ships a package.json with runtime dependencies only, and no scripts to run on install", () => {
        const shipped = JSON.parse(readFileSync(path.join(packDir, "package.json"), "utf8"));
        assert.deepEqual(Object.keys(shipped.dependencies).sort(), Object.keys(rootManifest().dependencies).sort());
        assert.equal(shipped.devDependencies, undefined);
        assert.equal(shipped.scripts, undefined);
        assert.equal(shipped.workspaces, undefined);
    });

    it("pins the runtime tree with a shrinkwrap at the versions package-lock.json holds", () => {
        const shrinkwrap = JSON.parse(readFileSync(path.join(packDir, "npm-shrinkwrap.json"), "utf8"));
        const lock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
        const pinned = Object.entries(shrinkwrap.packages as Record<string, { version?: string }>).filter(([where]) => where !== "");
        assert.ok(pinned.length > 50, `only ${pinned.length} packages pinned`);
        for (const [where, entry] of pinned) {
            assert.equal(entry.version, lock.packages[where]?.version, `${where} differs from package-lock.json`);
        }
    });

    it("installs the runtime tree only: no devDependency the pack's own dependencies do not need, no compiler", async () => {
        const shrinkwrap = JSON.parse(readFileSync(path.join(packDir, "npm-shrinkwrap.json"), "utf8"));
        const runtimeTree = shrinkwrap.packages as Record<string, { dependencies?: Record<string, string> }>;
        const { stdout } = await run("npm", ["ls", "--all", "--parseable"], { cwd: packDir });
        const installed = stdout.trim().split("\n").map((dir) => path.relative(packDir, dir)).filter((where) => where !== "");
        assert.deepEqual(installed.filter((where) => !(where in runtimeTree)), []);

        const isInstalled = (name: string) => existsSync(path.join(packDir, "node_modules", name, "package.json"));
        const neededAtRuntime = (name: string) => Object.values(runtimeTree).some((entry) => entry.dependencies?.[name] !== undefined);
        const devOnly = Object.keys(rootManifest().devDependencies).filter((name) => isInstalled(name) && !neededAtRuntime(name));
        assert.deepEqual(devOnly, []);
        assert.ok(!isInstalled("typescript") && !isInstalled("ts-node"), "a compiler got installed");
        for (const runtime of Object.keys(rootManifest().dependencies)) assert.ok(isInstalled(runtime), `${runtime} missing`);
    });

    it("starts as the CLI starts it and gives a verdict against the Graph emulator", async () => {
        const carol = user({ name: "carol", displayName: "Carol (analyst)" });
        const emulator = await startGraphEmulator({
            users: [{ id: String(carol.outputs.objectId), userPrincipalName: String(carol.outputs.userPrincipalName), perUserMfaState: "disabled" }],
        });
        const pack = await launchPolicyPack({ packDir, env: emulator.env() });
        try {
            // The harness would fall back to its own @pulumi/pulumi; the installed pack must bring one.
            assert.ok(existsSync(path.join(packDir, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack", "index.js")));
            const run = await preview(pack, [stack(), carol, roleAssignment({ name: "carol-reader", principal: carol, role: AZURE_ROLE.Reader })]);
            const verdicts = run.stack.filter((d) => d.policyName === "entra-non-privileged-user-mfa");
            assert.equal(verdicts.length, 1, JSON.stringify(run.stack));
            assert.equal(verdicts[0].enforcementLevel, "mandatory");
            assert.equal(verdicts[0].urn, carol.urn);
            assert.ok(verdicts[0].message.includes(String(carol.outputs.userPrincipalName)), verdicts[0].message);
            console.log(`      (installed in ${installSeconds.toFixed(1)} s; started in ${Math.round(pack.startMs)} ms)`);
        } finally {
            await pack.close();
            await emulator.close();
        }
    });
});
