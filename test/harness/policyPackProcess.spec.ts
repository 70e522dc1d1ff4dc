import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

import { policyAnalyze, preview } from "./engineSequence";
import { formatDiagnostics } from "./formatDiagnostics";
import { launchPolicyPack, PolicyPackProcess } from "./policyPackProcess";
import { secret, StackResource, UNKNOWN, urnOf } from "./stackResource";

/** The fixtures stay in the source tree, beside this file's source, while the spec runs from bin/. */
function fixtureDir(name: string): string {
    let dir = __dirname;
    while (!fs.existsSync(path.join(dir, "package.json"))) {
        const parent = path.dirname(dir);
        assert.notStrictEqual(parent, dir, "no package.json above the spec");
        dir = parent;
    }
    return path.join(dir, "test", "harness", name);
}

const barePackDir = fixtureDir("bare-pack");

function resourceOf(type: string, name: string, inputs: Record<string, unknown> = {}, outputs: Record<string, unknown> = inputs): StackResource {
    return { urn: urnOf(type, name), type, name, inputs, outputs };
}

describe("launchPolicyPack", () => {
    let pack: PolicyPackProcess | undefined;
    afterEach(async () => {
        await pack?.close();
        pack = undefined;
    });

    it("reads the gRPC port from the pack's first stdout line and times the start", async () => {
        pack = await launchPolicyPack({ packDir: barePackDir });

        assert.ok(Number.isInteger(pack.port) && pack.port > 0, `port ${pack.port}`);
        assert.strictEqual(pack.stdout[0], String(pack.port));
        assert.ok(pack.startMs > 0 && pack.startMs < 30_000, `startMs ${pack.startMs}`);
        assert.strictEqual((await pack.analyzerInfo()).name, "bare-pack");
    });

    it("rejects a pack that prints to stdout before its port, showing what it printed", async () => {
        await assert.rejects(launchPolicyPack({ packDir: fixtureDir("noisy-pack") }), (error: Error) => {
            assert.match(error.message, /failed to start: the first stdout line must be the gRPC port, but it was "loading noisy-pack"/);
            assert.match(error.message, /stdout:\n {4}loading noisy-pack/);
            return true;
        });
    });

    it("rejects a pack that exits before printing its port, showing its stderr", async () => {
        const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), "no-pack-"));
        try {
            await assert.rejects(launchPolicyPack({ packDir: emptyDir }), (error: Error) => {
                assert.match(error.message, /exited with code 32 before printing its port/);
                assert.match(error.message, /stderr:\n {4}We failed to locate the entry point/);
                return true;
            });
        } finally {
            fs.rmSync(emptyDir, { recursive: true, force: true });
        }
    });

    it("rejects a pack that does not print its port in time", async () => {
        await assert.rejects(launchPolicyPack({ packDir: barePackDir, startTimeoutMs: 1 }), /no port line within 1 ms/);
    });

    it("passes the engine's stack variables and the caller's env to the pack", async () => {
        // The bare pack cannot show its environment, so a throwaway pack writes it to stderr, which the start ignores.
        const envPackDir = fs.mkdtempSync(path.join(os.tmpdir(), "env-pack-"));
        try {
            const policySdk = JSON.stringify(require.resolve("@pulumi/policy"));
            fs.writeFileSync(path.join(envPackDir, "package.json"), JSON.stringify({ name: "env-pack", version: "1.0.0", main: "index.js" }));
            fs.writeFileSync(
                path.join(envPackDir, "index.js"),
                "const env = process.env;\n" +
                    "console.error(JSON.stringify({ stack: env.PULUMI_NODEJS_STACK, dryRun: env.PULUMI_NODEJS_DRY_RUN, extra: env.HARNESS_EXTRA }));\n" +
                    `new (require(${policySdk}).PolicyPack)("env-pack", { policies: [] });\n`,
            );

            pack = await launchPolicyPack({ packDir: envPackDir, env: { HARNESS_EXTRA: "from the test" }, stack: { stack: "prod", dryRun: false } });

            assert.deepStrictEqual(JSON.parse(pack.stderr[0]), { stack: "prod", dryRun: "false", extra: "from the test" });
        } finally {
            await pack?.close();
            fs.rmSync(envPackDir, { recursive: true, force: true });
        }
    });

    it("starts a pack with no stack variables at all for `pulumi policy analyze`, not even the caller's", async () => {
        const envPackDir = fs.mkdtempSync(path.join(os.tmpdir(), "env-pack-"));
        const callerStack = process.env.PULUMI_NODEJS_STACK;
        try {
            const policySdk = JSON.stringify(require.resolve("@pulumi/policy"));
            fs.writeFileSync(path.join(envPackDir, "package.json"), JSON.stringify({ name: "env-pack", version: "1.0.0", main: "index.js" }));
            fs.writeFileSync(
                path.join(envPackDir, "index.js"),
                "console.error(JSON.stringify(Object.keys(process.env).filter((name) => /^PULUMI_(NODEJS_)?(ORGANIZATION|PROJECT|STACK|DRY_RUN|CONFIG)$/.test(name))));\n" +
                    `new (require(${policySdk}).PolicyPack)("env-pack", { policies: [] });\n`,
            );
            process.env.PULUMI_NODEJS_STACK = "leaked-from-the-caller";

            pack = await launchPolicyPack({ packDir: envPackDir, stack: null });

            assert.deepStrictEqual(JSON.parse(pack.stderr[0]), []);
            assert.strictEqual(pack.stackContext, undefined);
        } finally {
            if (callerStack === undefined) delete process.env.PULUMI_NODEJS_STACK;
            else process.env.PULUMI_NODEJS_STACK = callerStack;
            await pack?.close();
            fs.rmSync(envPackDir, { recursive: true, force: true });
        }
    });
});

