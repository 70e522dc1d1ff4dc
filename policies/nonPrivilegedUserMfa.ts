import { ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { NON_PRIVILEGED_USER_MFA, mfaPolicyConfigSchema, readMfaPolicyConfig } from "./config";
import { cloudNamed, CloudName, CLOUDS, GRAPH_HOSTS } from "./graph/clouds";
import { GRAPH_ENDPOINT_VARIABLE } from "./graph/connection";
import { noncompliantMessage, reportedOn } from "./report/messages";
import { PolicyDependencies, RuleResult, StackEvaluator } from "./evidence/stackEvaluation";

/**
 * Every Entra ID user who holds no privileged role must have MFA (Conformity ActiveDirectory-002;
 * CIS Microsoft Azure Foundations "Multi-Factor Auth Status is Enabled for all Non-Privileged Users").
 */
export function nonPrivilegedUserMfa(dependencies: PolicyDependencies, evaluator: StackEvaluator): StackValidationPolicy {
    return {
        name: NON_PRIVILEGED_USER_MFA,
        displayName: "MFA for non-privileged Entra ID users",
        description: "Checks that every Entra ID user without a privileged role has multi-factor authentication.",
        enforcementLevel: "mandatory",
        severity: "high",
        framework: {
            name: "CIS Microsoft Azure Foundations Benchmark",
            version: "3.0.0",
            reference: "2.1.3",
            specification: "Ensure that 'Multi-Factor Auth Status' is 'Enabled' for all Non-Privileged Users (v2.x: 1.1.3; Trend Micro Conformity ActiveDirectory-002).",
        },
        tags: ["entra-id", "mfa", "identity", "cis-azure-2.1.3", "conformity-activedirectory-002"],
        url: "https://learn.microsoft.com/entra/identity/authentication/howto-mfa-userstates",
        remediationSteps: [
            "Turn on per-user MFA for each user the policy names, with the command in its message:",
            `az rest --method PATCH --uri 'https://graph.microsoft.com/beta/users/<object id>/authentication/requirements' --body '{"perUserMfaState":"enabled"}'`,
            "or require MFA for the user through Conditional Access. A user who must not have MFA (a break-glass account) goes in the policy's `exemptions` with a reason and an expiry date.",
        ].join("\n"),
        configSchema: mfaPolicyConfigSchema,
        // Not `async`: an async function would hold `args` (the SDK's decoded stack, and through it the
        // whole AnalyzeStack request) while Graph answers and the SDK decodes the next policy's copy.
        validateStack: (args, reportViolation) => {
            const config = readMfaPolicyConfig(args.getConfig<Record<string, unknown>>());
            return reportNoncompliant(evaluator.evaluate(args.resources, "non-privileged", config), dependencies.env, reportViolation);
        },
    };
}

/** Reports every user the rule found without MFA; a failed evaluation is the unverified-users policy's to report, it never fails users. */
export async function reportNoncompliant(pending: Promise<RuleResult>, env: NodeJS.ProcessEnv, reportViolation: ReportViolation): Promise<void> {
    const { rule, result, config } = await pending;
    if (!("evaluation" in result)) return;
    const graphBaseUrl = graphRootFor(env, config.cloud);
    for (const verdict of result.evaluation.verdicts) {
        if (verdict.kind === "noncompliant" && verdict.rule === rule) reportViolation(noncompliantMessage(verdict, graphBaseUrl), reportedOn(verdict));
    }
}

/**
 * The Graph root to show in fix commands: the cloud's own, which the user can run them against. An
 * `ENTRA_MFA_GUARD_GRAPH_ENDPOINT` that names another official Graph host is shown as it is; a loopback
 * one (an emulator, a proxy) redirects the pack's requests only.
 */
export function graphRootFor(env: NodeJS.ProcessEnv, cloud: CloudName | undefined): string {
    const endpointHost = hostOf(env[GRAPH_ENDPOINT_VARIABLE]?.trim());
    if (endpointHost !== undefined && GRAPH_HOSTS.has(endpointHost)) return `https://${endpointHost}`;
    return CLOUDS[cloud ?? cloudNamed(env.ARM_ENVIRONMENT ?? "") ?? "public"].graph;
}

function hostOf(address: string | undefined): string | undefined {
    try {
        return address ? new URL(address).hostname : undefined;
    } catch {
        return undefined;
    }
}
