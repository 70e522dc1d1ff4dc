import { EvidenceSourceName, Exemption, MfaPolicyConfig } from "../config";
import { conditionalAccessPolicyFromGraph, conditionalAccessPolicyFromStack, StackReferences } from "./conditionalAccess";
import { conditionalAccessCoverage } from "./coverage";
import { factsNeededBy, userFactsOf } from "./userFacts";
import { EvidenceRequest, MfaEvidence } from "../graph/mfaEvidence";
import { Inventory, InventoryProblem, InventoryUser } from "../inventory/types";
import { EvidenceSource } from "../report/reportTypes";
import { Classification, classifyUser, roleNameMatcher } from "../roles/classify";

/** Per-user MFA states that count as MFA (https://learn.microsoft.com/entra/identity/authentication/howto-mfa-userstates). */
export const MFA_STATES_THAT_PASS: ReadonlySet<string> = new Set(["enabled", "enforced"]);

/** The two CIS rules: MFA for users without a privileged role, and for users with one. */
export type Rule = "non-privileged" | "privileged";

export interface EvidenceNote {
    source: EvidenceSource;
    /** Whether this piece of evidence showed MFA for the user. */
    counted: boolean;
    detail: string;
    /** What was looked at to reach `detail`, one entry a line in messages (Conditional Access policies). */
    lookedAt?: string[];
}

export interface UserVerdict {
    user: InventoryUser;
    rule: Rule;
    classification: Classification;
    kind: "compliant" | "noncompliant" | "unverified" | "exempt" | "out-of-scope";
    /** What was looked at, in order, and why each did or did not count. */
    evidence: EvidenceNote[];
    decidedBy?: EvidenceSource;
    /** Why the user is unverified or out of scope. */
    reason?: string;
    /** Each distinct reason the user is unverified; one cause is often shared by many users. */
    causes?: string[];
    exemption?: Exemption;
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
    /** Epoch ms by which all evidence must be in; default `now` + the configured budget. One per stack, whatever the rules. */
    deadline?: number;
}

/** A user still to decide, with the evidence gathered so far and what could not be read. */
interface Pending {
    verdict: UserVerdict;
    uncertain: string[];
}

/**
 * Decides every user of the inventory under the rules asked for. Evidence is gathered cheapest
 * first (Conditional Access and security defaults once per tenant, then per-user state, then
 * registration), each source asked only about users nothing before it covered. A source that
 * could not be read makes a user unverified, never non-compliant: it might have shown MFA.
 */
export async function evaluateUsers(inventory: Inventory, context: EvaluationContext, rules: ReadonlySet<Rule>): Promise<StackEvaluation> {
    const { config, now, evidence } = context;
    const request: EvidenceRequest = { cloud: config.cloud, deadline: context.deadline ?? now.getTime() + config.verificationBudgetSeconds * 1000 };
    const expanded = await withOutsideUserProfiles(await withOutsideGroupMembers(inventory, evidence, request), evidence, request);
    const classificationRules = { isPrivilegedRoleName: roleNameMatcher(config.privilegedRolePatterns), useEntraPrivilegedLabel: config.useEntraPrivilegedLabel };

    const decided: UserVerdict[] = [];
    const pending: Pending[] = [];
    for (const user of expanded.users) {
        const classification = classifyUser(user, classificationRules);
        const rule: Rule = classification.privileged ? "privileged" : "non-privileged";
        if (!rules.has(rule)) continue;
        const exemption = exemptionFor(user, config.exemptions);
        const expired = exemption && isExpired(exemption, now) ? exemption : undefined;
        const verdict: UserVerdict = { user, rule, classification, kind: "noncompliant", evidence: [], ...(expired ? { expiredExemption: expired } : {}) };
        if (user.isGuest && !config.includeGuests) {
            decided.push({ ...verdict, kind: "out-of-scope", reason: "is a guest and includeGuests is off" });
        } else if (user.accountEnabled === false && !config.includeDisabledAccounts) {
            decided.push({ ...verdict, kind: "out-of-scope", reason: "has sign-in disabled and includeDisabledAccounts is off" });
        } else if (exemption && !expired) {
            decided.push({ ...verdict, kind: "exempt", exemption });
        } else {
            pending.push({ verdict, uncertain: [] });
        }
    }

    // Each source may spend at most an equal share of what is left of the budget (time it does not
    // use carries over), so one source that keeps failing cannot starve the sources after it.
    const startedAt = Date.now();
    const clock = () => now.getTime() + (Date.now() - startedAt);
    let undecided = pending;
    for (const [index, source] of config.acceptedEvidence.entries()) {
        if (undecided.length === 0) break;
        const sourcesLeft = config.acceptedEvidence.length - index;
        const share = Math.floor(Math.max(0, request.deadline - clock()) / sourcesLeft);
        const sourceRequest = { ...request, deadline: sourcesLeft > 1 ? Math.min(request.deadline, clock() + share) : request.deadline };
        await GATHER[source](undecided, { ...context, request: sourceRequest, inventory: expanded });
        undecided = undecided.filter((p) => p.verdict.kind !== "compliant");
    }
    for (const { verdict, uncertain } of undecided) {
        if (uncertain.length > 0) {
            verdict.kind = "unverified";
            verdict.causes = [...new Set(uncertain)];
            verdict.reason = verdict.causes.join("; ");
        }
    }

    const all = [...decided, ...pending.map((p) => p.verdict)];
    const order = new Map(expanded.users.map((user, index) => [user.key, index]));
    all.sort((a, b) => order.get(a.user.key)! - order.get(b.user.key)!);
    return { verdicts: all, problems: expanded.problems };
}

