import * as assert from "node:assert/strict";
import { promises as fs, readFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import AjvDraft04 from "ajv-draft-04";
import addFormats from "ajv-formats";
import type * as Sarif from "sarif";
import reportSchema from "../../policies/report/mfaReport.schema.json";
import { MfaReport } from "../../policies/report/reportTypes";
import {
    BUILT_IN_AUTHENTICATION_STRENGTHS,
    EmulatedConditionalAccessPolicy,
    FAULT_PATHS,
    GraphEmulator,
    startGraphEmulator,
} from "../emulator/graphEmulator";
import {
    AUTHENTICATION_STRENGTH,
    AZURE_ROLE,
    conditionalAccessPolicy,
    group,
    guidFrom,
    roleAssignment,
    stack,
    user,
} from "../fixtures/resources";
import { StackResource } from "../harness";
import { emulatorPerSuite, MFA_POLICY, PRIVILEGED_POLICY, runPack, sharedCauses, tenantUser, UNVERIFIED_POLICY, unverifiedUserDiagnostics } from "./packUnderTest";

const PER_USER_STATE = FAULT_PATHS.mfaRequirements;
const ANALYZE_TIME_ADVISORY = "entra-privileged-assignment-mfa-coverage";
const EVIDENCE_WITH_REGISTRATION = ["conditionalAccess", "securityDefaults", "perUserMfa", "registration"];

/** Microsoft's "Require multifactor authentication for all users" template, as the tenant lists it; each test changes one thing. */
function requireMfaForAllUsers(changes: Partial<EmulatedConditionalAccessPolicy> = {}): EmulatedConditionalAccessPolicy {
    return {
        id: guidFrom("ca:require-mfa-all-users"),
        displayName: "Require MFA for all users",
        state: "enabled",
        conditions: { users: { includeUsers: ["All"] }, applications: { includeApplications: ["All"] } },
        grantControls: { builtInControls: ["mfa"] },
        ...changes,
    };
}

/** Runs through the engine protocol against the Graph emulator: each evidence source decides (or not) as `pulumi preview` shows it. */
describe("MFA evidence sources, through the engine protocol", function () {
    this.timeout(60_000);
    let emulator!: GraphEmulator;
    emulatorPerSuite((started) => (emulator = started));

    function inTenant(resource: StackResource, state: string | null | undefined, registration: { isMfaCapable?: boolean } = {}): StackResource {
        emulator.upsertUser({ ...tenantUser(resource, state), ...registration });
        return resource;
    }

    /** A non-privileged and a privileged user, both with per-user MFA disabled: only other evidence can pass them. */
    function readerAndOwner(): { reader: StackResource; owner: StackResource; resources: StackResource[] } {
        const reader = inTenant(user({ name: "reader" }), "disabled");
        const owner = inTenant(user({ name: "owner" }), "disabled");
        return {
            reader,
            owner,
            resources: [
                stack(),
                reader,
                owner,
                roleAssignment({ name: "reader-reader", principal: reader, role: AZURE_ROLE.Reader }),
                roleAssignment({ name: "owner-owner", principal: owner, role: AZURE_ROLE.Owner }),
            ],
        };
    }

    describe("Conditional Access in the tenant", () => {
        it("passes every user, privileged or not, under an enabled policy requiring MFA for all users, without asking per-user state", async () => {
            emulator.setConditionalAccessPolicies([requireMfaForAllUsers()]);
            const { resources } = readerAndOwner();
            const run = await runPack(emulator, resources);
            // Every policy of the pack, the resource-level early warnings included.
            assert.deepEqual([...run.analyze, ...run.stack], []);
            assert.equal(emulator.countRequests(FAULT_PATHS.conditionalAccessPolicies), 1);
            assert.equal(emulator.countRequests(PER_USER_STATE), 0);
        });

        it("does not count a report-only policy, and says so", async () => {
            emulator.setConditionalAccessPolicies([requireMfaForAllUsers({ state: "enabledForReportingButNotEnforced" })]);
            const { reader, owner, resources } = readerAndOwner();
            const run = await runPack(emulator, resources);
            assert.deepEqual(run.of(MFA_POLICY).map((d) => d.urn), [reader.urn]);
            assert.deepEqual(run.of(PRIVILEGED_POLICY).map((d) => d.urn), [owner.urn]);
            for (const violation of [...run.of(MFA_POLICY), ...run.of(PRIVILEGED_POLICY)]) {
                assert.match(violation.message, /'Require MFA for all users' is report-only/);
            }
        });

        it("fails a user the policy excludes through a tenant group, naming the group", async () => {
            const breakGlass = inTenant(user({ name: "breakglass" }), "disabled");
            const covered = inTenant(user({ name: "covered" }), "disabled");
            const breakGlassGroup = { id: guidFrom("tenant-group:break-glass"), displayName: "Break-glass accounts", members: [String(breakGlass.outputs.objectId)] };
            emulator.upsertGroup(breakGlassGroup);
            emulator.setConditionalAccessPolicies([
                requireMfaForAllUsers({ conditions: { users: { includeUsers: ["All"], excludeGroups: [breakGlassGroup.id] }, applications: { includeApplications: ["All"] } } }),
            ]);
            const run = await runPack(emulator, [stack(), breakGlass, covered]);
            const violations = run.of(MFA_POLICY);
            assert.deepEqual(violations.map((d) => d.urn), [breakGlass.urn]);
            assert.match(violations[0].message, /'Require MFA for all users' excludes the user through group 'Break-glass accounts'/);
            assert.equal(emulator.countRequests(PER_USER_STATE), 1);
        });
    });

    describe("Conditional Access defined in the stack", () => {
        it("passes every user under an enabled stack policy requiring MFA for all users, without asking per-user state", async () => {
            const { resources } = readerAndOwner();
            // The Analyze-time advisory sees the owner's assignment alone, without the stack's policy, and may ask; this is about the stack rules.
            const run = await runPack(emulator, [...resources, conditionalAccessPolicy({ name: "require-mfa", displayName: "Require MFA (stack)" })], { config: { [ANALYZE_TIME_ADVISORY]: "disabled" } });
            assert.deepEqual(run.stack, []);
            assert.equal(emulator.countRequests(PER_USER_STATE), 0);
        });

        it("does not count a report-only stack policy, and says so", async () => {
            const { reader, owner, resources } = readerAndOwner();
            const policy = conditionalAccessPolicy({ name: "require-mfa", displayName: "Require MFA (stack)", state: "enabledForReportingButNotEnforced" });
            const run = await runPack(emulator, [...resources, policy]);
            assert.deepEqual(run.of(MFA_POLICY).map((d) => d.urn), [reader.urn]);
            assert.deepEqual(run.of(PRIVILEGED_POLICY).map((d) => d.urn), [owner.urn]);
            for (const violation of [...run.of(MFA_POLICY), ...run.of(PRIVILEGED_POLICY)]) {
                assert.match(violation.message, /'Require MFA \(stack\)' \(in this stack\) is report-only/);
            }
        });

        it("fails a stack user the stack policy excludes through a stack group, naming the group", async () => {
            const breakGlass = inTenant(user({ name: "breakglass" }), "disabled");
            const covered = inTenant(user({ name: "covered" }), "disabled");
            const breakGlassGroup = group({ name: "break-glass", displayName: "Break-glass (stack)", members: [breakGlass] });
            const policy = conditionalAccessPolicy({ name: "require-mfa", displayName: "Require MFA (stack)", excludedGroups: [breakGlassGroup] });
            const run = await runPack(emulator, [stack(), breakGlass, covered, breakGlassGroup, policy]);
            const violations = run.of(MFA_POLICY);
            assert.deepEqual(violations.map((d) => d.urn), [breakGlass.urn]);
            assert.match(violations[0].message, /'Require MFA \(stack\)' \(in this stack\) excludes the user through group 'Break-glass \(stack\)'/);
        });

        it("passes a user this preview creates when a stack policy requires MFA for all users", async () => {
            const newcomer = user({ name: "newcomer", preview: true });
            const run = await runPack(emulator, [
                stack({ preview: true }),
                newcomer,
                roleAssignment({ name: "newcomer-reader", principal: newcomer, role: AZURE_ROLE.Reader, preview: true }),
                conditionalAccessPolicy({ name: "require-mfa", preview: true }),
            ]);
            assert.deepEqual(run.stack, []);
            assert.ok(!run.output.includes("can't run policy"), run.output);
        });

        it("counts a built-in authentication strength named by the provider's path", async () => {
            const { resources } = readerAndOwner();
            const policy = conditionalAccessPolicy({ name: "phishing-resistant", authenticationStrengthPolicyId: AUTHENTICATION_STRENGTH["Phishing-resistant MFA"] });
            const run = await runPack(emulator, [...resources, policy], { config: { [ANALYZE_TIME_ADVISORY]: "disabled" } });
            assert.deepEqual(run.stack, []);
            assert.equal(emulator.countRequests(PER_USER_STATE), 0);
        });
    });

    describe("grant controls", () => {
        it("does not count MFA offered as OR with another control", async () => {
            emulator.setConditionalAccessPolicies([requireMfaForAllUsers({ grantControls: { operator: "OR", builtInControls: ["mfa", "compliantDevice"] } })]);
            const { reader, resources } = readerAndOwner();
            const run = await runPack(emulator, resources);
            const violations = run.of(MFA_POLICY);
            assert.deepEqual(violations.map((d) => d.urn), [reader.urn]);
            assert.match(violations[0].message, /'Require MFA for all users' lets users satisfy it with compliantdevice instead of MFA/);
        });

        it("counts a built-in authentication strength from the tenant", async () => {
            emulator.setConditionalAccessPolicies([
                requireMfaForAllUsers({ grantControls: { builtInControls: [], authenticationStrength: BUILT_IN_AUTHENTICATION_STRENGTHS.phishingResistantMfa } }),
            ]);
            const { resources } = readerAndOwner();
            const run = await runPack(emulator, resources);
            assert.deepEqual(run.stack, []);
            assert.equal(emulator.countRequests(PER_USER_STATE), 0);
        });
    });

    it("passes every user when security defaults are on, without asking per-user state", async () => {
        emulator.setSecurityDefaults(true);
        const { resources } = readerAndOwner();
        const run = await runPack(emulator, resources);
        assert.deepEqual(run.stack, []);
        assert.equal(emulator.countRequests(FAULT_PATHS.securityDefaults), 1);
        assert.equal(emulator.countRequests(PER_USER_STATE), 0);
    });

    describe("MFA registration", () => {
        function registeredReader(): StackResource {
            return inTenant(user({ name: "registered" }), "disabled", { isMfaCapable: true });
        }

        it("passes a user registered for MFA when registration is accepted", async () => {
            const reader = registeredReader();
            const run = await runPack(emulator, [stack(), reader], { config: { [MFA_POLICY]: { acceptedEvidence: EVIDENCE_WITH_REGISTRATION } } });
            assert.deepEqual(run.stack, []);
            assert.equal(emulator.countRequests(FAULT_PATHS.registrationDetails), 1);
        });

        it("does not accept registration by default, and never asks for it", async () => {
            const reader = registeredReader();
            const run = await runPack(emulator, [stack(), reader]);
            assert.deepEqual(run.of(MFA_POLICY).map((d) => d.urn), [reader.urn]);
            assert.equal(emulator.countRequests(FAULT_PATHS.registrationDetails), 0);
        });
    });

    it("reports users as unverified, not as violations, when the Conditional Access policies cannot be read (403)", async () => {
        emulator.faults.inject({ kind: "status", status: 403, path: FAULT_PATHS.conditionalAccessPolicies });
        const { reader, owner, resources } = readerAndOwner();
        const run = await runPack(emulator, resources);
        assert.deepEqual(run.of(MFA_POLICY), []);
        assert.deepEqual(run.of(PRIVILEGED_POLICY), []);
        const unverified = unverifiedUserDiagnostics(run);
        assert.deepEqual(unverified.map((d) => d.urn).sort(), [reader.urn, owner.urn].sort());
        for (const diagnostic of unverified) {
            assert.equal(diagnostic.enforcementLevel, "advisory");
            assert.match(diagnostic.message, /the tenant's Conditional Access policies could not be read \(.*HTTP 403/);
        }
        // Said once for both users, with the permission that fixes it.
        const [shared, ...more] = sharedCauses(run);
        assert.deepEqual(more, []);
        assert.match(shared, /Could not verify MFA for 2 users \(cause 1\):\n  the tenant's Conditional Access policies could not be read \(.*HTTP 403.*Policy\.Read\.All/);
        // The per-user state was read and said 'disabled': only the unreadable policies keep the verdict open.
        assert.equal(emulator.countRequests(PER_USER_STATE), 2);
    });
});

/** The CI report files, written by the pack itself as `pulumi preview` runs it with the variables set. */
describe("CI report files, through the engine protocol", function () {
    this.timeout(60_000);
    const PREVIOUS_STEP_SUMMARY = "## Build\n\nAn earlier step wrote this.\n\n";
    let emulator: GraphEmulator;
    let scratch: string;
    let secrets: string[];
    const users: Record<"passer" | "failer" | "unverifiable" | "breakglass" | "admin", StackResource> = {
        passer: user({ name: "passer" }),
        failer: user({ name: "failer" }),
        unverifiable: user({ name: "unverifiable" }),
        breakglass: user({ name: "breakglass" }),
        admin: user({ name: "admin", password: "Adm1n-Secret-Pa55-report" }),
    };
    const upnOf = (resource: StackResource) => String(resource.outputs.userPrincipalName);
    /** Every user's verdict, by UPN: the report must hold each one, whatever its verdict. */
    const EXPECTED_VERDICTS = {
        [upnOf(users.passer)]: "pass",
        [upnOf(users.failer)]: "fail",
        [upnOf(users.unverifiable)]: "unverified",
        [upnOf(users.breakglass)]: "exempt",
        [upnOf(users.admin)]: "fail",
    };
    const written: Record<"json" | "sarif" | "md", { report: string; summary: string }> = {
        json: { report: "", summary: "" },
        sarif: { report: "", summary: "" },
        md: { report: "", summary: "" },
    };

    /** A preview of the stack writing one format; the step summary starts with what an earlier step wrote. */
    async function runWithReport(extension: keyof typeof written): Promise<void> {
        const reportPath = path.join(scratch, `mfa-report.${extension}`);
        const summaryPath = path.join(scratch, `step-summary-${extension}.md`);
        await fs.writeFile(summaryPath, PREVIOUS_STEP_SUMMARY, "utf8");
        const run = await runPack(
            emulator,
            [
                stack(),
                ...Object.values(users),
                roleAssignment({ name: "passer-reader", principal: users.passer, role: AZURE_ROLE.Reader }),
                roleAssignment({ name: "failer-reader", principal: users.failer, role: AZURE_ROLE.Reader }),
                roleAssignment({ name: "admin-owner", principal: users.admin, role: AZURE_ROLE.Owner }),
            ],
            {
                config: { [MFA_POLICY]: { exemptions: [{ user: upnOf(users.breakglass), reason: "Emergency access account" }] } },
                env: { ENTRA_MFA_GUARD_REPORT: reportPath, GITHUB_STEP_SUMMARY: summaryPath },
            },
        );
        // The run itself must be the one described above, or the files prove nothing.
        assert.deepEqual(run.of(MFA_POLICY).map((d) => d.urn), [users.failer.urn]);
        assert.deepEqual(run.of(PRIVILEGED_POLICY).map((d) => d.urn), [users.admin.urn]);
        assert.deepEqual(unverifiedUserDiagnostics(run).map((d) => d.urn), [users.unverifiable.urn]);
        written[extension] = { report: await fs.readFile(reportPath, "utf8"), summary: await fs.readFile(summaryPath, "utf8") };
    }

    before(async () => {
        scratch = await fs.mkdtemp(path.join(os.tmpdir(), "entra-mfa-guard-reports-"));
        emulator = await startGraphEmulator();
        emulator.upsertUser(tenantUser(users.passer, "enabled"));
        for (const name of ["failer", "unverifiable", "breakglass", "admin"] as const) emulator.upsertUser(tenantUser(users[name], "disabled"));
        emulator.faults.inject({ kind: "status", status: 403, path: `/users/${users.unverifiable.outputs.objectId}/authentication/requirements` });
        // Separate processes with separate files, as three CI jobs would be: nothing they share changes.
        await Promise.all([runWithReport("json"), runWithReport("sarif"), runWithReport("md")]);
        secrets = [emulator.clientSecret, "Adm1n-Secret-Pa55-report", ...emulator.issuedTokens];
    });
    after(async () => {
        await emulator?.close();
        if (scratch) await fs.rm(scratch, { recursive: true, force: true });
    });

    it("writes a JSON report that validates against mfaReport.schema.json and holds every user's verdict and evidence", () => {
        const report = JSON.parse(written.json.report) as MfaReport;
        const validate = addFormats(new Ajv2020({ strict: true, allErrors: true })).compile(reportSchema);
        assert.equal(validate(report), true, JSON.stringify(validate.errors));
        assert.deepEqual(Object.fromEntries(report.entries.map((e) => [e.user.userPrincipalName, e.verdict])), EXPECTED_VERDICTS);
        assert.equal(report.entries.length, Object.keys(EXPECTED_VERDICTS).length);

        const entryOf = (resource: StackResource) => report.entries.find((e) => e.user.urn === resource.urn)!;
        assert.equal(entryOf(users.passer).decidedBy, "perUserMfa");
        assert.deepEqual(entryOf(users.passer).evidence.filter((e) => e.counted), [{ source: "perUserMfa", counted: true, detail: "per-user MFA state is 'enabled'" }]);
        assert.ok(entryOf(users.failer).evidence.some((e) => e.source === "perUserMfa" && !e.counted && /'disabled'/.test(e.detail)));
        assert.match(entryOf(users.unverifiable).reason, /HTTP 403/);
        assert.match(entryOf(users.breakglass).reason, /Emergency access account/);
        assert.equal(entryOf(users.admin).policy, PRIVILEGED_POLICY);
        assert.equal(entryOf(users.failer).policy, MFA_POLICY);
    });

    it("writes a SARIF report that validates against the SARIF 2.1.0 schema, with a result and its evidence for each user to act on", () => {
        const sarifSchemaPath = require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");
        // The schema's `language` pattern has a stray `]` that is legal only without the `u` flag.
        const ajv = new AjvDraft04({ strict: false, allErrors: true, unicodeRegExp: false });
        addFormats(ajv);
        const validate = ajv.compile(JSON.parse(readFileSync(sarifSchemaPath, "utf8")));
        const log = JSON.parse(written.sarif.report) as Sarif.Log;
        assert.equal(validate(log), true, JSON.stringify(validate.errors, null, 2));

        const results = log.runs[0].results ?? [];
        const byUpn = new Map(results.map((r) => [(r.properties?.user as { userPrincipalName?: string }).userPrincipalName, r]));
        assert.equal(byUpn.get(upnOf(users.failer))?.ruleId, MFA_POLICY);
        assert.equal(byUpn.get(upnOf(users.admin))?.ruleId, PRIVILEGED_POLICY);
        assert.equal(byUpn.get(upnOf(users.unverifiable))?.level, "note");
        for (const upn of [upnOf(users.failer), upnOf(users.admin), upnOf(users.unverifiable)]) {
            assert.equal(byUpn.get(upn)?.properties?.verdict, EXPECTED_VERDICTS[upn]);
            assert.ok(((byUpn.get(upn)?.properties?.evidence as unknown[] | undefined) ?? []).length > 0, `no evidence for ${upn}`);
        }
    });

    it("writes a Markdown report with a row per user, its verdict and the evidence", () => {
        const rows = written.md.report.split("\n").filter((line) => line.startsWith("| "));
        for (const [upn, verdict] of Object.entries(EXPECTED_VERDICTS)) {
            const row = rows.find((line) => line.startsWith(`| ${upn} |`));
            assert.ok(row, `no row for ${upn}`);
            assert.ok(row.startsWith(`| ${upn} | ${verdict} |`), row);
        }
        const passerRow = rows.find((line) => line.startsWith(`| ${upnOf(users.passer)} |`))!;
        assert.match(passerRow, /✓ per-user MFA: per-user MFA state is 'enabled'/);
        const failerRow = rows.find((line) => line.startsWith(`| ${upnOf(users.failer)} |`))!;
        assert.match(failerRow, /✗ per-user MFA: per-user MFA state is 'disabled'/);
    });

    it("appends exactly one summary section per run to GITHUB_STEP_SUMMARY, though each rule rewrites it", () => {
        for (const extension of ["json", "sarif", "md"] as const) {
            const { summary } = written[extension];
            assert.ok(summary.startsWith(PREVIOUS_STEP_SUMMARY), `the earlier step's summary was lost (${extension} run)`);
            assert.equal(summary.match(/^### entra-mfa-guard/gm)?.length, 1, summary);
            // The section kept is the last, holding both rules' users.
            assert.ok(summary.includes(upnOf(users.failer)) && summary.includes(upnOf(users.admin)), summary);
        }
    });

    it("writes no token, client secret or secret property value into any report or summary", () => {
        assert.ok(secrets.length >= 3, "the check needs at least one issued token to look for");
        const everything = Object.values(written).flatMap(({ report, summary }) => [report, summary]).join("\n");
        assert.deepEqual(secrets.filter((secret) => everything.includes(secret)).map((secret) => `${secret.slice(0, 4)}…`), []);
        assert.ok(!/Bearer\s|eyJ[\w-]+\./.test(everything));
    });
});
