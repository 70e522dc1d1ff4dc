import { ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { MfaPolicyConfig, NON_PRIVILEGED_USER_MFA, PRIVILEGED_ASSIGNMENT_MFA_COVERAGE, PRIVILEGED_USER_MFA, UNVERIFIED_USERS } from "./config";
import { REQUIRED_PERMISSION } from "./graph/perUserMfa";
import { problemMessage, reportedOn, sharedCauseMessage, unverifiedMessage } from "./report/messages";
import { RuleResults, StackEvaluator } from "./evidence/stackEvaluation";

/**
 * Names every user whose MFA could not be verified, and why. A fault (no sign-in, 403, throttling,
 * unreadable properties) is a verdict of its own: it neither passes nor fails a user. Advisory by
 * default so a Graph outage does not block deployments; set it to mandatory to block until verified.
 */
export function unverifiedUsers(evaluator: StackEvaluator, analyzeTimeSettings?: { config?: MfaPolicyConfig }): StackValidationPolicy {
    return {
        name: UNVERIFIED_USERS,
        displayName: "Users whose MFA could not be verified",
        description: "Names every user whose multi-factor authentication could not be verified, and why.",
        enforcementLevel: "advisory",
        severity: "medium",
        tags: ["entra-id", "mfa", "identity", "verification"],
        url: "https://learn.microsoft.com/graph/api/authentication-get-requirements",
        remediationSteps: [
            `Give the identity the pack runs as ${REQUIRED_PERMISSION}.`,
            "Make sure the credential works where the preview runs: `az login`, AZURE_TENANT_ID/AZURE_CLIENT_ID with a secret or federated token (OIDC), or a managed identity.",
            "Then run the preview (or `pulumi policy analyze`) again.",
        ].join("\n"),
        // Not `async`, for the reason given on entra-non-privileged-user-mfa.
        validateStack: (args, reportViolation) => reportUnverified(evaluator.evaluated(args.resources), analyzeTimeSettings, reportViolation),
    };
}

async function reportUnverified(pending: Promise<RuleResults>, analyzeTimeSettings: { config?: MfaPolicyConfig } | undefined, reportViolation: ReportViolation): Promise<void> {
    const evaluated = await pending;
    const unverified = evaluated.flatMap(({ result }) => ("evaluation" in result ? result.evaluation.verdicts.filter((v) => v.kind === "unverified") : []));
    // A cause shared by several users (no sign-in, a missing permission) is said once, numbered.
    const usersByCause = new Map<string, number>();
    unverified.forEach((verdict) => (verdict.causes ?? []).forEach((cause) => usersByCause.set(cause, (usersByCause.get(cause) ?? 0) + 1)));
    const shared = new Map([...usersByCause].filter(([, users]) => users > 1).map(([cause], index) => [cause, index + 1]));
    for (const [cause, number] of shared) reportViolation(sharedCauseMessage(cause, number, usersByCause.get(cause)!));

    // A setting the pack had to set aside (an exemption with an impossible date) is said once per run.
    for (const error of new Set(evaluated.flatMap(({ config }) => config.configurationErrors ?? []))) {
        reportViolation(`Configuration error in ${NON_PRIVILEGED_USER_MFA}: ${error}.`);
    }

    const differing = settingsThatDiffer(analyzeTimeSettings?.config, evaluated[0]?.config);
    if (differing.length > 0) {
        reportViolation(
            `${PRIVILEGED_ASSIGNMENT_MFA_COVERAGE} ran with settings that differ from ${NON_PRIVILEGED_USER_MFA}'s: ${differing.join(", ")}.\n` +
                `  Pulumi gives each policy its own config; set these on both so the early warnings and the verdicts agree.`,
        );
    }

    const problems = new Set<string>();
    for (const { result } of evaluated) {
        if (!("evaluation" in result)) {
            reportViolation(`Could not verify MFA for any user: ${result.failure}.`);
            continue;
        }
        for (const verdict of result.evaluation.verdicts) {
            if (verdict.kind === "unverified") reportViolation(unverifiedMessage(verdict, shared), reportedOn(verdict));
        }
        for (const problem of result.evaluation.problems) {
            const message = problemMessage(problem);
            if (!problems.has(message)) reportViolation(message, problem.urn);
            problems.add(message);
        }
    }
}

/** The settings both the stack rules and the Analyze-time advisory decide with, where they differ. */
function settingsThatDiffer(analyzeTime: MfaPolicyConfig | undefined, stackRules: MfaPolicyConfig | undefined): string[] {
    if (!analyzeTime || !stackRules) return [];
    const shared = ["acceptedEvidence", "conditionalAccessApplications", "privilegedRolePatterns", "useEntraPrivilegedLabel", "exemptions", "includeGuests", "includeDisabledAccounts", "cloud"] as const;
    return shared.filter((key) => JSON.stringify(analyzeTime[key]) !== JSON.stringify(stackRules[key]));
}
