import { ResourceValidationPolicy, UnknownValueError } from "@pulumi/policy";
import { mfaPolicyConfigSchema, PRIVILEGED_ASSIGNMENT_MFA_COVERAGE, PRIVILEGED_USER_MFA, readMfaPolicyConfig } from "./config";
import { evaluateUsers } from "./evidence/evaluate";
import { sharingInFlight } from "./graph/mfaEvidence";
import { PolicyDependencies } from "./evidence/stackEvaluation";
import { buildInventory } from "./inventory/buildInventory";
import { copyPropertyBag } from "./inventory/propertyValues";
import { READ_PROPERTIES, resourceKindOf, ResourceKind } from "./inventory/resourceTypes";
import { evidenceLines, nameOf, ruleClause } from "./report/messages";

/**
 * How long the early warnings may hold `Analyze` calls for Graph, in all, per process. The engine
 * waits for each `Analyze`, so a wait per assignment would add up over a large stack: once this is
 * spent, a warning is decided only from answers already in hand (the prefetch's, which keep
 * coming in while the preview runs), and is silent otherwise. One second lets the first few
 * assignments of a preview wait for their round trips; 3 s held a 1,000-user preview 3 s longer
 * in the benchmark for warnings `entra-privileged-user-mfa` gives at the end anyway.
 */
const ANALYZE_TIME_BANK_MS = 1_000;

const ASSIGNMENT_KINDS: ReadonlySet<ResourceKind> = new Set<ResourceKind>([
    "azureRoleAssignment",
    "classicRoleAssignment",
    "directoryRoleAssignment",
    "directoryRoleEligibility",
    "azureRoleEligibility",
]);

/**
 * An early warning, at `Analyze` time on the one assignment: it makes an existing user privileged,
 * and the evidence the stack rules accept shows no MFA for that user. It decides with the same
 * settings and the same evidence as `entra-privileged-user-mfa`, but sees only this resource, so
 * it speaks only when that rule's answer for the user would be "no MFA" on its own; whenever it
 * cannot know (a user created by this deployment, a fact Graph did not give in time), it is silent.
 */
export function privilegedAssignmentMfaCoverage(dependencies: PolicyDependencies): ResourceValidationPolicy {
    let bankMs = ANALYZE_TIME_BANK_MS;
    // Best effort: a question the prefetch already has in flight is waited for, not asked twice.
    const evidence = sharingInFlight(dependencies.evidence);
    return {
        name: PRIVILEGED_ASSIGNMENT_MFA_COVERAGE,
        displayName: "Privileged role assignments go to users with MFA",
        description: "Warns as a role assignment is analyzed when it makes an existing user privileged without MFA.",
        enforcementLevel: "advisory",
        severity: "high",
        tags: ["entra-id", "mfa", "privileged-access", "conditional-access"],
        url: "https://learn.microsoft.com/entra/identity/conditional-access/policy-old-require-mfa-admin",
        remediationSteps: "Require MFA for privileged roles with a Conditional Access policy (Microsoft's template 'Require multifactor authentication for admins'), or turn on per-user MFA for the user.",
        configSchema: mfaPolicyConfigSchema,
        validateResource: async (args, reportViolation) => {
            const kind = resourceKindOf(args.type);
            if (!kind) return;
            const config = readMfaPolicyConfig(args.getConfig<Record<string, unknown>>());
            dependencies.prefetch?.observe(args, config);
            if (!ASSIGNMENT_KINDS.has(kind)) return;
            if (dependencies.analyzeTimeSettings) dependencies.analyzeTimeSettings.config = config;
            const props = copyPropertyBag(args.props, (error) => error instanceof UnknownValueError, READ_PROPERTIES[kind]);
            // The user the assignment names, when the prefetch has matched it to a user resource of the
            // stack: read from its inputs, as the stack rule will, rather than asked of Graph as an outsider.
            const principalId = [props.principalId, props.principalObjectId].find((value): value is string => typeof value === "string");
            const assignment = { urn: args.urn, type: args.type, name: args.name, props, propertyDependencies: {} };
            // A user this deployment creates has no MFA state to read yet; the stack rule speaks for it.
            if (buildInventory([assignment], dependencies.catalog).users.every((user) => user.isNew || !user.objectId)) return;
            const now = dependencies.now();
            const deadline = now.getTime() + Math.max(0, bankMs);
            let evaluation;
            const startedAt = Date.now();
            try {
                const stackUser = principalId === undefined ? undefined : await dependencies.prefetch?.stackUser(principalId, { cloud: config.cloud, deadline });
                const inventory = buildInventory(stackUser ? [stackUser, assignment] : [assignment], dependencies.catalog);
                evaluation = await evaluateUsers(inventory, { config, evidence, now, deadline }, new Set(["privileged"] as const));
            } catch {
                return;
            } finally {
                bankMs -= Date.now() - startedAt;
            }
            for (const verdict of evaluation.verdicts) {
                if (verdict.kind !== "noncompliant" || verdict.user.isNew) continue;
                reportViolation(
                    [
                        `This assignment gives user ${nameOf(verdict.user)} a privileged role without MFA (${ruleClause(verdict)})`,
                        ...evidenceLines(verdict),
                        `  ${PRIVILEGED_USER_MFA} decides at the end of the preview; a Conditional Access policy requiring MFA for privileged roles covers every such user.`,
                    ].join("\n"),
                );
            }
        },
    };
}
