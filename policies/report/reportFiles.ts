import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import type { Policy } from "@pulumi/policy";
import type * as Sarif from "sarif";
import { EvidenceSource, MfaReport, ReportEntry, ReportVerdict } from "./reportTypes";

/** Names the report file; its extension chooses the format. */
export const REPORT_FILE_VARIABLE = "ENTRA_MFA_GUARD_REPORT";
/** Set by GitHub Actions to a file each step may append Markdown to. */
export const GITHUB_STEP_SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY";

export type ReportFormat = "json" | "sarif" | "markdown";

/** What a SARIF rule tells about a policy. The pack's own policy objects fit as they are. */
export type PolicyDescription = Pick<Policy, "name" | "description"> &
    Partial<Pick<Policy, "displayName" | "enforcementLevel" | "severity" | "tags" | "url" | "remediationSteps" | "framework">>;

export interface ReportFileOptions {
    /** Shared across the writes of one run, so the step summary holds one section, not one per write. */
    summary?: { offset?: number };
    /**
     * The file GitHub code scanning pins every SARIF result to, relative to the repository root.
     * Code scanning drops results without a physical location; the Pulumi project file is the
     * closest thing a stack-wide verdict has to one.
     */
    artifactUri?: string;
    /** Metadata for the SARIF rules; a policy not listed gets a rule with its name only. */
    policies?: readonly PolicyDescription[];
}

export interface WrittenReport {
    path: string;
    format: ReportFormat | "github-step-summary";
}

export interface ReportWriteOutcome {
    written: WrittenReport[];
    /** One sentence each; the caller reports them as warnings. */
    errors: string[];
}

const DEFAULT_ARTIFACT_URI = "Pulumi.yaml";
const VERDICT_ORDER = ["fail", "unverified", "exempt", "pass", "out-of-scope"] as const satisfies readonly ReportVerdict[];
const VERDICT_LABELS: Record<ReportVerdict, string> = {
    fail: "fail",
    unverified: "unverified",
    exempt: "exempt",
    pass: "pass",
    "out-of-scope": "out of scope",
};
const EVIDENCE_LABELS: Record<EvidenceSource, string> = {
    conditionalAccess: "Conditional Access",
    securityDefaults: "security defaults",
    perUserMfa: "per-user MFA",
    registration: "MFA registration",
    newAccount: "new account",
};
/** The step summary is for a glance; the report file holds every row. */
const SUMMARY_ROW_LIMIT = 50;

/**
 * The file format `ENTRA_MFA_GUARD_REPORT` asks for, or undefined for an extension the pack does
 * not write. For example, `formatForPath("out/mfa.sarif.json")` is `"sarif"`.
 */
export function formatForPath(filePath: string): ReportFormat | undefined {
    const name = path.basename(filePath).toLowerCase();
    if (name.endsWith(".sarif") || name.endsWith(".sarif.json")) return "sarif";
    if (name.endsWith(".json")) return "json";
    if (name.endsWith(".md") || name.endsWith(".markdown")) return "markdown";
    return undefined;
}

/** The report as JSON (2-space, fields in a fixed order, nothing that is not a report field). */
export function renderJson(report: MfaReport): string {
    return `${JSON.stringify(reportFieldsOnly(report), null, 2)}\n`;
}

/**
 * The report as a SARIF 2.1.0 log for GitHub code scanning: one result per fail and unverified
 * entry, each pinned to `artifactUri` (default `Pulumi.yaml`) and naming its resource by URN.
 */
export function renderSarif(report: MfaReport, options: ReportFileOptions = {}): string {
    const safeReport = reportFieldsOnly(report);
    const artifactUri = options.artifactUri ?? DEFAULT_ARTIFACT_URI;
    const ruleIds = [...new Set(safeReport.entries.map((entry) => entry.policy))].sort();
    const rules = ruleIds.map((policy) => sarifRule(policy, safeReport, options.policies ?? []));
    const results = safeReport.entries
        .filter((entry) => entry.verdict === "fail" || entry.verdict === "unverified")
        .map((entry) => sarifResult(entry, ruleIds.indexOf(entry.policy), artifactUri));
    const { stack } = safeReport;
    const log: Sarif.Log = {
        $schema: "https://json.schemastore.org/sarif-2.1.0.json",
        version: "2.1.0",
        runs: [
            {
                tool: {
                    driver: {
                        name: safeReport.tool.name,
                        version: safeReport.tool.version,
                        informationUri: safeReport.tool.informationUri,
                        rules,
                    },
                },
                // Code scanning keeps one analysis per category; without one, the reports of two
                // stacks uploaded from one repository would close each other's alerts.
                // https://docs.github.com/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#runautomationdetails-object
                ...(stack?.project || stack?.stack
                    ? { automationDetails: { id: `${[safeReport.tool.name, stack.organization, stack.project, stack.stack].filter(Boolean).join("/")}/` } }
                    : {}),
                invocations: [
                    {
                        executionSuccessful: true,
                        endTimeUtc: safeReport.generatedAt,
                        toolExecutionNotifications: safeReport.problems.map((problem) => ({
                            level: "warning",
                            message: { text: problem.message },
                            locations: [{ logicalLocations: [resourceLocation(problem.urn)] }],
                        })),
                    },
                ],
                results,
                ...(stack ? { properties: { stack } } : {}),
            },
        ],
    };
    return `${JSON.stringify(log, null, 2)}\n`;
}

