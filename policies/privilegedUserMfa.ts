import { StackValidationPolicy } from "@pulumi/policy";
import { NON_PRIVILEGED_USER_MFA, PRIVILEGED_USER_MFA } from "./config";
import { reportNoncompliant } from "./nonPrivilegedUserMfa";
import { PolicyDependencies, StackEvaluator } from "./evidence/stackEvaluation";

/**
 * Every Entra ID user who holds a privileged role, actively or as eligible through PIM, must have
 * MFA (CIS Microsoft Azure Foundations "Multi-Factor Auth Status is Enabled for all Privileged Users").
 */
export function privilegedUserMfa(dependencies: PolicyDependencies, evaluator: StackEvaluator): StackValidationPolicy {
    return {
        name: PRIVILEGED_USER_MFA,
        displayName: "MFA for privileged Entra ID users",
        description: "Checks that every Entra ID user with a privileged role, active or eligible, has multi-factor authentication.",
        enforcementLevel: "mandatory",
        severity: "critical",
        framework: {
            name: "CIS Microsoft Azure Foundations Benchmark",
            version: "3.0.0",
            reference: "2.1.2",
            specification: "Ensure that 'Multi-Factor Auth Status' is 'Enabled' for all Privileged Users (v2.x: 1.1.2; v4.0: 6.1.2 and v5.0: 5.1.2 for all users).",
        },
        tags: ["entra-id", "mfa", "identity", "privileged-access", "cis-azure-2.1.2", "cis-azure-1.1.2"],
        url: "https://learn.microsoft.com/entra/identity/conditional-access/policy-old-require-mfa-admin",
        remediationSteps: [
            "Require MFA for the user's roles with a Conditional Access policy (Microsoft's template 'Require multifactor authentication for admins'),",
            "or turn on per-user MFA with the command in the message:",
            `az rest --method PATCH --uri 'https://graph.microsoft.com/beta/users/<object id>/authentication/requirements' --body '{"perUserMfaState":"enabled"}'`,
        ].join("\n"),
        // Not `async`, for the reason given on entra-non-privileged-user-mfa.
        validateStack: (args, reportViolation) => reportNoncompliant(evaluator.evaluate(args.resources, "privileged"), dependencies.env, reportViolation),
    };
}