type Gatherer = (pending: Pending[], context: EvaluationContext & { request: EvidenceRequest; inventory: Inventory }) => Promise<void>;

function pass(item: Pending, source: EvidenceSource, detail: string): void {
    item.verdict.kind = "compliant";
    item.verdict.decidedBy = source;
    item.verdict.evidence.push({ source, counted: true, detail });
}

function note(item: Pending, source: EvidenceSource, detail: string, lookedAt?: string[]): void {
    item.verdict.evidence.push({ source, counted: false, detail, ...(lookedAt?.length ? { lookedAt } : {}) });
}

const GATHER: Record<EvidenceSourceName, Gatherer> = {
    async conditionalAccess(pending, { evidence, request, inventory, config }) {
        const stackPolicies = inventory.conditionalAccessPolicies.map((p) => conditionalAccessPolicyFromStack(p, stackReferencesOf(inventory)));
        const tenant = await evidence.conditionalAccessPolicies(request);
        const policies = [...stackPolicies, ...(tenant.kind === "value" ? tenant.value.map(conditionalAccessPolicyFromGraph) : [])];
        const coverage = conditionalAccessCoverage(policies, { acceptedApplications: config.conditionalAccessApplications });
        const needed = factsNeededBy(policies);
        const existingIds = pending.map((p) => p.verdict.user).filter((u) => u.objectId && !u.isNew).map((u) => u.objectId!);
        const memberships = needed.memberships && existingIds.length ? await evidence.memberships(existingIds, request) : new Map<string, never>();

        for (const item of pending) {
            const { user } = item.verdict;
            const facts = userFactsOf(user, needed, { memberships: memberships.get(user.objectId ?? "") });
            const verdict = coverage(facts);
            if (verdict.kind === "covered") {
                pass(item, "conditionalAccess", `Conditional Access ${verdict.by.length > 1 ? `policies ${verdict.by.join(" and ")} together require` : `policy ${verdict.by[0]} requires`} MFA (or block access) at every sign-in`);
                continue;
            }
            // More policies can only cover more: without the tenant's, only a stack policy can pass a user.
            if (tenant.kind === "unverified") {
                note(item, "conditionalAccess", `the tenant's Conditional Access policies could not be read: ${tenant.reason}`);
                item.uncertain.push(`the tenant's Conditional Access policies could not be read (${tenant.reason})`);
            } else if (verdict.kind === "not-covered") {
                note(item, "conditionalAccess", `Conditional Access: ${verdict.open}`, verdict.lookedAt);
            } else {
                note(item, "conditionalAccess", `Conditional Access coverage could not be decided: ${verdict.causes.join("; ")}`, verdict.lookedAt);
                item.uncertain.push(...verdict.causes);
            }
        }
    },

    async securityDefaults(pending, { evidence, request }) {
        const answer = await evidence.securityDefaultsEnabled(request);
        for (const item of pending) {
            if (answer.kind === "unverified") {
                note(item, "securityDefaults", `security defaults could not be read: ${answer.reason}`);
                item.uncertain.push(`security defaults could not be read (${answer.reason})`);
            } else if (answer.value) {
                pass(item, "securityDefaults", "security defaults are on, which require MFA");
            } else {
                note(item, "securityDefaults", "security defaults are off");
            }
        }
    },

    async perUserMfa(pending, { evidence, request }) {
        const asked = pending.filter((p) => p.verdict.user.objectId);
        const answers = asked.length ? await evidence.perUserMfaStates(asked.map((p) => p.verdict.user.objectId!), request) : new Map();
        for (const item of pending) {
            const { user } = item.verdict;
            if (user.isNew) {
                // Graph creates accounts with per-user MFA disabled, and the stack cannot say otherwise.
                note(item, "newAccount", "a new account starts with per-user MFA 'disabled'");
                continue;
            }
            if (!user.objectId) {
                item.uncertain.push("its object id could not be read from the stack");
                continue;
            }
            const answer = answers.get(user.objectId);
            if (!answer || answer.kind === "unverified") {
                const reason = answer?.reason ?? "no answer was recorded for the user";
                note(item, "perUserMfa", `per-user MFA state could not be read: ${reason}`);
                item.uncertain.push(reason);
            } else if (typeof answer.state === "string" && MFA_STATES_THAT_PASS.has(answer.state)) {
                pass(item, "perUserMfa", `per-user MFA state is '${answer.state}'`);
            } else {
                const state = answer.state === undefined ? "missing" : answer.state === null ? "null" : `'${answer.state}'`;
                note(item, "perUserMfa", `per-user MFA state is ${state}`);
            }
        }
    },

    async registration(pending, { evidence, request }) {
        const asked = pending.filter((p) => p.verdict.user.objectId);
        const answers = asked.length ? await evidence.mfaCapable(asked.map((p) => p.verdict.user.objectId!), request) : new Map();
        for (const item of pending) {
            const { user } = item.verdict;
            if (user.isNew) {
                note(item, "registration", "a new account has no MFA method registered");
                continue;
            }
            const answer = user.objectId ? answers.get(user.objectId) : undefined;
            if (!answer) continue;
            if (answer.kind === "unverified") {
                note(item, "registration", `MFA registration could not be read: ${answer.reason}`);
                item.uncertain.push(answer.reason);
            } else if (answer.value) {
                pass(item, "registration", "the user is registered for MFA (isMfaCapable)");
            } else {
                note(item, "registration", "the user has no MFA method registered (isMfaCapable is false)");
            }
        }
    },
};

