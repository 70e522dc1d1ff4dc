import { Exemption, MfaPolicyConfig } from "./config";
import { MfaEvidence } from "./graph/mfaEvidence";
import { Inventory, InventoryProblem, InventoryUser } from "./inventory/types";
import { Classification, classifyUser, roleNameMatcher } from "./roles/classify";

/** Per-user MFA states that count as MFA (https://learn.microsoft.com/entra/identity/authentication/howto-mfa-userstates). */
export const MFA_STATES_THAT_PASS: ReadonlySet<string> = new Set(["enabled", "enforced"]);

export type UserVerdict =
    | (VerdictBase & { kind: "compliant"; perUserMfaState: string })
    | (VerdictBase & { kind: "noncompliant"; perUserMfaState: string | null | undefined; newAccount: boolean })
    | (VerdictBase & { kind: "unverified"; reason: string })
    | (VerdictBase & { kind: "exempt"; exemption: Exemption })
    | (VerdictBase & { kind: "out-of-scope"; reason: string });

interface VerdictBase {
    user: InventoryUser;
    classification: Classification;
    /** An exemption that names the user but has run out; it is shown, and does not count. */
    expiredExemption?: Exemption;
}

export interface StackEvaluation {
    verdicts: UserVerdict[];
    problems: InventoryProblem[];
}

export interface EvaluationContext {
    config: MfaPolicyConfig;
    evidence: MfaEvidence;
    now: Date;
}

/**
 * Decides, for every user of the inventory, whether the non-privileged rule holds. Graph is asked
 * only for users in scope whose object id is known, all at once.
 */
export async function evaluateNonPrivilegedUsers(inventory: Inventory, context: EvaluationContext): Promise<StackEvaluation> {
    const { config, now } = context;
    const rules = { isPrivilegedRoleName: roleNameMatcher(config.privilegedRolePatterns), useEntraPrivilegedLabel: config.useEntraPrivilegedLabel };
    const pending: { user: InventoryUser; base: VerdictBase }[] = [];
    const verdicts: UserVerdict[] = [];

    for (const user of inventory.users) {
        const classification = classifyUser(user, rules);
        const exemption = exemptionFor(user, config.exemptions);
        const expired = exemption && isExpired(exemption, now) ? exemption : undefined;
        const base: VerdictBase = { user, classification, ...(expired ? { expiredExemption: expired } : {}) };
        if (classification.privileged) {
            verdicts.push({ ...base, kind: "out-of-scope", reason: "holds a privileged role" });
        } else if (user.isGuest && !config.includeGuests) {
            verdicts.push({ ...base, kind: "out-of-scope", reason: "is a guest and includeGuests is off" });
        } else if (user.accountEnabled === false && !config.includeDisabledAccounts) {
            verdicts.push({ ...base, kind: "out-of-scope", reason: "has sign-in disabled and includeDisabledAccounts is off" });
        } else if (exemption && !expired) {
            verdicts.push({ ...base, kind: "exempt", exemption });
        } else if (user.isNew) {
            // Graph creates accounts with per-user MFA disabled, and the stack cannot say otherwise.
            verdicts.push({ ...base, kind: "noncompliant", perUserMfaState: "disabled", newAccount: true });
        } else if (!user.objectId) {
            verdicts.push({ ...base, kind: "unverified", reason: "its object id could not be read from the stack" });
        } else {
            pending.push({ user, base });
        }
    }

    if (pending.length > 0) {
        const deadline = now.getTime() + config.verificationBudgetSeconds * 1000;
        const answers = await context.evidence
            .perUserMfaStates(
                pending.map((p) => p.user.objectId!),
                { cloud: config.cloud, deadline },
            )
            .catch((error: unknown) => new Error(error instanceof Error ? error.message : String(error)));
        for (const { user, base } of pending) {
            const answer = answers instanceof Error ? { kind: "unverified" as const, reason: `the MFA check failed: ${answers.message}` } : answers.get(user.objectId!);
            if (!answer) {
                verdicts.push({ ...base, kind: "unverified", reason: "no answer was recorded for the user" });
            } else if (answer.kind === "unverified") {
                verdicts.push({ ...base, kind: "unverified", reason: answer.reason });
            } else if (typeof answer.state === "string" && MFA_STATES_THAT_PASS.has(answer.state)) {
                verdicts.push({ ...base, kind: "compliant", perUserMfaState: answer.state });
            } else {
                verdicts.push({ ...base, kind: "noncompliant", perUserMfaState: answer.state, newAccount: false });
            }
        }
    }

    const order = new Map(inventory.users.map((user, index) => [user.key, index]));
    verdicts.sort((a, b) => order.get(a.user.key)! - order.get(b.user.key)!);
    return { verdicts, problems: inventory.problems };
}

function exemptionFor(user: InventoryUser, exemptions: readonly Exemption[]): Exemption | undefined {
    const names = [user.userPrincipalName, user.objectId].filter((n): n is string => !!n).map((n) => n.toLowerCase());
    return exemptions.find((exemption) => names.includes(exemption.user.trim().toLowerCase()));
}

/** An exemption counts through the whole of its `expires` day, in UTC. */
export function isExpired(exemption: Exemption, now: Date): boolean {
    if (!exemption.expires) return false;
    const lastDay = Date.parse(`${exemption.expires}T23:59:59.999Z`);
    return Number.isNaN(lastDay) || now.getTime() > lastDay;
}
