import { ResourceValidationPolicy, UnknownValueError } from "@pulumi/policy";
import { DEFAULT_CONFIG, PRIVILEGED_ASSIGNMENT_MFA_COVERAGE, PRIVILEGED_USER_MFA } from "./config";
import { ConditionalAccessPolicy, conditionalAccessPolicyFromGraph, coverageOf } from "./evidence/conditionalAccess";
import { buildInventory, describeRole } from "./inventory/buildInventory";
import { copyPropertyBag } from "./inventory/propertyValues";
import { resourceKindOf, ResourceKind } from "./inventory/resourceTypes";
import { classifyUser, roleNameMatcher } from "./roles/classify";
import { PolicyDependencies } from "./evidence/stackEvaluation";

/**
 * How long an early warning may wait for the tenant's policies. It must never hold a preview up:
 * if Graph is slower, the warning stays silent and the stack policies decide within their budget.
 */
const ANALYZE_TIME_BUDGET_MS = 1_500;

const ASSIGNMENT_KINDS: ReadonlySet<ResourceKind> = new Set<ResourceKind>([
    "azureRoleAssignment",
    "classicRoleAssignment",
    "directoryRoleAssignment",
    "directoryRoleEligibility",
    "azureRoleEligibility",
]);

/**
 * An early warning, at `Analyze` time on the one assignment: it gives a user a privileged role,
 * and no enabled Conditional Access policy of the tenant requires MFA of that user. Group
 * memberships are not read here; `entra-privileged-user-mfa` decides with every piece of evidence
 * at the end of the preview. When the tenant's policies cannot be read, it stays silent rather
 * than warn on a guess.
 */
export function privilegedAssignmentMfaCoverage(dependencies: PolicyDependencies): ResourceValidationPolicy {
    // Read once per process, success or not: one slow read must not be paid per assignment.
    let tenantPolicies: Promise<ConditionalAccessPolicy[] | undefined> | undefined;
    const readTenantPolicies = () =>
        (tenantPolicies ??= dependencies.evidence
            .conditionalAccessPolicies({ deadline: dependencies.now().getTime() + ANALYZE_TIME_BUDGET_MS })
            .then((answer) => (answer.kind === "value" ? answer.value.map(conditionalAccessPolicyFromGraph) : undefined))
            .catch(() => undefined));
    return {
        name: PRIVILEGED_ASSIGNMENT_MFA_COVERAGE,
        displayName: "Privileged role assignments are covered by a Conditional Access policy requiring MFA",
        description: `Warns when a role assignment gives a user a privileged role and no enabled Conditional Access policy of the tenant requires MFA of that user. ${PRIVILEGED_USER_MFA} checks the user's MFA itself.`,
        enforcementLevel: "advisory",
        severity: "high",
        tags: ["entra-id", "mfa", "privileged-access", "conditional-access"],
        url: "https://learn.microsoft.com/entra/identity/conditional-access/policy-old-require-mfa-admin",
        remediationSteps: "Require MFA for privileged roles with a Conditional Access policy (Microsoft's template 'Require multifactor authentication for admins').",
        validateResource: async (args, reportViolation) => {
            const kind = resourceKindOf(args.type);
            if (!kind || !ASSIGNMENT_KINDS.has(kind)) return;
            const props = copyPropertyBag(args.props, (error) => error instanceof UnknownValueError);
            const inventory = buildInventory([{ urn: args.urn, type: args.type, name: args.name, props, propertyDependencies: {} }], dependencies.catalog);
            const rules = { isPrivilegedRoleName: roleNameMatcher(DEFAULT_CONFIG.privilegedRolePatterns), useEntraPrivilegedLabel: false };
            const privileged = inventory.users.filter((user) => classifyUser(user, rules).privileged);
            if (privileged.length === 0) return;
            const policies = await readTenantPolicies();
            if (!policies) return;
            for (const user of privileged) {
                const facts = {
                    objectId: user.objectId,
                    isGuest: false,
                    groupIds: new Set<string>(),
                    roleTemplateIds: new Set(user.roles.map((r) => r.templateId).filter((t): t is string => !!t)),
                    stackGroupUrns: new Set<string>(),
                    groupNames: new Map<string, string>(),
                };
                if (policies.some((policy) => coverageOf(policy, facts, DEFAULT_CONFIG.conditionalAccessApplications).covers)) continue;
                const roles = classifyUser(user, rules).privilegedRoles.map(describeRole).join(", ");
                reportViolation(
                    `This assignment gives user ${user.objectId} the privileged role ${roles}, and no enabled Conditional Access policy of the tenant requires MFA of that user. ` +
                        `${PRIVILEGED_USER_MFA} checks the user's own MFA at the end of the preview; a Conditional Access policy requiring MFA for privileged roles would cover every such user.`,
                );
            }
        },
    };
}
