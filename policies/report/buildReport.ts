import { RuleResults } from "../evidence/stackEvaluation";
import { UserVerdict } from "../evidence/evaluate";
import { InventoryProblem } from "../inventory/types";
import { NON_PRIVILEGED_USER_MFA, PRIVILEGED_USER_MFA } from "../config";
import { evidenceDetail, evidenceSummary, remediationCommand, reportedOn } from "./messages";
import { MfaReport, ReportEntry, ReportVerdict } from "./reportTypes";

const VERDICTS: Record<UserVerdict["kind"], ReportVerdict> = {
    compliant: "pass",
    noncompliant: "fail",
    unverified: "unverified",
    exempt: "exempt",
    "out-of-scope": "out-of-scope",
};

export interface ReportContext {
    version: string;
    graphBaseUrl: string;
    env: NodeJS.ProcessEnv;
    now: Date;
}

/** The report of every rule evaluated for a stack: one entry per user and rule. */
export function reportFrom(results: RuleResults, context: ReportContext): MfaReport {
    const entries: ReportEntry[] = [];
    const problems = new Map<string, InventoryProblem>();
    for (const { result } of results) {
        if (!("evaluation" in result)) {
            problems.set(result.failure, { urn: "", message: result.failure });
            continue;
        }
        result.evaluation.problems.forEach((problem) => problems.set(`${problem.urn} ${problem.message}`, problem));
        entries.push(...result.evaluation.verdicts.map((verdict) => entryFor(verdict, context.graphBaseUrl)));
    }
    const { PULUMI_NODEJS_ORGANIZATION: organization, PULUMI_NODEJS_PROJECT: project, PULUMI_NODEJS_STACK: stack } = context.env;
    return {
        tool: { name: "entra-mfa-guard", version: context.version, informationUri: "https://github.com/pulumi/pulumi-policy" },
        generatedAt: context.now.toISOString(),
        ...(organization || project || stack ? { stack: { organization, project, stack } } : {}),
        entries,
        problems: [...problems.values()],
    };
}

function entryFor(verdict: UserVerdict, graphBaseUrl: string): ReportEntry {
    const { user } = verdict;
    const decided = verdict.evidence.find((e) => e.counted);
    const shownOn = reportedOn(verdict);
    const reason =
        verdict.kind === "compliant"
            ? (decided?.detail ?? "MFA is required")
            : verdict.kind === "noncompliant"
              ? evidenceSummary(verdict)
              : verdict.kind === "exempt"
                ? `exempt: ${verdict.exemption?.reason}`
                : (verdict.reason ?? "");
    return {
        policy: verdict.rule === "privileged" ? PRIVILEGED_USER_MFA : NON_PRIVILEGED_USER_MFA,
        verdict: VERDICTS[verdict.kind],
        user: {
            displayName: user.displayName,
            ...(user.userPrincipalName ? { userPrincipalName: user.userPrincipalName } : {}),
            ...(user.objectId ? { objectId: user.objectId } : {}),
            ...(user.urn ? { urn: user.urn } : {}),
            isGuest: user.isGuest,
            ...(user.accountEnabled !== undefined ? { accountEnabled: user.accountEnabled } : {}),
            isNew: user.isNew,
        },
        roles: user.roles.map((role) => ({
            ...(role.name ? { name: role.name } : {}),
            reference: role.reference,
            system: role.system,
            ...(role.viaGroup ? { viaGroup: role.viaGroup } : {}),
            ...(role.eligible ? { eligible: true } : {}),
            assignmentUrn: role.assignmentUrn,
        })),
        evidence: verdict.evidence.map((e) => ({ source: e.source, counted: e.counted, detail: evidenceDetail(e) })),
        ...(verdict.decidedBy ? { decidedBy: verdict.decidedBy } : {}),
        reason,
        ...(verdict.kind === "noncompliant" ? { remediation: remediationCommand(user, graphBaseUrl) } : {}),
        ...(shownOn ? { reportedOn: shownOn } : {}),
    };
}