describe("PolicyPackProcess against the bare pack", () => {
    let pack: PolicyPackProcess;
    before(async () => {
        pack = await launchPolicyPack({ packDir: barePackDir });
    });
    after(async () => {
        await pack?.close();
    });
    beforeEach(async () => {
        await pack.configureStack();
        await pack.configure();
    });

    const flagged = resourceOf("test:index:Flagged", "legacy");

    describe("analyzerInfo", () => {
        it("decodes the pack and every policy's metadata to plain values", async () => {
            const info = await pack.analyzerInfo();

            assert.strictEqual(info.name, "bare-pack");
            assert.strictEqual(info.version, "0.0.1");
            assert.strictEqual(info.supportsConfig, true);
            assert.deepStrictEqual(info.initialConfig, {});
            assert.deepStrictEqual(
                info.policies.map((policy) => [policy.name, policy.policyType, policy.enforcementLevel]),
                [
                    ["flagged-resource", "resource", "advisory"],
                    ["secret-length", "resource", "mandatory"],
                    ["dependency-report", "stack", "advisory"],
                ],
            );
            assert.deepStrictEqual(info.policies[0], {
                name: "flagged-resource",
                displayName: "Flagged resource",
                description: "Flags every resource of type test:index:Flagged.",
                message: "",
                enforcementLevel: "advisory",
                policyType: "resource",
                configSchema: {
                    type: "object",
                    properties: { reason: { type: "string", default: "flagged by default" }, suffix: { type: "string" } },
                },
                severity: "low",
                framework: {
                    name: "harness",
                    version: "1.0",
                    reference: "HARNESS-1",
                    specification: "Resources of type test:index:Flagged are reported.",
                },
                remediationSteps: "Use another resource type.",
                url: "https://www.pulumi.com/docs/iac/using-pulumi/crossguard/",
                tags: ["harness", "resource"],
            });
        });
    });

    describe("configure", () => {
        it("sends every policy its level and its schema defaults when the user sets nothing", async () => {
            const sent = await pack.configure();

            assert.deepStrictEqual(sent, {
                "flagged-resource": { enforcementLevel: "advisory", properties: { reason: "flagged by default" } },
                "secret-length": { enforcementLevel: "mandatory", properties: {} },
                "dependency-report": { enforcementLevel: "advisory", properties: {} },
            });
            const [diagnostic] = await pack.analyze(flagged);
            assert.strictEqual(diagnostic.message, "Flags every resource of type test:index:Flagged.\nlegacy: flagged by default; labels=null");
        });

        it("merges the user's values over the schema defaults", async () => {
            await pack.configure({ "flagged-resource": { suffix: "!" } });

            const [diagnostic] = await pack.analyze(flagged);
            assert.match(diagnostic.message, /legacy: flagged by default!; labels=null$/);
        });

        it("applies `all` first and a policy's own level over it", async () => {
            const sent = await pack.configure({ all: "disabled", "secret-length": { enforcementLevel: "advisory" } });

            assert.deepStrictEqual(
                Object.entries(sent).map(([name, entry]) => [name, entry.enforcementLevel]),
                [
                    ["flagged-resource", "disabled"],
                    ["secret-length", "advisory"],
                    ["dependency-report", "disabled"],
                ],
            );
            assert.deepStrictEqual(await pack.analyze(flagged), []);
            const secretive = resourceOf("test:index:Secretive", "app", { password: "abc" });
            assert.deepStrictEqual(
                (await pack.analyze(secretive)).map((diagnostic) => diagnostic.enforcementLevel),
                ["advisory"],
            );
        });

        it("rejects a value that breaks the policy's config schema, as the engine does", async () => {
            await assert.rejects(
                pack.configure({ "flagged-resource": { reason: 42 } }),
                /^Error: validating policy config\nvalidating policy config: bare-pack 0\.0\.1 {2}flagged-resource: reason: must be string$/,
            );
        });

        it("rejects an enforcement level the engine does not know", async () => {
            await assert.rejects(
                pack.configure({ "flagged-resource": "strict" as "advisory" }),
                /parsing enforcement level for "flagged-resource": "strict" is not a valid enforcement level/,
            );
        });

        it("rejects config for a policy the pack does not have", async () => {
            await assert.rejects(pack.configure({ "flaged-resource": "mandatory" }), /names "flaged-resource", which is not a policy of the pack/);
        });
    });

    describe("analyze", () => {
        it("returns the violation of a flagged resource, decoded", async () => {
            const diagnostics = await pack.analyze(flagged);

            assert.deepStrictEqual(diagnostics, [
                {
                    policyName: "flagged-resource",
                    policyPackName: "bare-pack",
                    policyPackVersion: "0.0.1",
                    description: "Flags every resource of type test:index:Flagged.",
                    message: "Flags every resource of type test:index:Flagged.\nlegacy: flagged by default; labels=null",
                    enforcementLevel: "advisory",
                    severity: "low",
                },
            ]);
        });

        it("returns nothing for a resource no policy flags", async () => {
            assert.deepStrictEqual(await pack.analyze(resourceOf("test:index:Plain", "ordinary", { labels: { a: "b" } })), []);
        });

        it("carries nested objects, arrays and nulls intact", async () => {
            const labels = { team: ["identity", { oncall: true, rota: [1, 2] }], empty: [], none: null, deep: { er: { est: "x" } } };

            const [diagnostic] = await pack.analyze(resourceOf("test:index:Flagged", "legacy", { labels }));

            // Struct fields travel as a protobuf map, so key order is not kept; values are.
            const echoed = diagnostic.message.slice(diagnostic.message.indexOf("; labels=") + "; labels=".length);
            assert.deepStrictEqual(JSON.parse(echoed), labels);
        });

        it("unwraps a secret for the policy, which reports its length without the pack ever printing it", async () => {
            const password = "correct horse battery";

            const diagnostics = await pack.analyze(resourceOf("test:index:Secretive", "app", { password: secret(password) }));

            assert.deepStrictEqual(
                diagnostics.map((diagnostic) => [diagnostic.enforcementLevel, diagnostic.message.split("\n")[1]]),
                [["mandatory", `password has ${password.length} characters`]],
            );
            assert.ok(!JSON.stringify(diagnostics).includes(password));
            assert.ok(![...pack.stdout, ...pack.stderr].some((line) => line.includes(password)));
        });

        it("makes the SDK skip a policy that reads an unknown value, with an advisory, as in a preview", async () => {
            const diagnostics = await pack.analyze(resourceOf("test:index:Secretive", "app", { password: UNKNOWN }));

            assert.deepStrictEqual(
                diagnostics.map((diagnostic) => [diagnostic.policyName, diagnostic.enforcementLevel, diagnostic.message]),
                [
                    [
                        "secret-length",
                        "advisory",
                        "can't run policy 'secret-length' from policy pack 'bare-pack@v0.0.1' during preview: " +
                            "string value at .password can't be known during preview",
                    ],
                ],
            );
        });
    });

    describe("analyzeStack", () => {
        const group = resourceOf("test:index:Group", "admins", { displayName: "Admins" }, { displayName: "Admins", objectId: "group-object-id" });
        const member: StackResource = {
            ...resourceOf("test:index:Member", "alice-in-admins", { groupObjectId: "group-object-id" }),
            parent: group.urn,
            dependencies: [group.urn],
            propertyDependencies: { groupObjectId: [group.urn] },
        };

        it("sees outputs and resolves parents and property dependencies to resources", async () => {
            const diagnostics = await pack.analyzeStack([group, member]);

            assert.deepStrictEqual(
                diagnostics.map((diagnostic) => [diagnostic.urn, diagnostic.message.split("\n")[1]]),
                [
                    [member.urn, "alice-in-admins is a child of admins"],
                    [member.urn, "alice-in-admins.groupObjectId <- admins (objectId group-object-id)"],
                ],
            );
        });

        it("drops property dependencies on resources outside the stack, as the SDK does", async () => {
            const orphan = { ...member, parent: undefined, propertyDependencies: { groupObjectId: [urnOf("test:index:Group", "elsewhere")] } };

            const diagnostics = await pack.analyzeStack([orphan]);

            assert.deepStrictEqual(
                diagnostics.map((diagnostic) => diagnostic.message.split("\n")[1]),
                ["alice-in-admins.groupObjectId <- "],
            );
        });

        it("reports the SDK's preview advisory when a stack policy reads an unknown output", async () => {
            const pendingGroup = { ...group, outputs: { displayName: "Admins", objectId: UNKNOWN } };

            const diagnostics = await pack.analyzeStack([pendingGroup, { ...member, parent: undefined }]);

            assert.deepStrictEqual(
                diagnostics.map((diagnostic) => [diagnostic.policyName, diagnostic.enforcementLevel, diagnostic.message]),
                [
                    [
                        "dependency-report",
                        "advisory",
                        "can't run policy 'dependency-report' from policy pack 'bare-pack@v0.0.1' during preview: " +
                            "string value at .objectId can't be known during preview",
                    ],
                ],
            );
        });
    });

    describe("policyAnalyze", () => {
        it("refuses a pack started for a stack: the command starts packs before it knows one", async () => {
            await assert.rejects(policyAnalyze(pack, []), /launch it with `stack: null`/);
        });

        it("sends GetAnalyzerInfo and Configure, then Analyze per resource and one AnalyzeStack, and never ConfigureStack", async () => {
            const analyzing = await launchPolicyPack({ packDir: barePackDir, stack: null });
            try {
                const flagged = resourceOf("test:index:Flagged", "legacy", { reason: "legacy type" });
                const run = await policyAnalyze(analyzing, [flagged, resourceOf("test:index:Plain", "fine")]);
                assert.deepStrictEqual(analyzing.calls, ["GetAnalyzerInfo", "Configure", "Analyze", "Analyze", "AnalyzeStack"]);
                assert.deepStrictEqual(run.analyze.map((diagnostic) => [diagnostic.policyName, diagnostic.urn]), [["flagged-resource", flagged.urn]]);
            } finally {
                await analyzing.close();
            }
        });
    });

    describe("preview", () => {
        it("runs the engine's sequence and attributes resource violations to their resources", async () => {
            const group = resourceOf("test:index:Group", "admins", {}, { objectId: "group-object-id" });
            const app = resourceOf("test:index:Secretive", "app", { password: secret("hunter22") });
            const member: StackResource = { ...resourceOf("test:index:Member", "bob"), propertyDependencies: { groupObjectId: [group.urn] } };

            const run = await preview(pack, [flagged, group, app, member], { "flagged-resource": { reason: "legacy type" } });

            assert.deepStrictEqual(
                run.analyze.map((diagnostic) => [diagnostic.policyName, diagnostic.urn]),
                [
                    ["flagged-resource", flagged.urn],
                    ["secret-length", app.urn],
                ],
            );
            assert.deepStrictEqual(
                run.stack.map((diagnostic) => [diagnostic.policyName, diagnostic.urn]),
                [["dependency-report", member.urn]],
            );
            assert.strictEqual(
                formatDiagnostics([...run.analyze, ...run.stack], {
                    packs: [{ name: "bare-pack", version: "0.0.1", localPath: "test/harness/bare-pack" }],
                }),
                [
                    "Policies:",
                    "    ❌ bare-pack@v0.0.1 (local: test/harness/bare-pack)",
                    "        - [advisory]  dependency-report  (test:index:Member: bob)",
                    "          Reports each resource's parent and the resources its properties came from.",
                    "          bob.groupObjectId <- admins (objectId group-object-id)",
                    "        - [advisory]  flagged-resource  (test:index:Flagged: legacy)",
                    "          Flags every resource of type test:index:Flagged.",
                    "          legacy: legacy type; labels=null",
                    "        - [mandatory]  secret-length  (test:index:Secretive: app)",
                    "          Reports how long a resource's password is, never the password itself.",
                    "          password has 8 characters",
                ].join("\n"),
            );
        });
    });
});
