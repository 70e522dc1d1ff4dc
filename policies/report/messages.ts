import { EvidenceNote, UserVerdict } from "../evidence/evaluate";
import { describeRole } from "../inventory/buildInventory";
import { HeldRole, InventoryProblem, InventoryUser } from "../inventory/types";

/**
 * Messages as `pulumi preview` shows them: a first line that says who and what, short enough to
 * read at a glance, then indented lines for the evidence and the fix
 * (https://www.pulumi.com/docs/iac/using-pulumi/crossguard/core-concepts/#policy-violations).
 */

/** How a user is named on a first line: UPN or e-mail when known, else object id or resource name. */
export function nameOf(user: InventoryUser): string {
    return `'${user.displayName}'${user.isNew ? " (created by this deployment)" : ""}`;
}

/** The user's object id, when the name does not already show it. */
function objectIdLine(user: InventoryUser): string[] {
    return user.objectId && user.displayName !== user.objectId ? [`  Object id: ${user.objectId}`] : [];
}

export function describeRoles(roles: readonly HeldRole[]): string {
    if (roles.length === 0) return "no role in this stack";
    return roles
        .map((role) => `${describeRole(role)}${role.eligible ? " (eligible through PIM)" : ""}${role.viaGroup ? ` through group '${role.viaGroup}'` : ""}`)
        .join(", ");
}

/** "privileged: holds 'Owner'" or "non-privileged: holds 'Reader'", the few words a first line has room for. */
export function ruleClause(verdict: UserVerdict): string {
    const roles = verdict.rule === "privileged" ? verdict.classification.privilegedRoles : verdict.user.roles;
    if (roles.length === 0) return `${verdict.rule}: no role in this stack`;
    const names = [...new Set(roles.map(describeRole))];
    const shown = names.length > 2 ? `${names.slice(0, 2).join(", ")} and ${names.length - 2} more` : names.join(", ");
    return `${verdict.rule}: holds ${shown}`;
}

/** The seed rule's fix: turn per-user MFA on through Graph (https://learn.microsoft.com/graph/api/authentication-update-requirements). */
export function remediationCommand(user: InventoryUser, graphBaseUrl: string): string {
    const id = user.objectId ?? user.userPrincipalName ?? "<object id>";
    return `az rest --method PATCH --uri '${graphBaseUrl}/beta/users/${id}/authentication/requirements' --body '{"perUserMfaState":"enabled"}'`;
}

/** What was looked at, as one clause for reports: "Conditional Access: …; security defaults are off". */
export function evidenceSummary(verdict: UserVerdict): string {
    const notCounted = verdict.evidence.filter((e) => !e.counted).map((e) => e.detail);
    return notCounted.length > 0 ? notCounted.join("; ") : "no evidence of MFA was found";
}

/** One evidence note with what it looked at, for reports that have a single line per note. */
export function evidenceDetail(note: EvidenceNote): string {
    return note.lookedAt?.length ? `${note.detail} (looked at: ${note.lookedAt.join("; ")})` : note.detail;
}

/** The evidence as indented lines: each source, and under Conditional Access each policy looked at. */
export function evidenceLines(verdict: UserVerdict): string[] {
    const notes = verdict.evidence.filter((e) => !e.counted);
    if (notes.length === 0) return ["  - no evidence of MFA was found"];
    return notes.flatMap((note) => [`  - ${note.detail}`, ...(note.lookedAt ?? []).map((policy) => `      ${policy}`)]);
}

function contextLines(verdict: UserVerdict): string[] {
    const lines: string[] = [];
    const roles = verdict.rule === "privileged" ? verdict.classification.privilegedRoles : verdict.user.roles;
    if (roles.length > 2 || roles.some((r) => r.eligible || r.viaGroup)) lines.push(`  Roles: ${describeRoles(roles)}`);
    for (const role of verdict.classification.unnamedRoles) {
        lines.push(`  The role ${role.reference} could not be named (${role.unnamedBecause}), so it did not count as privileged.`);
    }
    const expired = verdict.expiredExemption;
    if (expired) lines.push(`  Its exemption ('${expired.reason}') expired on ${expired.expires} and no longer counts.`);
    return lines;
}

/** The violation for a user without MFA: who and what, the evidence, then the fix. */
export function noncompliantMessage(verdict: UserVerdict, graphBaseUrl: string): string {
    const { user } = verdict;
    const alternative = "or require MFA for the user with a Conditional Access policy";
    const headline = user.isNew ? `User ${nameOf(user)} will have no MFA (${ruleClause(verdict)})` : `User ${nameOf(user)} has no MFA (${ruleClause(verdict)})`;
    const fix = user.isNew
        ? [`  Fix, once the deployment has created it: ${remediationCommand(user, graphBaseUrl)}`, `  (${alternative} that includes it)`]
        : [`  Fix: ${remediationCommand(user, graphBaseUrl)}`, `  (${alternative})`];
    return [headline, ...objectIdLine(user), ...evidenceLines(verdict), ...contextLines(verdict), ...fix].join("\n");
}

/**
 * A user the pack could not verify. A cause shared by several users is stated once per run
 * (`sharedCauses`, numbered); the user's message then refers to it by number.
 */
export function unverifiedMessage(verdict: UserVerdict, sharedCauses: ReadonlyMap<string, number> = new Map()): string {
    const causes = verdict.causes ?? (verdict.reason ? [verdict.reason] : []);
    const lines = causes.map((cause) => (sharedCauses.has(cause) ? `  - cause ${sharedCauses.get(cause)} above (${shortCause(cause)})` : `  - ${cause}`));
    return [
        `User ${nameOf(verdict.user)}: MFA not verified (${ruleClause(verdict)})`,
        ...objectIdLine(verdict.user),
        ...lines,
        "  It is neither passed nor failed; fix the cause and run again.",
    ].join("\n");
}

/** A cause many users share, stated once, with how many it concerns. */
export function sharedCauseMessage(cause: string, number: number, users: number): string {
    return `Could not verify MFA for ${users} users (cause ${number}):\n  ${cause}`;
}

/** The first clause of a cause, for a short reference to it. */
function shortCause(cause: string): string {
    const first = cause.split(/[;(]/)[0].trim();
    return first.length > 80 ? `${first.slice(0, 77)}...` : first;
}

export function problemMessage(problem: InventoryProblem): string {
    return `Could not read the stack completely: ${problem.urn} ${problem.message}.\n  Users it concerns may be checked without all their roles.`;
}

/**
 * The URN a user's violation is shown on: the user's resource, or for a user outside the stack
 * the assignment that gives it the role the rule is about.
 */
export function reportedOn(verdict: UserVerdict): string | undefined {
    const role = verdict.rule === "privileged" ? verdict.classification.privilegedRoles[0] : verdict.user.roles[0];
    return verdict.user.urn ?? role?.assignmentUrn;
}
