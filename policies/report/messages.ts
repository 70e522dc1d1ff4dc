import { UserVerdict } from "../evaluate";
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
    return roles.map((role) => `${describeRole(role)}${role.viaGroup ? ` through group '${role.viaGroup}'` : ""}`).join(", ");
}

/** The seed rule's fix: turn per-user MFA on through Graph (https://learn.microsoft.com/graph/api/authentication-update-requirements). */
export function remediationCommand(user: InventoryUser, graphBaseUrl: string): string {
    const id = user.objectId ?? user.userPrincipalName ?? "<object id>";
    return `az rest --method PATCH --uri '${graphBaseUrl}/beta/users/${id}/authentication/requirements' --body '{"perUserMfaState":"enabled"}'`;
}

function rolesSentence(roles: readonly HeldRole[]): string {
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

/** The violation for a non-privileged user without MFA: one sentence naming the user, then the fix. */
export function noncompliantMessage(verdict: Extract<UserVerdict, { kind: "noncompliant" }>, graphBaseUrl: string): string {
    const { user } = verdict;
    const roles = rolesSentence(user.roles);
    if (verdict.newAccount) {
        return (
            `User ${nameOf(user)} will be created without multi-factor authentication: a new account starts with per-user MFA 'disabled'. ` +
            `${roles}${unnamedRolesNote(verdict)}${expiredNote(verdict)} ` +
            `Fix: after the deployment creates it, run: ${remediationCommand(user, graphBaseUrl)}`
        );
    }
    const state = verdict.perUserMfaState === undefined ? "missing" : verdict.perUserMfaState === null ? "null" : `'${verdict.perUserMfaState}'`;
    return (
        `User ${nameOf(user)} has no multi-factor authentication: its per-user MFA state is ${state}. ` +
        `${roles}${unnamedRolesNote(verdict)}${expiredNote(verdict)} ` +
        `Fix: ${remediationCommand(user, graphBaseUrl)}`
    );
}

export function unverifiedMessage(verdict: Extract<UserVerdict, { kind: "unverified" }>): string {
    return (
        `Could not verify multi-factor authentication for user ${nameOf(verdict.user)}: ${verdict.reason}. ` +
        `The user is neither passed nor failed; fix the cause and run the preview again.`
    );
}

export function problemMessage(problem: InventoryProblem): string {
    return `Could not read the stack completely: ${problem.urn} ${problem.message}. Users it concerns may be checked without all their roles.`;
}
