import { ResourceValidationPolicy, UnknownValueError } from "@pulumi/policy";
import { CONDITIONAL_ACCESS_MFA_ENFORCED } from "./config";
import { conditionalAccessPolicyFromStack, isMeantToRequireMfa, NO_STACK_REFERENCES } from "./evidence/conditionalAccess";
import { copyPropertyBag } from "./inventory/propertyValues";
import { resourceKindOf } from "./inventory/resourceTypes";

interface ExclusionConfig {
    /** Object ids (users or groups) a policy may exclude, each with the reason it may. */
    allowedExclusions: { id: string; reason: string }[];
}

/**
 * An early warning, at `Analyze` time on the one resource: a Conditional Access policy meant to
 * require MFA that enforces nothing (disabled or report-only), or that excludes users or groups
 * nobody recorded a reason for. The stack policies then say which users that leaves without MFA.
 */
export function conditionalAccessMfaEnforced(): ResourceValidationPolicy {
    return {
        name: CONDITIONAL_ACCESS_MFA_ENFORCED,
        displayName: "Conditional Access policies that require MFA are enforced",
        description:
            "Checks that a Conditional Access policy requiring MFA is enabled (not disabled or report-only), and that every user or group it excludes is listed in allowedExclusions with a reason.",
        enforcementLevel: "advisory",
        severity: "medium",
        tags: ["entra-id", "mfa", "conditional-access"],
        url: "https://learn.microsoft.com/entra/identity/conditional-access/concept-conditional-access-report-only",
        remediationSteps:
            "Set the policy's state to 'enabled' once its report-only results look right, and record every exclusion (e.g. break-glass accounts) in this policy's allowedExclusions with a reason.",
        configSchema: {
            properties: {
                allowedExclusions: {
                    type: "array",
                    default: [],
                    description: "Object ids a Conditional Access policy may exclude, each with its reason (e.g. the break-glass group).",
                    items: {
                        type: "object",
                        required: ["id", "reason"],
                        additionalProperties: false,
                        properties: { id: { type: "string", minLength: 1 }, reason: { type: "string", minLength: 1 } },
                    },
                },
            },
        },
        validateResource: (args, reportViolation) => {
            if (resourceKindOf(args.type) !== "conditionalAccessPolicy") return;
            const props = copyPropertyBag(args.props, (error) => error instanceof UnknownValueError);
            const policy = conditionalAccessPolicyFromStack({ urn: args.urn, type: args.type, name: args.name, props, propertyDependencies: {} }, NO_STACK_REFERENCES);
            if (!isMeantToRequireMfa(policy)) return;
            if (policy.state === "disabled") {
                reportViolation(`Conditional Access policy '${policy.displayName}' requires MFA but is disabled, so it requires MFA of nobody.`);
            } else if (policy.state === "enabledForReportingButNotEnforced") {
                reportViolation(`Conditional Access policy '${policy.displayName}' requires MFA but is report-only, so it requires MFA of nobody yet.`);
            }
            const { allowedExclusions = [] } = args.getConfig<Partial<ExclusionConfig>>();
            const allowed = new Set(allowedExclusions.map((e) => e.id.toLowerCase()));
            const unexplained = [...policy.exclude.users.values, ...policy.exclude.groups.values].filter((id) => !allowed.has(id) && id !== "none");
            if (unexplained.length > 0) {
                reportViolation(
                    `Conditional Access policy '${policy.displayName}' excludes ${unexplained.join(", ")} from MFA with no reason recorded; ` +
                        `add each to allowedExclusions with its reason, or remove the exclusion.`,
                );
            }
        },
    };
}