/** The whole report as Markdown: counts per verdict, then one table per policy. */
export function renderMarkdown(report: MfaReport): string {
    const safeReport = reportFieldsOnly(report);
    const lines = [`# ${escapeMarkdown(safeReport.tool.name)} report`, "", headerLine(safeReport), "", countsLine(safeReport.entries), ""];
    const policies = [...new Set(safeReport.entries.map((entry) => entry.policy))].sort();
    for (const policy of policies) {
        lines.push(`## ${escapeMarkdown(policy)}`, "", "| User | Verdict | Roles | Evidence that decided, or why not | Fix |", "| --- | --- | --- | --- | --- |");
        for (const entry of byVerdict(safeReport.entries.filter((candidate) => candidate.policy === policy))) {
            lines.push(tableRow([userCell(entry), verdictCell(entry), rolesCell(entry), evidenceCell(entry), entry.remediation ?? ""]));
        }
        lines.push("");
    }
    if (safeReport.problems.length > 0) {
        lines.push("## Stack properties that could not be read", "");
        for (const problem of safeReport.problems) lines.push(`- \`${inlineCode(problem.urn)}\`: ${escapeMarkdown(problem.message)}`);
        lines.push("");
    }
    return lines.join("\n");
}

/** A short Markdown section for `$GITHUB_STEP_SUMMARY`: the counts and the users that need action. */
export function renderGithubSummary(report: MfaReport): string {
    const safeReport = reportFieldsOnly(report);
    const lines = [`### ${escapeMarkdown(safeReport.tool.name)}: ${countsLine(safeReport.entries)}`, "", headerLine(safeReport), ""];
    const needAction = byVerdict(safeReport.entries.filter((entry) => entry.verdict === "fail" || entry.verdict === "unverified"));
    if (needAction.length === 0) {
        lines.push(safeReport.entries.length === 0 ? "No user was in scope." : "No user needs action.", "");
    } else {
        lines.push("| User | Policy | Verdict | Why |", "| --- | --- | --- | --- |");
        for (const entry of needAction.slice(0, SUMMARY_ROW_LIMIT)) {
            lines.push(tableRow([userCell(entry), entry.policy, verdictCell(entry), entry.reason]));
        }
        if (needAction.length > SUMMARY_ROW_LIMIT) {
            lines.push("", `…and ${needAction.length - SUMMARY_ROW_LIMIT} more; the report file (\`${REPORT_FILE_VARIABLE}\`) lists every one.`);
        }
        lines.push("");
    }
    if (safeReport.problems.length > 0) lines.push(`${safeReport.problems.length} stack propert${safeReport.problems.length === 1 ? "y" : "ies"} could not be read.`, "");
    return lines.join("\n");
}

/** Whether the environment asks for any report file: without one, no report needs building. */
export function wantsReports(env: NodeJS.ProcessEnv = process.env): boolean {
    return Boolean(env[REPORT_FILE_VARIABLE]?.trim() || env[GITHUB_STEP_SUMMARY_VARIABLE]?.trim());
}

/**
 * Writes the report where the environment asks: the file named by `ENTRA_MFA_GUARD_REPORT` (format
 * by extension, parent folders created; a relative path resolves against the pack's working
 * directory, which the engine sets to the pack's folder, so CI should pass an absolute path), and
 * a summary appended to `GITHUB_STEP_SUMMARY`. Never throws: failures come back in `errors`.
 */
