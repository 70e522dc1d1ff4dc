import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { GraphEmulator, startGraphEmulator } from "../emulator/graphEmulator";
import { AZURE_ROLE, provider, roleAssignment, stack, storageAccount, user } from "../fixtures/resources";
import { launchPolicyPack, PolicyPackConfig, PolicyRun, preview, secret, StackContext, StackResource, urnOf } from "../harness";
import { MFA_POLICY, PACK_DIR, tenantUser, UNVERIFIED_POLICY } from "./packUnderTest";

/** Security properties of the pack, checked through the engine protocol against the Graph emulator. */
describe("security", function () {
    this.timeout(60_000);
    let emulator: GraphEmulator;
    let scratch: string;

    before(async () => {
        emulator = await startGraphEmulator();
        scratch = await fs.mkdtemp(path.join(os.tmpdir(), "entra-mfa-guard-security-"));
    });
    after(async () => {
        await emulator?.close();
        if (scratch) await fs.rm(scratch, { recursive: true, force: true });
    });
    beforeEach(() => {
        emulator.reset();
        for (const id of [...emulator.users.keys()]) emulator.removeUser(id);
    });

    function inTenant(resource: StackResource, state: string | null): StackResource {
        emulator.upsertUser(tenantUser(resource, state));
        return resource;
    }

    describe("the Graph endpoint allowlist", () => {
        /** Takes any connection made to it; a refused endpoint that points here must never be dialled. */
        let canary: net.Server;
        let canaryConnections = 0;

        before(async () => {
            canary = net.createServer((socket) => {
                canaryConnections++;
                socket.destroy();
            });
            await new Promise<void>((resolve) => canary.listen(0, "127.0.0.1", resolve));
        });
        after(async () => {
            await new Promise<void>((resolve) => canary?.close(() => resolve()));
        });

        const canaryPort = () => (canary.address() as net.AddressInfo).port;
        const refusedEndpoints: [string, () => string][] = [
            ["a look-alike host under another domain", () => "https://graph.microsoft.com.evil.example"],
            ["a private address", () => "https://10.0.0.1"],
            ["plain http, even on loopback", () => `http://127.0.0.1:${canaryPort()}`],
            ["a name that only resolves to loopback through someone's DNS", () => `https://127.0.0.1.nip.io:${canaryPort()}`],
            ["credentials in the URL", () => `https://user:pass@127.0.0.1:${canaryPort()}`],
            ["a path after the service root", () => `https://127.0.0.1:${canaryPort()}/v1.0`],
        ];

        for (const [what, endpointOf] of refusedEndpoints) {
            it(`refuses ${what}, before any request, so no token is fetched or sent`, async () => {
                const endpoint = endpointOf();
                const reader = inTenant(user({ name: "reader" }), "disabled");
                const connectionsBefore = canaryConnections;
                const { run, elapsedMs } = await previewInFreshPack([reader], { env: { ENTRA_MFA_GUARD_GRAPH_ENDPOINT: endpoint } });

                assert.deepEqual(emulator.requests, [], "the pack asked the token service or Graph");
                assert.equal(canaryConnections, connectionsBefore, "the pack connected to the refused endpoint");
                assert.deepEqual(stackDiagnostics(run, MFA_POLICY), [], "a user was failed without evidence");
                const unverified = stackDiagnostics(run, UNVERIFIED_POLICY).map((d) => d.message);
                assert.ok(unverified.length > 0 && unverified.every((m) => m.includes("ENTRA_MFA_GUARD_GRAPH_ENDPOINT is refused")), unverified.join("\n"));
                // A request to 10.0.0.1 would wait out the 30 s request timeout; a refusal takes no I/O at all.
                assert.ok(elapsedMs < 5_000, `the preview took ${Math.round(elapsedMs)} ms`);
            });
        }

        it("accepts the loopback emulator itself, so the refusals above are the allowlist's doing", async () => {
            const reader = inTenant(user({ name: "reader" }), "disabled");
            const { run } = await previewInFreshPack([reader]);
            assert.deepEqual(stackDiagnostics(run, MFA_POLICY).map((d) => d.urn), [reader.urn]);
            assert.ok(emulator.requests.some((request) => request.endpoint === "token"));
        });
    });

    describe("no token, client secret or secret property value is ever printed or written", () => {
        const propertySecret = () => `S3CRET-${randomBytes(8).toString("hex")}`;

        /** A user with secrets where the pack never looks: its password, and a nested property. */
        function userWithSecrets(name: string, secrets: string[]): StackResource {
            const password = propertySecret();
            const nested = propertySecret();
            secrets.push(password, nested);
            const resource = user({ name, password });
            const extra = { extensionAttributes: { badgeCode: secret(nested) } };
            return { ...resource, inputs: { ...resource.inputs, ...extra }, outputs: { ...resource.outputs, ...extra } };
        }

        /** The report file in the format `extension` chooses, and the GitHub step summary. */
        function reportFiles(label: string, extension: ".json" | ".sarif" | ".md"): { env: Record<string, string>; paths: string[] } {
            const report = path.join(scratch, `${label}-report${extension}`);
            const summary = path.join(scratch, `${label}-step-summary.md`);
            return { env: { ENTRA_MFA_GUARD_REPORT: report, GITHUB_STEP_SUMMARY: summary }, paths: [report, summary] };
        }

        function assertNothingSecretIn(texts: string[], secrets: string[]): void {
            const everything = texts.join("\n");
            assert.ok(secrets.length > 0 && secrets.every((s) => s.length >= 16), "the check needs real secrets to look for");
            assert.deepEqual(secrets.filter((s) => everything.includes(s)).map((s) => `${s.slice(0, 4)}…`), [], "a secret was printed or written");
            assert.ok(!/Bearer\s/i.test(everything), "an Authorization header was printed or written");
        }

        async function readReports(paths: string[], mustName: string): Promise<string[]> {
            const contents = await Promise.all(paths.map((file) => fs.readFile(file, "utf8")));
            contents.forEach((content, index) => assert.ok(content.includes(mustName), `${paths[index]} does not name ${mustName}; the check would be empty`));
            return contents;
        }

        it("in a normal run, with the Azure SDK's verbose logging on", async () => {
            const secrets = [emulator.clientSecret];
            const reader = inTenant(userWithSecrets("reader", secrets), "disabled");
            const files = reportFiles("normal", ".json");
            const { run, printed } = await previewInFreshPack([stack(), reader], { env: { ...files.env, AZURE_LOG_LEVEL: "verbose" } });

            assert.deepEqual(stackDiagnostics(run, MFA_POLICY).map((d) => d.urn), [reader.urn]);
            assert.ok(emulator.issuedTokens.length >= 1);
            const reports = await readReports(files.paths, String(reader.outputs.userPrincipalName));
            assertNothingSecretIn([...printed, ...reports], [...secrets, ...emulator.issuedTokens]);
        });

        it("when the token expires mid-run (401) and the credential is asked again", async () => {
            const secrets = [emulator.clientSecret];
            const before = inTenant(userWithSecrets("before", secrets), "disabled");
            const after = inTenant(userWithSecrets("after", secrets), "disabled");
            const files = reportFiles("401", ".sarif");
            const tokensBefore = emulator.issuedTokens.length;
            const pack = await launchPolicyPack({ packDir: PACK_DIR, env: { ...emulator.env(), ...files.env } });
            let runs: PolicyRun[];
            try {
                const first = await preview(pack, [before]);
                emulator.expireAllTokens();
                const second = await preview(pack, [after]);
                runs = [first, second];
            } finally {
                await pack.close();
            }

            assert.ok(emulator.requests.some((request) => request.status === 401), "no request met an expired token");
            assert.equal(emulator.issuedTokens.length - tokensBefore, 2, "the credential was not asked again exactly once");
            assert.deepEqual(stackDiagnostics(runs[1], MFA_POLICY).map((d) => d.urn), [after.urn]);
            assert.deepEqual(stackDiagnostics(runs[1], UNVERIFIED_POLICY), []);
            const reports = await readReports(files.paths, String(after.outputs.userPrincipalName));
            const printed = [...pack.stdout, ...pack.stderr, ...runs.flatMap((run) => [...run.analyze, ...run.stack].map((d) => JSON.stringify(d)))];
            assertNothingSecretIn([...printed, ...reports], [...secrets, ...emulator.issuedTokens]);
        });

        it("when the credential gets no token", async () => {
            const wrongSecret = `wrong-${randomBytes(12).toString("hex")}`;
            const secrets = [emulator.clientSecret, wrongSecret];
            const reader = inTenant(userWithSecrets("reader", secrets), "disabled");
            const files = reportFiles("credential", ".md");
            const { run, printed } = await previewInFreshPack([reader], { env: { ...files.env, AZURE_CLIENT_SECRET: wrongSecret, AZURE_LOG_LEVEL: "verbose" } });

            assert.deepEqual(stackDiagnostics(run, MFA_POLICY), []);
            assert.match(stackDiagnostics(run, UNVERIFIED_POLICY)[0]?.message ?? "", /no Azure credential gave a token/);
            assert.ok(emulator.requests.some((request) => request.endpoint === "token" && request.status >= 400), "the token service was not asked");
            const reports = await readReports(files.paths, String(reader.outputs.userPrincipalName));
            assertNothingSecretIn([...printed, ...reports], [...secrets, ...emulator.issuedTokens]);
        });
    });

    describe("exemptions come only from the pack's policy config", () => {
        const upn = "reader@contoso.onmicrosoft.com";
        const claims = { exemptions: [{ user: upn, reason: "break-glass account" }], mfaExempt: true, tags: { mfaExempt: "true", [MFA_POLICY]: "exempt" } };

        function withClaims(resource: StackResource): StackResource {
            return { ...resource, inputs: { ...resource.inputs, ...claims }, outputs: { ...resource.outputs, ...claims } };
        }

        function renamed(resource: StackResource, name: string): StackResource {
            return { ...resource, name, urn: urnOf(resource.type, name) };
        }

        const exemptingResources: [string, (reader: StackResource) => StackResource[]][] = [
            ["the user's own properties and tags", (reader) => [withClaims(reader)]],
            ["the role assignment that grants its role", (reader) => [reader, withClaims(roleAssignment({ name: "reader-reader", principal: reader, role: AZURE_ROLE.Reader }))]],
            ["the stack's outputs (exports)", (reader) => [stack({ exports: { ...claims, [MFA_POLICY]: { exemptions: claims.exemptions } } }), reader]],
            ["a resource named like the config key or the policy", (reader) => [reader, withClaims(renamed(storageAccount({ name: "x" }), "exemptions")), withClaims(renamed(storageAccount({ name: "y" }), MFA_POLICY))]],
            ["a provider's configuration", (reader) => [withClaims(provider("azuread")), reader]],
            ["a resource of a type the pack does not know", (reader) => [reader, { ...withClaims(renamed(storageAccount({ name: "z" }), "mfa-exemptions")), type: "entra-mfa-guard:index:Exemption", urn: urnOf("entra-mfa-guard:index:Exemption", "mfa-exemptions") }]],
        ];

        for (const [where, stackWith] of exemptingResources) {
            it(`ignores an exemption claimed in ${where}`, async () => {
                const reader = inTenant(user({ name: "reader" }), "disabled");
                assert.equal(reader.outputs.userPrincipalName, upn);
                const { run } = await previewInFreshPack(stackWith(reader));
                assert.deepEqual(stackDiagnostics(run, MFA_POLICY).map((d) => d.urn), [reader.urn]);
            });
        }

        it("ignores an exemption claimed in the stack's config and tags", async () => {
            const reader = inTenant(user({ name: "reader" }), "disabled");
            const exemptions = JSON.stringify(claims.exemptions);
            const { run } = await previewInFreshPack([reader], {
                stack: {
                    config: { "identity:exemptions": exemptions, "entra-mfa-guard:exemptions": exemptions, [`identity:${MFA_POLICY}`]: JSON.stringify({ exemptions: claims.exemptions }) },
                    tags: { mfaExempt: "true", exemptions },
                },
            });
            assert.deepEqual(stackDiagnostics(run, MFA_POLICY).map((d) => d.urn), [reader.urn]);
        });

        it("honours the same exemption from the policy config, so the cases above could have passed the user", async () => {
            const reader = inTenant(user({ name: "reader" }), "disabled");
            const { run } = await previewInFreshPack(exemptingResources.flatMap(([, stackWith]) => stackWith(reader)).filter(uniqueUrns()), {
                config: { [MFA_POLICY]: { exemptions: claims.exemptions } },
            });
            assert.deepEqual(stackDiagnostics(run, MFA_POLICY), []);
            assert.ok(!stackDiagnostics(run, UNVERIFIED_POLICY).some((d) => d.urn === reader.urn));
        });
    });

    /** Launches the pack as `pulumi preview` does, runs one preview, and closes it; `elapsedMs` times the preview alone. */
    async function previewInFreshPack(
        resources: StackResource[],
        options: { env?: Record<string, string>; config?: PolicyPackConfig; stack?: Partial<StackContext> } = {},
    ): Promise<{ run: PolicyRun; printed: string[]; elapsedMs: number }> {
        const pack = await launchPolicyPack({ packDir: PACK_DIR, env: { ...emulator.env(), ...options.env }, stack: options.stack });
        let run: PolicyRun;
        let elapsedMs: number;
        try {
            const startedAt = performance.now();
            run = await preview(pack, resources, options.config);
            elapsedMs = performance.now() - startedAt;
        } finally {
            // Closing first lets every line the pack printed arrive before it is checked.
            await pack.close();
        }
        const printed = [...pack.stdout, ...pack.stderr, ...[...run.analyze, ...run.stack].map((d) => JSON.stringify(d))];
        return { run, printed, elapsedMs };
    }
});

function stackDiagnostics(run: PolicyRun, policy: string) {
    return run.stack.filter((d) => d.policyName === policy);
}

function uniqueUrns(): (resource: StackResource) => boolean {
    const seen = new Set<string>();
    return (resource) => !seen.has(resource.urn) && !!seen.add(resource.urn);
}