/** The stack resources a stack policy's unknown ids may come from. */
function stackReferencesOf(inventory: Inventory): StackReferences {
    return {
        userUrns: new Set(inventory.users.filter((u) => u.urn).map((u) => u.urn!)),
        groupUrns: new Set(inventory.groups.map((g) => g.urn)),
        roleTemplateIdsByUrn: new Map(inventory.directoryRoles.map((r) => [r.urn, r.templateId])),
    };
}

/** Gives roles held by groups outside the stack to their members, as Graph lists them. */
async function withOutsideGroupMembers(inventory: Inventory, evidence: MfaEvidence, request: EvidenceRequest): Promise<Inventory> {
    if (inventory.outsideGroupGrants.length === 0) return inventory;
    const groupIds = [...new Set(inventory.outsideGroupGrants.map((g) => g.groupObjectId))];
    const members = await evidence.groupUsers(groupIds, request);
    const users = new Map(inventory.users.map((u) => [u.key, { ...u, roles: [...u.roles] }]));
    const byObjectId = new Map([...users.values()].filter((u) => u.objectId).map((u) => [u.objectId!.toLowerCase(), u]));
    const problems = [...inventory.problems];
    for (const grant of inventory.outsideGroupGrants) {
        const answer = members.get(grant.groupObjectId);
        if (!answer || answer.kind === "unverified") {
            problems.push({
                urn: grant.role.assignmentUrn,
                message: `gives ${grant.role.name ? `'${grant.role.name}'` : `the role ${grant.role.reference}`} to group ${grant.groupObjectId}, which is not in the stack, and its members could not be listed (${answer?.reason ?? "no answer"}); they are not checked for this role`,
            });
            continue;
        }
        for (const member of answer.value) {
            const id = member.id.toLowerCase();
            let user = byObjectId.get(id);
            if (!user) {
                const key = `objectId:${id}`;
                user = { key, objectId: member.id, userPrincipalName: member.userPrincipalName, displayName: member.userPrincipalName ?? member.id, isGuest: false, isNew: false, roles: [], stackGroups: [] };
                users.set(key, user);
                byObjectId.set(id, user);
            }
            user.roles.push({ ...grant.role, viaGroup: grant.groupObjectId });
        }
    }
    return { ...inventory, users: [...users.values()], problems };
}

/**
 * Names users outside the stack and says whether they can sign in or are guests, from Graph.
 * Best effort: without an answer a user keeps its object id as its name and stays in scope.
 */
async function withOutsideUserProfiles(inventory: Inventory, evidence: MfaEvidence, request: EvidenceRequest): Promise<Inventory> {
    const outside = inventory.users.filter((user) => !user.urn && user.objectId);
    if (outside.length === 0) return inventory;
    const profiles = await evidence.userProfiles(outside.map((user) => user.objectId!), request).catch(() => new Map<string, never>());
    const users = inventory.users.map((user) => {
        const profile = !user.urn && user.objectId ? profiles.get(user.objectId) : undefined;
        if (profile?.kind !== "value") return user;
        const { userPrincipalName, accountEnabled, userType } = profile.value;
        return {
            ...user,
            ...(userPrincipalName ? { userPrincipalName, displayName: userPrincipalName } : {}),
            ...(accountEnabled !== undefined ? { accountEnabled } : {}),
            isGuest: userType === "Guest",
        };
    });
    return { ...inventory, users };
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