export async function writeReports(report: MfaReport, env: NodeJS.ProcessEnv = process.env, options: ReportFileOptions = {}): Promise<ReportWriteOutcome> {
    const outcome: ReportWriteOutcome = { written: [], errors: [] };
    const reportPath = env[REPORT_FILE_VARIABLE]?.trim();
    if (reportPath) {
        const format = formatForPath(reportPath);
        if (format === undefined) {
            outcome.errors.push(
                `${REPORT_FILE_VARIABLE} names '${reportPath}', whose extension is not a report format: use .json, .sarif (or .sarif.json) or .md.`,
            );
        } else {
            const target = path.resolve(reportPath);
            try {
                await fs.mkdir(path.dirname(target), { recursive: true });
                await fs.writeFile(target, renderAs(format, report, options), "utf8");
                outcome.written.push({ path: target, format });
            } catch (error) {
                outcome.errors.push(`Could not write the MFA report to '${target}': ${errorText(error)}.`);
            }
        }
    }
    const summaryPath = env[GITHUB_STEP_SUMMARY_VARIABLE]?.trim();
    if (summaryPath) {
        try {
            const summary = options.summary;
            if (summary) {
                // One section per run: a later write in the same run replaces the section it wrote before.
                summary.offset ??= await fs.stat(summaryPath).then((stat) => stat.size, () => 0);
                await fs.truncate(summaryPath, summary.offset).catch(() => undefined);
            }
            await fs.appendFile(summaryPath, renderGithubSummary(report), "utf8");
            outcome.written.push({ path: summaryPath, format: "github-step-summary" });
        } catch (error) {
            outcome.errors.push(`Could not append the MFA summary to ${GITHUB_STEP_SUMMARY_VARIABLE} ('${summaryPath}'): ${errorText(error)}.`);
        }
    }
    return outcome;
}

function renderAs(format: ReportFormat, report: MfaReport, options: ReportFileOptions): string {
    switch (format) {
        case "json":
            return renderJson(report);
        case "sarif":
            return renderSarif(report, options);
        case "markdown":
            return renderMarkdown(report);
    }
}

function errorText(error: unknown): string {
    return (error instanceof Error ? error.message : String(error)).replace(/\.$/, "");
}

// --- Only report fields leave the pack -------------------------------------------------------

// `satisfies Record<keyof T, true>` makes the compiler fail here when a field is added to or
// removed from reportTypes.ts, so the copy below can never silently drop or pass on a field.
const TOOL_FIELDS = { name: true, version: true, informationUri: true } satisfies Record<keyof MfaReport["tool"], true>;
const STACK_FIELDS = { organization: true, project: true, stack: true } satisfies Record<keyof NonNullable<MfaReport["stack"]>, true>;
const PROBLEM_FIELDS = { urn: true, message: true } satisfies Record<keyof MfaReport["problems"][number], true>;
const ENTRY_FIELDS = {
    policy: true,
    verdict: true,
    enforcementLevel: true,
    user: true,
    roles: true,
    evidence: true,
    decidedBy: true,
    reason: true,
    remediation: true,
    reportedOn: true,
} satisfies Record<keyof ReportEntry, true>;
const USER_FIELDS = {
    displayName: true,
    userPrincipalName: true,
    objectId: true,
    urn: true,
    isGuest: true,
    accountEnabled: true,
    isNew: true,
} satisfies Record<keyof ReportEntry["user"], true>;
const ROLE_FIELDS = { name: true, reference: true, system: true, viaGroup: true, eligible: true, assignmentUrn: true } satisfies Record<
    keyof ReportEntry["roles"][number],
    true
>;
const EVIDENCE_FIELDS = { source: true, counted: true, detail: true } satisfies Record<keyof ReportEntry["evidence"][number], true>;

/** A copy holding only the fields `MfaReport` declares, in declaration order, without undefined values. */
function pickFields<T extends object>(source: T, fields: Record<keyof T, true>): T {
    const copy: Partial<T> = {};
    for (const field of Object.keys(fields) as (keyof T)[]) {
        if (source[field] !== undefined) copy[field] = source[field];
    }
    return copy as T;
}

/** Objects typed as `MfaReport` may carry more at run time (TypeScript allows extra properties); none of it is written. */
export function reportFieldsOnly(report: MfaReport): MfaReport {
    return {
        tool: pickFields(report.tool, TOOL_FIELDS),
        generatedAt: report.generatedAt,
        ...(report.stack ? { stack: pickFields(report.stack, STACK_FIELDS) } : {}),
        entries: report.entries.map((entry) => ({
            ...pickFields(entry, ENTRY_FIELDS),
            user: pickFields(entry.user, USER_FIELDS),
            roles: entry.roles.map((role) => pickFields(role, ROLE_FIELDS)),
            evidence: entry.evidence.map((item) => pickFields(item, EVIDENCE_FIELDS)),
        })),
        problems: report.problems.map((problem) => pickFields(problem, PROBLEM_FIELDS)),
    };
}

