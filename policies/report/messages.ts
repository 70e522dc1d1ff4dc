import { UserVerdict } from "../evidence/evaluate";
import { describeRole } from "../inventory/buildInventory";
import { HeldRole, InventoryProblem, InventoryUser } from "../inventory/types";

/** How a user is named in a message: UPN (or e-mail), with the object id when known. */
export function nameOf(user: InventoryUser): string {
    if (user.objectId && user.displayName !== user.objectId) return `'${user.displayName}' (object id ${user.objectId})`;
    if (user.objectId) return `with object id ${user.objectId}`;
    return `'${user.displayName}'${user.isNew ? " (created by this deployment)" : ""}`;
}

export function describeRoles(roles: readonly HeldRole[]): string {
    if (roles.length === 0) return "no role in this stack";
    return roles
        .map((role) => `${describeRole(role)}${role.eligible ? " (eligible through PIM)" : ""}${role.viaGroup ? ` through group '${role.viaGroup}'` : ""}`)
        .join(", ");
}

/** The seed rule's fix: turn per-user MFA on through Graph (https://learn.microsoft.com/graph/api/authentication-update-requirements). */
export function remediationCommand(user: InventoryUser, graphBaseUrl: string): string {
    const id = user.objectId ?? user.userPrincipalName ?? "<object id>";
    return `az rest --method PATCH --uri '${graphBaseUrl}/beta/users/${id}/authentication/requirements' --body '{"perUserMfaState":"enabled"}'`;
}

function rolesSentence(verdict: UserVerdict): string {
    const { roles } = verdict.user;
    if (verdict.rule === "privileged") {
        return `It holds the privileged role${verdict.classification.privilegedRoles.length > 1 ? "s" : ""} ${describeRoles(verdict.classification.privilegedRoles)}.`;
    }
    if (roles.length === 0) return "It holds no role in this stack.";
    if (roles.length === 1) return `Its only role, ${describeRoles(roles)}, is not privileged.`;
    return `None of its roles (${describeRoles(roles)}) is privileged.`;
}

function unnamedRolesNote(verdict: UserVerdict): string {
    const unnamed = verdict.classification.unnamedRoles;
    if (unnamed.length === 0) return "";
    return ` ${unnamed.map((role) => `The role ${role.reference} could not be named (${role.unnamedBecause}), so it did not count as privileged.`).join(" ")}`;
}

function expiredNote(verdict: UserVerdict): string {
    const expired = verdict.expiredExemption;
    return expired ? ` Its exemption ('${expired.reason}') expired on ${expired.expires} and no longer counts.` : "";
}

/** What was looked at, as one clause: "its per-user MFA state is 'disabled'; security defaults are off". */
export function evidenceSummary(verdict: UserVerdict): string {
    const notCounted = verdict.evidence.filter((e) => !e.counted).map((e) => e.detail);
    return notCounted.length > 0 ? notCounted.join("; ") : "no evidence of MFA was found";
}

/** The violation for a user without MFA: one sentence naming the user and why, then the fix. */
export function noncompliantMessage(verdict: UserVerdict, graphBaseUrl: string): string {
    const { user } = verdict;
    const context = `${rolesSentence(verdict)}${unnamedRolesNote(verdict)}${expiredNote(verdict)}`;
    const alternative = "or require MFA for it with a Conditional Access policy";
    if (user.isNew) {
        return (
            `User ${nameOf(user)} will be created without multi-factor authentication: ${evidenceSummary(verdict)}. ${context} ` +
            `Fix: after the deployment creates it, run: ${remediationCommand(user, graphBaseUrl)} (${alternative} that includes it).`
        );
    }
    return `User ${nameOf(user)} has no multi-factor authentication: ${evidenceSummary(verdict)}. ${context} Fix: ${remediationCommand(user, graphBaseUrl)} (${alternative}).`;
}

export function unverifiedMessage(verdict: UserVerdict): string {
    return (
        `Could not verify multi-factor authentication for user ${nameOf(verdict.user)}: ${verdict.reason}. ` +
        `The user is neither passed nor failed; fix the cause and run the preview again.`
    );
}

export function problemMessage(problem: InventoryProblem): string {
    return `Could not read the stack completely: ${problem.urn} ${problem.message}. Users it concerns may be checked without all their roles.`;
}

/**
 * The URN a user's violation is shown on: the user's resource, or for a user outside the stack
 * the assignment that gives it the role the rule is about.
 */
export function reportedOn(verdict: UserVerdict): string | undefined {
    const role = verdict.rule === "privileged" ? verdict.classification.privilegedRoles[0] : verdict.user.roles[0];
    return verdict.user.urn ?? role?.assignmentUrn;
}
