import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import AjvDraft04 from "ajv-draft-04";
import addFormats from "ajv-formats";
import type * as Sarif from "sarif";
import reportSchema from "../../../policies/report/mfaReport.schema.json";
import {
    escapeMarkdown,
    formatForPath,
    PolicyDescription,
    renderGithubSummary,
    renderJson,
    renderMarkdown,
    renderSarif,
    wantsReports,
    writeReports,
} from "../../../policies/report/reportFiles";
import { MfaReport, ReportEntry } from "../../../policies/report/reportTypes";

const NON_PRIVILEGED = "entra-non-privileged-user-mfa";
const PRIVILEGED = "entra-privileged-user-mfa";
const STACK_URN = "urn:pulumi:prod::identity";
const userUrn = (name: string) => `${STACK_URN}::azuread:index/user:User::${name}`;
const assignmentUrn = (name: string) => `${STACK_URN}::azure-native:authorization:RoleAssignment::${name}`;

/** A failing non-privileged user in the stack at mandatory level; each case changes what it needs. */
function reportEntry(overrides: Partial<Omit<ReportEntry, "user">> & { user?: Partial<ReportEntry["user"]> } = {}): ReportEntry {
    const { user, ...rest } = overrides;
    return {
        policy: NON_PRIVILEGED,
        verdict: "fail",
        enforcementLevel: "mandatory",
        user: {
            displayName: "Bob Builder",
            userPrincipalName: "bob@contoso.example",
            objectId: "22222222-2222-4222-8222-222222222222",
            urn: userUrn("bob"),
            isGuest: false,
            accountEnabled: true,
            isNew: false,
            ...user,
        },
        roles: [
            {
                name: "Reader",
                reference: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
                system: "azure-rbac",
                assignmentUrn: assignmentUrn("bob-reader"),
            },
        ],
        evidence: [
            { source: "conditionalAccess", counted: false, detail: "CA policy 'Require MFA' is report-only" },
            { source: "perUserMfa", counted: false, detail: "per-user MFA state is 'disabled'" },
        ],
        reason: "User 'Bob Builder' has no multi-factor authentication.",
        remediation: "Turn on the CA policy 'Require MFA'.",
        reportedOn: userUrn("bob"),
        ...rest,
    };
}

function mfaReport(entries: ReportEntry[], problems: MfaReport["problems"] = []): MfaReport {
    return {
        tool: { name: "entra-mfa-guard", version: "0.1.0", informationUri: "https://example.com/entra-mfa-guard" },
        generatedAt: "2026-11-24T10:00:00.000Z",
        stack: { organization: "contoso", project: "identity", stack: "prod" },
        entries,
        problems,
    };
}