// --- SARIF -------------------------------------------------------------------------------------

/**
 * A fail at mandatory level blocks the deployment: `error`. An advisory fail is a problem found
 * that does not block: `warning`. An unverified user is no finding about the user at all (Graph
 * could not be asked), so `note`: it stays visible without counting as a security problem in
 * code scanning's default check threshold. https://docs.oasis-open.org/sarif/sarif/v2.1.0/os/sarif-v2.1.0-os.html#_Toc34317648
 */
function resultLevel(entry: ReportEntry): Sarif.Result.level {
    if (entry.verdict === "unverified") return "note";
    // The pack cannot see the level a policy was configured to (the SDK keeps it); a failure of
    // unknown level is an error, as the policies' default is mandatory.
    return entry.enforcementLevel === "advisory" ? "warning" : "error";
}

function ruleLevel(enforcementLevel: Policy["enforcementLevel"]): Sarif.ReportingConfiguration.level {
    if (enforcementLevel === "mandatory") return "error";
    if (enforcementLevel === "disabled") return "none";
    return "warning";
}

/** Code scanning's bands: 9.0+ critical, 7.0–8.9 high, 4.0–6.9 medium, below low. https://docs.github.com/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#reportingdescriptor-object */
const SECURITY_SEVERITY: Record<NonNullable<Policy["severity"]>, string> = { low: "3.0", medium: "5.0", high: "8.0", critical: "9.5" };

function sarifRule(policy: string, report: MfaReport, descriptions: readonly PolicyDescription[]): Sarif.ReportingDescriptor {
    const description = descriptions.find((candidate) => candidate.name === policy);
    const enforcementLevel = description?.enforcementLevel ?? report.entries.find((entry) => entry.policy === policy && entry.enforcementLevel)?.enforcementLevel;
    // Code scanning shows `security-severity` only on rules tagged `security`.
    const tags = [...new Set(["security", "entra-id", "mfa", ...(description?.tags ?? [])])];
    return {
        id: policy,
        shortDescription: { text: description?.displayName ?? policy },
        fullDescription: { text: description?.description ?? `Multi-factor authentication verdicts of the ${policy} policy.` },
        ...(description?.remediationSteps ? { help: { text: description.remediationSteps } } : {}),
        helpUri: description?.url ?? report.tool.informationUri,
        defaultConfiguration: { level: ruleLevel(enforcementLevel) },
        properties: {
            tags,
            ...(description?.severity ? { "security-severity": SECURITY_SEVERITY[description.severity] } : {}),
            ...(description?.framework ? { framework: description.framework } : {}),
        },
    };
}

function sarifResult(entry: ReportEntry, ruleIndex: number, artifactUri: string): Sarif.Result {
    const resourceUrn = entry.reportedOn ?? entry.user.urn;
    return {
        ruleId: entry.policy,
        ruleIndex,
        level: resultLevel(entry),
        message: { text: entry.remediation ? `${entry.reason} Fix: ${entry.remediation}` : entry.reason },
        locations: [
            {
                physicalLocation: { artifactLocation: { uri: artifactUri }, region: { startLine: 1 } },
                ...(resourceUrn ? { logicalLocations: [resourceLocation(resourceUrn)] } : {}),
            },
        ],
        // Every result sits on line 1 of one file, so the line hash the upload action would compute
        // is the same for all of them and code scanning would merge different users into one alert.
        // The upload action keeps a primaryLocationLineHash that is already there
        // (github/codeql-action src/fingerprints.ts, locationUpdateCallback).
        partialFingerprints: { primaryLocationLineHash: userFingerprint(entry) },
        properties: {
            verdict: entry.verdict,
            ...(entry.enforcementLevel ? { enforcementLevel: entry.enforcementLevel } : {}),
            user: entry.user,
            roles: entry.roles,
            evidence: entry.evidence,
            ...(entry.decidedBy ? { decidedBy: entry.decidedBy } : {}),
        },
    };
}

/**
 * Stable across runs for one user under one policy. The URN comes first because a user the stack
 * creates keeps its URN from the preview that creates it onwards, while its object id exists only
 * after; users outside the stack have no URN and are known by object id.
 */
function userFingerprint(entry: ReportEntry): string {
    const { user } = entry;
    const identity = user.urn ?? (user.objectId ? `objectId:${user.objectId}` : undefined) ?? entry.reportedOn ?? user.userPrincipalName ?? user.displayName;
    return createHash("sha256").update(`${entry.policy}\n${identity}`).digest("hex");
}

function resourceLocation(urn: string): Sarif.LogicalLocation {
    return { kind: "resource", name: urn.split("::").pop() ?? urn, fullyQualifiedName: urn };
}

// --- Markdown ----------------------------------------------------------------------------------

function headerLine(report: MfaReport): string {
    const { stack } = report;
    const stackName = [stack?.organization, stack?.project, stack?.stack].filter(Boolean).join("/");
    const parts = [stackName ? `Stack \`${inlineCode(stackName)}\`` : undefined, `generated ${escapeMarkdown(report.generatedAt)}`, `${escapeMarkdown(report.tool.name)} ${escapeMarkdown(report.tool.version)}`];
    return parts.filter(Boolean).join(" · ");
}

function countsLine(entries: readonly ReportEntry[]): string {
    const counts = VERDICT_ORDER.map((verdict) => ({ verdict, count: entries.filter((entry) => entry.verdict === verdict).length }));
    const nonZero = counts.filter(({ count }) => count > 0).map(({ verdict, count }) => (verdict === "fail" ? `**${count} fail**` : `${count} ${VERDICT_LABELS[verdict]}`));
    const total = `${entries.length} verdict${entries.length === 1 ? "" : "s"}`;
    return nonZero.length === 0 ? "no verdicts" : `${nonZero.join(", ")} (${total})`;
}

function byVerdict(entries: readonly ReportEntry[]): ReportEntry[] {
    return [...entries].sort((left, right) => VERDICT_ORDER.indexOf(left.verdict) - VERDICT_ORDER.indexOf(right.verdict));
}

function userCell(entry: ReportEntry): string {
    const { user } = entry;
    const notes = [user.isNew ? "new" : undefined, user.isGuest ? "guest" : undefined, user.accountEnabled === false ? "disabled" : undefined].filter(Boolean);
    const id = user.userPrincipalName ?? user.objectId;
    return [user.displayName, id && id !== user.displayName ? `(${id})` : undefined, notes.length > 0 ? `[${notes.join(", ")}]` : undefined].filter(Boolean).join(" ");
}

function verdictCell(entry: ReportEntry): string {
    const label = VERDICT_LABELS[entry.verdict];
    const level = (entry.verdict === "fail" || entry.verdict === "unverified") && entry.enforcementLevel ? ` (${entry.enforcementLevel})` : "";
    return `${label}${level}`;
}

function rolesCell(entry: ReportEntry): string {
    if (entry.roles.length === 0) return "none";
    return entry.roles
        .map((role) => `${role.name ?? role.reference}${role.eligible ? " (eligible)" : ""}${role.viaGroup ? ` via group ${role.viaGroup}` : ""}`)
        .join("\n");
}

function evidenceCell(entry: ReportEntry): string {
    const decided = entry.decidedBy ? [`decided by ${EVIDENCE_LABELS[entry.decidedBy]}`] : [];
    const looked = entry.evidence.map((item) => `${item.counted ? "✓" : "✗"} ${EVIDENCE_LABELS[item.source]}: ${item.detail}`);
    return [entry.reason, ...decided, ...looked].join("\n");
}

/** Cells are raw text; `tableRow` escapes them. */
function tableRow(cells: readonly string[]): string {
    return `| ${cells.map(escapeMarkdown).join(" | ")} |`;
}

/**
 * Makes any text inert in GitHub Markdown, also inside a table cell: punctuation that could start
 * markup or end a cell is backslash-escaped (https://spec.commonmark.org/0.31.2/#backslash-escapes,
 * https://github.github.com/gfm/#tables-extension-), and line breaks become `<br>`.
 */
export function escapeMarkdown(text: string): string {
    return text
        .replace(/[\\`*_[\]<>|&~#!]/g, (character) => `\\${character}`)
        .replace(/\r\n|\r|\n/g, "<br>")
        .trim();
}

/** Code spans cannot hold escapes; a backtick or line break inside one would end or split it. Used outside tables only. */
function inlineCode(text: string): string {
    return text.replace(/`/g, "'").replace(/\r\n|\r|\n/g, " ");
}