const ENTRIES = {
    pass: reportEntry({
        verdict: "pass",
        enforcementLevel: undefined,
        user: { displayName: "Alice Able", userPrincipalName: "alice@contoso.example", objectId: "11111111-1111-4111-8111-111111111111", urn: userUrn("alice") },
        evidence: [{ source: "conditionalAccess", counted: true, detail: "CA policy 'Require MFA' covers all users" }],
        decidedBy: "conditionalAccess",
        reason: "Covered by Conditional Access.",
        remediation: undefined,
        reportedOn: undefined,
    }),
    failMandatory: reportEntry(),
    failAdvisory: reportEntry({
        policy: PRIVILEGED,
        enforcementLevel: "advisory",
        user: { displayName: "Carol Admin", userPrincipalName: "carol@contoso.example", objectId: "33333333-3333-4333-8333-333333333333", urn: userUrn("carol") },
        roles: [
            {
                name: "Global Administrator",
                reference: "62e90394-69f5-4237-9190-012177145e10",
                system: "entra-directory",
                eligible: true,
                viaGroup: "Tier 0",
                assignmentUrn: `${STACK_URN}::azuread:index/directoryRoleEligibilityScheduleRequest:DirectoryRoleEligibilityScheduleRequest::carol-ga`,
            },
        ],
        reason: "Privileged user 'Carol Admin' has no multi-factor authentication.",
        reportedOn: userUrn("carol"),
    }),
    unverified: reportEntry({
        verdict: "unverified",
        enforcementLevel: "advisory",
        user: { displayName: "Dave Unknown", userPrincipalName: "dave@contoso.example", objectId: "44444444-4444-4444-8444-444444444444", urn: userUrn("dave") },
        evidence: [{ source: "perUserMfa", counted: false, detail: "Graph answered 403 Authorization_RequestDenied" }],
        reason: "Could not read Dave's per-user MFA state.",
        remediation: undefined,
        reportedOn: userUrn("dave"),
    }),
    exempt: reportEntry({
        verdict: "exempt",
        enforcementLevel: undefined,
        user: { displayName: "Break Glass", userPrincipalName: "breakglass@contoso.example", objectId: "55555555-5555-4555-8555-555555555555", urn: userUrn("breakglass") },
        evidence: [],
        reason: "Exempt until 2027-01-31: emergency access account.",
        remediation: undefined,
        reportedOn: undefined,
    }),
    outOfScope: reportEntry({
        verdict: "out-of-scope",
        enforcementLevel: undefined,
        user: { displayName: "Olga Owner", userPrincipalName: "olga@contoso.example", objectId: "66666666-6666-4666-8666-666666666666", urn: userUrn("olga") },
        roles: [{ name: "Owner", reference: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", system: "azure-rbac", assignmentUrn: assignmentUrn("olga-owner") }],
        evidence: [],
        reason: "Holds a privileged role (Owner); the privileged-user policy checks it.",
        remediation: undefined,
        reportedOn: undefined,
    }),
    newUser: reportEntry({
        user: { displayName: "Nina New", userPrincipalName: "nina@contoso.example", objectId: undefined, urn: userUrn("nina"), isNew: true },
        evidence: [{ source: "newAccount", counted: false, detail: "a new account starts with per-user MFA 'disabled'" }],
        reason: "User 'Nina New' will be created without multi-factor authentication.",
        reportedOn: userUrn("nina"),
    }),
    outsideStack: reportEntry({
        user: { displayName: "77777777-7777-4777-8777-777777777777", userPrincipalName: undefined, objectId: "77777777-7777-4777-8777-777777777777", urn: undefined, isGuest: true },
        roles: [{ name: "Contributor", reference: "b24988ac-6180-42a0-ab88-20f7382dd24c", system: "azure-rbac", assignmentUrn: assignmentUrn("outsider-contributor") }],
        reason: "Guest user with object id 77777777-7777-4777-8777-777777777777 has no multi-factor authentication.",
        reportedOn: assignmentUrn("outsider-contributor"),
    }),
    awkwardName: reportEntry({
        user: { displayName: "Eve | Ops\nTeam *lead*", userPrincipalName: "eve@contoso.example", objectId: "88888888-8888-4888-8888-888888888888", urn: userUrn("eve") },
        reason: "User 'Eve | Ops\nTeam' has no MFA.",
        reportedOn: userUrn("eve"),
    }),
} satisfies Record<string, ReportEntry>;

const FULL_REPORT = mfaReport(Object.values(ENTRIES), [{ urn: assignmentUrn("unknown-principal"), message: "principalId is unknown during preview" }]);

const POLICY_DESCRIPTIONS: PolicyDescription[] = [
    {
        name: NON_PRIVILEGED,
        displayName: "MFA for non-privileged Entra ID users",
        description: "Checks that every non-privileged Entra ID user has MFA.",
        enforcementLevel: "mandatory",
        severity: "high",
        tags: ["cis-azure-2.1.3", "mfa"],
        url: "https://learn.microsoft.com/entra/identity/authentication/howto-mfa-userstates",
        remediationSteps: "Require MFA through Conditional Access.",
    },
];

function parseSarif(text: string): Sarif.Log {
    return JSON.parse(text) as Sarif.Log;
}

function resultsOf(log: Sarif.Log): Sarif.Result[] {
    return log.runs[0].results ?? [];
}

function resultFor(log: Sarif.Log, entry: ReportEntry): Sarif.Result {
    const found = resultsOf(log).find((result) => (result.properties?.user as ReportEntry["user"]).displayName === entry.user.displayName);
    assert.ok(found, `no SARIF result for ${entry.user.displayName}`);
    return found;
}

/** The table's columns: `|` not preceded by a backslash. */
function unescapedPipes(line: string): number {
    return (line.match(/(?<!\\)\|/g) ?? []).length;
}

describe("renderJson", () => {
    const validateReport = addFormats(new Ajv2020({ strict: true, allErrors: true })).compile(reportSchema);

    it("validates against mfaReport.schema.json, with every optional field present", () => {
        const valid = validateReport(JSON.parse(renderJson(FULL_REPORT)));
        assert.equal(valid, true, JSON.stringify(validateReport.errors));
    });

    it("round-trips the report unchanged", () => {
        assert.deepEqual(JSON.parse(renderJson(FULL_REPORT)), JSON.parse(JSON.stringify(FULL_REPORT)));
    });

    it("writes the same text whatever order the fields were set in", () => {
        const entry = ENTRIES.failMandatory;
        const reordered = Object.fromEntries(Object.entries(entry).reverse()) as unknown as ReportEntry;
        assert.equal(renderJson(mfaReport([reordered])), renderJson(mfaReport([entry])));
        assert.match(renderJson(mfaReport([entry])), /^\{\n {2}"tool": \{\n {4}"name"/);
    });

    it("is checked by a schema that rejects an unknown verdict and an unknown field", () => {
        const unknownVerdict = JSON.parse(renderJson(FULL_REPORT));
        unknownVerdict.entries[0].verdict = "maybe";
        assert.equal(validateReport(unknownVerdict), false);
        const unknownField = JSON.parse(renderJson(FULL_REPORT));
        unknownField.entries[0].user.password = "x";
        assert.equal(validateReport(unknownField), false);
    });
});

describe("renderSarif", () => {
    const sarifSchemaPath = require.resolve("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json");
    const sarifSchema = JSON.parse(fs.readFileSync(sarifSchemaPath, "utf8"));
    // The schema's `language` pattern has a stray `]` that is legal only without the `u` flag.
    const ajv = new AjvDraft04({ strict: false, allErrors: true, unicodeRegExp: false });
    addFormats(ajv);
    const validateSarif = ajv.compile(sarifSchema);

    it("validates against the SARIF 2.1.0 schema", () => {
        for (const report of [FULL_REPORT, mfaReport([]), mfaReport([ENTRIES.pass])]) {
            const valid = validateSarif(JSON.parse(renderSarif(report, { policies: POLICY_DESCRIPTIONS })));
            assert.equal(valid, true, JSON.stringify(validateSarif.errors, null, 2));
        }
    });

    it("is checked by a schema that rejects a wrong level", () => {
        const log = JSON.parse(renderSarif(FULL_REPORT));
        log.runs[0].results[0].level = "fatal";
        assert.equal(validateSarif(log), false);
    });

    it("has one result per fail and unverified entry, none for pass, exempt or out of scope", () => {
        const log = parseSarif(renderSarif(FULL_REPORT));
        const reported = resultsOf(log).map((result) => (result.properties?.user as ReportEntry["user"]).displayName).sort();
        const expected = FULL_REPORT.entries.filter((entry) => entry.verdict === "fail" || entry.verdict === "unverified").map((entry) => entry.user.displayName);
        assert.deepEqual(reported, expected.sort());
        assert.equal(reported.length, 6);
    });

    it("makes a mandatory fail an error, an advisory fail a warning and an unverified user a note", () => {
        const log = parseSarif(renderSarif(FULL_REPORT));
        assert.equal(resultFor(log, ENTRIES.failMandatory).level, "error");
        assert.equal(resultFor(log, ENTRIES.failAdvisory).level, "warning");
        assert.equal(resultFor(log, ENTRIES.unverified).level, "note");
    });

    it("names each result's rule, and has one rule per policy that appears, pointed to by ruleIndex", () => {
        const log = parseSarif(renderSarif(FULL_REPORT));
        const rules = log.runs[0].tool.driver.rules ?? [];
        assert.deepEqual(rules.map((rule) => rule.id), [NON_PRIVILEGED, PRIVILEGED]);
        assert.equal(resultFor(log, ENTRIES.failAdvisory).ruleId, PRIVILEGED);
        for (const result of resultsOf(log)) assert.equal(rules[result.ruleIndex ?? -1].id, result.ruleId);
        const onlyPasses = parseSarif(renderSarif(mfaReport([ENTRIES.pass])));
        assert.deepEqual(onlyPasses.runs[0].tool.driver.rules?.map((rule) => rule.id), [NON_PRIVILEGED]);
        assert.deepEqual(resultsOf(onlyPasses), []);
    });

    it("describes a rule from the policy's metadata, tagged for code scanning's security view", () => {
        const log = parseSarif(renderSarif(FULL_REPORT, { policies: POLICY_DESCRIPTIONS }));
        const [nonPrivileged, privileged] = log.runs[0].tool.driver.rules ?? [];
        assert.equal(nonPrivileged.shortDescription?.text, "MFA for non-privileged Entra ID users");
        assert.equal(nonPrivileged.fullDescription?.text, "Checks that every non-privileged Entra ID user has MFA.");
        assert.equal(nonPrivileged.helpUri, "https://learn.microsoft.com/entra/identity/authentication/howto-mfa-userstates");
        assert.equal(nonPrivileged.help?.text, "Require MFA through Conditional Access.");
        assert.equal(nonPrivileged.defaultConfiguration?.level, "error");
        assert.deepEqual(nonPrivileged.properties?.tags, ["security", "entra-id", "mfa", "cis-azure-2.1.3"]);
        assert.equal(nonPrivileged.properties?.["security-severity"], "8.0");
        // Not described: falls back to the tool's page and the level its entries ran at.
        assert.equal(privileged.shortDescription?.text, PRIVILEGED);
        assert.equal(privileged.helpUri, FULL_REPORT.tool.informationUri);
        assert.equal(privileged.defaultConfiguration?.level, "warning");
    });

    it("pins each result to the Pulumi project file and names its resource by URN", () => {
        const log = parseSarif(renderSarif(FULL_REPORT));
        const [location] = resultFor(log, ENTRIES.failMandatory).locations ?? [];
        assert.deepEqual(location.physicalLocation, { artifactLocation: { uri: "Pulumi.yaml" }, region: { startLine: 1 } });
        assert.deepEqual(location.logicalLocations, [{ kind: "resource", name: "bob", fullyQualifiedName: userUrn("bob") }]);
        const [outsider] = resultFor(log, ENTRIES.outsideStack).locations ?? [];
        assert.equal(outsider.logicalLocations?.[0].fullyQualifiedName, assignmentUrn("outsider-contributor"));
        const custom = parseSarif(renderSarif(FULL_REPORT, { artifactUri: "infra/identity/Pulumi.yaml" }));
        assert.equal(resultsOf(custom)[0].locations?.[0].physicalLocation?.artifactLocation?.uri, "infra/identity/Pulumi.yaml");
    });

    it("says why and how to fix it in the message, and carries user, roles and evidence", () => {
        const result = resultFor(parseSarif(renderSarif(FULL_REPORT)), ENTRIES.failAdvisory);
        assert.equal(result.message.text, `${ENTRIES.failAdvisory.reason} Fix: ${ENTRIES.failAdvisory.remediation}`);
        assert.deepEqual(result.properties?.user, ENTRIES.failAdvisory.user);
        assert.deepEqual(result.properties?.roles, ENTRIES.failAdvisory.roles);
        assert.deepEqual(result.properties?.evidence, ENTRIES.failAdvisory.evidence);
        assert.equal(result.properties?.enforcementLevel, "advisory");
    });

    it("gives each user a fingerprint that is the same across runs and differs between users", () => {
        const first = resultsOf(parseSarif(renderSarif(FULL_REPORT))).map((result) => result.partialFingerprints?.primaryLocationLineHash);
        const second = resultsOf(parseSarif(renderSarif({ ...FULL_REPORT, generatedAt: "2026-11-25T10:00:00.000Z" }))).map(
            (result) => result.partialFingerprints?.primaryLocationLineHash,
        );
        assert.deepEqual(second, first);
        assert.ok(first.every((fingerprint) => typeof fingerprint === "string" && fingerprint.length > 0));
        assert.equal(new Set(first).size, first.length);
    });

    it("keeps a user's fingerprint when the reason, the evidence or the object id change", () => {
        const fingerprintOf = (entry: ReportEntry) => resultsOf(parseSarif(renderSarif(mfaReport([entry]))))[0].partialFingerprints?.primaryLocationLineHash;
        const before = fingerprintOf(ENTRIES.newUser);
        const created = reportEntry({ ...ENTRIES.newUser, user: { ...ENTRIES.newUser.user, objectId: "99999999-9999-4999-8999-999999999999", isNew: false }, reason: "Now exists.", evidence: [] });
        assert.equal(fingerprintOf(created), before);
        const otherPolicy = reportEntry({ ...ENTRIES.newUser, policy: PRIVILEGED });
        assert.notEqual(fingerprintOf(otherPolicy), before);
    });

    it("puts unreadable stack properties in the run's notifications and the stack in its category", () => {
        const run = parseSarif(renderSarif(FULL_REPORT)).runs[0];
        const [notification] = run.invocations?.[0].toolExecutionNotifications ?? [];
        assert.equal(notification.message.text, "principalId is unknown during preview");
        assert.equal(notification.locations?.[0].logicalLocations?.[0].fullyQualifiedName, assignmentUrn("unknown-principal"));
        assert.equal(run.automationDetails?.id, "entra-mfa-guard/contoso/identity/prod/");
    });
});

describe("renderMarkdown", () => {
    const markdown = renderMarkdown(FULL_REPORT);

    it("starts with the counts per verdict", () => {
        assert.match(markdown, /\n\*\*5 fail\*\*, 1 unverified, 1 exempt, 1 pass, 1 out of scope \(9 verdicts\)\n/);
    });

    it("lists every user, one table per policy", () => {
        for (const entry of FULL_REPORT.entries) assert.ok(markdown.includes(escapeMarkdown(entry.user.displayName)), entry.user.displayName);
        assert.match(markdown, new RegExp(`## ${escapeMarkdown(NON_PRIVILEGED).replace(/\\/g, "\\\\")}\n`));
        assert.match(markdown, new RegExp(`## ${escapeMarkdown(PRIVILEGED).replace(/\\/g, "\\\\")}\n`));
    });

    it("keeps every row to five cells: `|` is escaped and line breaks become <br>", () => {
        const rows = markdown.split("\n").filter((line) => line.startsWith("| "));
        assert.equal(rows.length, 2 * 2 + FULL_REPORT.entries.length);
        for (const row of rows) assert.equal(unescapedPipes(row), 6, row);
        assert.ok(markdown.includes("Eve \\| Ops<br>Team \\*lead\\*"));
    });

    it("shows the evidence that decided a pass and why each piece did not count for a fail", () => {
        const aliceRow = markdown.split("\n").find((line) => line.includes("Alice Able"));
        assert.match(aliceRow ?? "", /decided by Conditional Access<br>✓ Conditional Access: CA policy 'Require MFA' covers all users/);
        const bobRow = markdown.split("\n").find((line) => line.includes("Bob Builder"));
        assert.match(bobRow ?? "", /✗ Conditional Access: CA policy 'Require MFA' is report-only<br>✗ per-user MFA: per-user MFA state is 'disabled'/);
        assert.match(bobRow ?? "", /\| Turn on the CA policy 'Require MFA'\. \|$/);
    });

    it("names PIM-eligible and group-granted roles", () => {
        assert.ok(markdown.includes("Global Administrator (eligible) via group Tier 0"));
    });

    it("lists stack properties that could not be read", () => {
        assert.ok(markdown.includes(`- \`${assignmentUrn("unknown-principal")}\`: principalId is unknown during preview`));
    });
});

describe("escapeMarkdown", () => {
    it("makes markup and cell separators inert", () => {
        assert.equal(escapeMarkdown("a|b\r\nc <script> [x](y) `z`"), "a\\|b<br>c \\<script\\> \\[x\\](y) \\`z\\`");
    });
});

describe("renderGithubSummary", () => {
    it("lists only users that need action, with the counts in the heading", () => {
        const summary = renderGithubSummary(FULL_REPORT);
        assert.match(summary, /^### entra-mfa-guard: \*\*5 fail\*\*, 1 unverified, 1 exempt, 1 pass, 1 out of scope \(9 verdicts\)\n/);
        assert.ok(summary.includes("Bob Builder") && summary.includes("Dave Unknown"));
        assert.ok(!summary.includes("Alice Able") && !summary.includes("Break Glass") && !summary.includes("Olga Owner"));
        assert.ok(summary.includes("1 stack property could not be read."));
    });

    it("says so when nobody needs action", () => {
        assert.ok(renderGithubSummary(mfaReport([ENTRIES.pass])).includes("No user needs action."));
    });

    it("stays short for a large tenant", () => {
        const many = Array.from({ length: 60 }, (_, index) => reportEntry({ user: { displayName: `User ${index}`, urn: userUrn(`user-${index}`) } }));
        const rows = renderGithubSummary(mfaReport(many)).split("\n").filter((line) => /^\| User \d/.test(line));
        assert.equal(rows.length, 50);
        assert.ok(renderGithubSummary(mfaReport(many)).includes("…and 10 more"));
    });
});

describe("formatForPath", () => {
    it("chooses the format by extension, .sarif.json before .json", () => {
        assert.equal(formatForPath("out/mfa.sarif.json"), "sarif");
        assert.equal(formatForPath("MFA.SARIF"), "sarif");
        assert.equal(formatForPath("mfa.json"), "json");
        assert.equal(formatForPath("mfa.md"), "markdown");
        assert.equal(formatForPath("mfa.txt"), undefined);
    });
});

describe("wantsReports", () => {
    it("is true only when ENTRA_MFA_GUARD_REPORT or GITHUB_STEP_SUMMARY names a file", () => {
        assert.equal(wantsReports({}), false);
        assert.equal(wantsReports({ ENTRA_MFA_GUARD_REPORT: "  ", GITHUB_STEP_SUMMARY: "" }), false);
        assert.equal(wantsReports({ ENTRA_MFA_GUARD_REPORT: "mfa.sarif" }), true);
        assert.equal(wantsReports({ GITHUB_STEP_SUMMARY: "/tmp/summary.md" }), true);
    });
});

describe("writeReports", () => {
    let directory: string;

    beforeEach(() => {
        directory = fs.mkdtempSync(path.join(os.tmpdir(), "mfa-report-"));
    });

    afterEach(() => {
        fs.rmSync(directory, { recursive: true, force: true });
    });

    it("writes each format chosen by the file's extension, creating parent folders", async () => {
        const cases = [
            { file: "nested/deeper/mfa.json", format: "json", check: (text: string) => assert.deepEqual(JSON.parse(text), JSON.parse(renderJson(FULL_REPORT))) },
            { file: "mfa.sarif", format: "sarif", check: (text: string) => assert.equal(JSON.parse(text).version, "2.1.0") },
            { file: "mfa.sarif.json", format: "sarif", check: (text: string) => assert.equal(JSON.parse(text).version, "2.1.0") },
            { file: "mfa.md", format: "markdown", check: (text: string) => assert.equal(text, renderMarkdown(FULL_REPORT)) },
        ] as const;
        for (const { file, format, check } of cases) {
            const target = path.join(directory, file);
            const outcome = await writeReports(FULL_REPORT, { ENTRA_MFA_GUARD_REPORT: target });
            assert.deepEqual(outcome, { written: [{ path: target, format }], errors: [] });
            check(fs.readFileSync(target, "utf8"));
        }
    });

    it("passes the artifact path on to the SARIF file", async () => {
        const target = path.join(directory, "mfa.sarif");
        await writeReports(FULL_REPORT, { ENTRA_MFA_GUARD_REPORT: target }, { artifactUri: "stacks/identity/Pulumi.yaml" });
        const log = parseSarif(fs.readFileSync(target, "utf8"));
        assert.equal(resultsOf(log)[0].locations?.[0].physicalLocation?.artifactLocation?.uri, "stacks/identity/Pulumi.yaml");
    });

    it("appends the summary to GITHUB_STEP_SUMMARY without overwriting what earlier steps wrote", async () => {
        const summaryFile = path.join(directory, "step_summary.md");
        fs.writeFileSync(summaryFile, "## Earlier step\n");
        const first = await writeReports(FULL_REPORT, { GITHUB_STEP_SUMMARY: summaryFile });
        await writeReports(FULL_REPORT, { GITHUB_STEP_SUMMARY: summaryFile });
        assert.deepEqual(first, { written: [{ path: summaryFile, format: "github-step-summary" }], errors: [] });
        const summary = renderGithubSummary(FULL_REPORT);
        assert.equal(fs.readFileSync(summaryFile, "utf8"), `## Earlier step\n${summary}${summary}`);
    });

    it("returns an error for an extension it does not write, and writes nothing", async () => {
        const target = path.join(directory, "mfa.txt");
        const outcome = await writeReports(FULL_REPORT, { ENTRA_MFA_GUARD_REPORT: target });
        assert.deepEqual(outcome.written, []);
        assert.equal(outcome.errors.length, 1);
        assert.match(outcome.errors[0], /ENTRA_MFA_GUARD_REPORT names '.*mfa\.txt', whose extension is not a report format: use \.json, \.sarif \(or \.sarif\.json\) or \.md\./);
        assert.deepEqual(fs.readdirSync(directory), []);
    });

    it("returns an error instead of throwing when the file cannot be written", async () => {
        fs.writeFileSync(path.join(directory, "occupied"), "a file, not a folder");
        const target = path.join(directory, "occupied", "mfa.json");
        const outcome = await writeReports(FULL_REPORT, { ENTRA_MFA_GUARD_REPORT: target, GITHUB_STEP_SUMMARY: path.join(directory, "occupied", "summary.md") });
        assert.deepEqual(outcome.written, []);
        assert.equal(outcome.errors.length, 2);
        assert.match(outcome.errors[0], /^Could not write the MFA report to '.*mfa\.json': /);
        assert.match(outcome.errors[1], /^Could not append the MFA summary to GITHUB_STEP_SUMMARY /);
    });

    it("writes nothing when neither variable is set, or both are empty", async () => {
        assert.deepEqual(await writeReports(FULL_REPORT, {}), { written: [], errors: [] });
        assert.deepEqual(await writeReports(FULL_REPORT, { ENTRA_MFA_GUARD_REPORT: "", GITHUB_STEP_SUMMARY: " " }), { written: [], errors: [] });
        assert.deepEqual(fs.readdirSync(directory), []);
    });
});

describe("report contents", () => {
    const SECRET = "s3cr3t-client-secret-value";
    // TypeScript lets an object typed as MfaReport carry more than the type declares.
    const leaky = JSON.parse(JSON.stringify(FULL_REPORT));
    leaky.tool.token = SECRET;
    leaky.stack.accessToken = SECRET;
    leaky.entries[0].password = SECRET;
    leaky.entries[0].user.password = SECRET;
    leaky.entries[0].roles[0].clientSecret = SECRET;
    leaky.entries[0].evidence[0].authorization = `Bearer ${SECRET}`;
    leaky.problems[0].credential = SECRET;
    leaky.environment = { AZURE_CLIENT_SECRET: SECRET };
    const leakyReport = leaky as MfaReport;

    it("writes only the fields MfaReport declares, in every format", () => {
        for (const text of [renderJson(leakyReport), renderSarif(leakyReport), renderMarkdown(leakyReport), renderGithubSummary(leakyReport)]) {
            assert.ok(!text.includes(SECRET));
        }
        assert.equal(renderJson(leakyReport), renderJson(FULL_REPORT));
    });

    it("has exactly the declared keys at every level of the JSON report", () => {
        const written = JSON.parse(renderJson(leakyReport));
        assert.deepEqual(Object.keys(written), ["tool", "generatedAt", "stack", "entries", "problems"]);
        assert.deepEqual(Object.keys(written.tool), ["name", "version", "informationUri"]);
        assert.deepEqual(Object.keys(written.stack), ["organization", "project", "stack"]);
        assert.deepEqual(Object.keys(written.entries[0]), ["policy", "verdict", "user", "roles", "evidence", "decidedBy", "reason"]);
        assert.deepEqual(Object.keys(written.entries[1]), ["policy", "verdict", "enforcementLevel", "user", "roles", "evidence", "reason", "remediation", "reportedOn"]);
        assert.deepEqual(Object.keys(written.entries[0].user), ["displayName", "userPrincipalName", "objectId", "urn", "isGuest", "accountEnabled", "isNew"]);
        assert.deepEqual(Object.keys(written.entries[0].roles[0]), ["name", "reference", "system", "assignmentUrn"]);
        assert.deepEqual(Object.keys(written.entries[2].roles[0]), ["name", "reference", "system", "viaGroup", "eligible", "assignmentUrn"]);
        assert.deepEqual(Object.keys(written.entries[0].evidence[0]), ["source", "counted", "detail"]);
        assert.deepEqual(Object.keys(written.problems[0]), ["urn", "message"]);
    });
});
