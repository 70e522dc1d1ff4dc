import { EvidenceSourceName, Exemption, MfaPolicyConfig } from "../config";
import { Answer, Memberships } from "../graph/graphReads";
import { guestKindOf } from "../inventory/guestKind";
import { AuthenticationStrengthRef, ConditionalAccessPolicy, conditionalAccessPolicyFromGraph, conditionalAccessPolicyFromStack, MFA_AUTHENTICATION_STRENGTHS, StackReferences, stackStrengthId } from "./conditionalAccess";
import { AuthenticationStrengthFacts, conditionalAccessCoverage } from "./coverage";
import { causeFor } from "./causes";
import { Unknown, unknownBecause } from "./truth";
import { factsNeededBy, userFactsOf } from "./userFacts";
import { EvidenceRequest, MfaEvidence } from "../graph/mfaEvidence";
import { PerUserMfaAnswer } from "../graph/perUserMfa";
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
    const { inventory: expanded, profileFailures } = await withOutsidePrincipals(inventory, evidence, request);
    const classificationRules = { isPrivilegedRoleName: roleNameMatcher(config.privilegedRolePatterns), useEntraPrivilegedLabel: config.useEntraPrivilegedLabel };

    const decided: UserVerdict[] = [];
    const pending: Pending[] = [];
    for (const user of expanded.users) {
        const classification = classifyUser(user, classificationRules);
        const rule: Rule = classification.privileged ? "privileged" : "non-privileged";
        if (!rules.has(rule)) continue;
        const exemption = exemptionFor(user, config.exemptions);
        const expired = exemption && isExpired(exemption, now) ? exemption : undefined;
        // Optional fields are set after, not spread into the literal: a spread after other fields takes
        // V8's slow path, a few hundred bytes of garbage per user inside AnalyzeStack.
        const verdict: UserVerdict = { user, rule, classification, kind: "noncompliant", evidence: [] };
        if (expired) verdict.expiredExemption = expired;
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
        await GATHER[source](undecided, { ...context, request: sourceRequest, inventory: expanded, profileFailures });
        undecided = undecided.filter((p) => p.verdict.kind !== "compliant");
    }
    for (const { verdict, uncertain } of undecided) {
        // A user failed only because nothing showed MFA may still be out of scope or exempt, if its profile was unreadable.
        const profileFailure = profileFailures.get(verdict.user.key);
        if (profileFailure && uncertain.length === 0) {
            const unknowable = [
                ...(config.includeDisabledAccounts ? [] : ["whether its sign-in is disabled (includeDisabledAccounts is off)"]),
                ...(config.includeGuests ? [] : ["whether it is a guest (includeGuests is off)"]),
                ...(config.exemptions.some((e) => e.user.includes("@")) ? ["whether an exemption by user principal name names it"] : []),
            ];
            if (unknowable.length > 0) uncertain.push(`${causeFor("the user's profile", profileFailure)}, so the pack cannot tell ${unknowable.join(", or ")}`);
        }
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

type Gatherer = (pending: Pending[], context: EvaluationContext & { request: EvidenceRequest; inventory: Inventory; profileFailures: ReadonlyMap<string, string> }) => Promise<void>;

function pass(item: Pending, source: EvidenceSource, detail: string): void {
    item.verdict.kind = "compliant";
    item.verdict.decidedBy = source;
    item.verdict.evidence.push({ source, counted: true, detail });
}

function note(item: Pending, source: EvidenceSource, detail: string, lookedAt?: string[]): void {
    const evidenceNote: EvidenceNote = { source, counted: false, detail };
    if (lookedAt?.length) evidenceNote.lookedAt = lookedAt;
    item.verdict.evidence.push(evidenceNote);
}

const GATHER: Record<EvidenceSourceName, Gatherer> = {
    async conditionalAccess(pending, { evidence, request, inventory, config, profileFailures }) {
        const stackPolicies = inventory.conditionalAccessPolicies.map((p) => conditionalAccessPolicyFromStack(p, stackReferencesOf(inventory)));
        const tenant = await evidence.conditionalAccessPolicies(request);
        const policies = [...stackPolicies, ...(tenant.kind === "value" ? tenant.value.map(conditionalAccessPolicyFromGraph) : [])];
        const strengths = await strengthsFor(policies, inventory, evidence, request);
        const coverage = conditionalAccessCoverage(policies, { acceptedApplications: config.conditionalAccessApplications, strengths });
        const needed = factsNeededBy(policies);
        const users = pending.map((p) => p.verdict.user);
        const existingIds = users.filter((u) => u.objectId && !u.isNew).map((u) => u.objectId!);
        const outsideGroupIds = [...new Set(users.flatMap((u) => u.outsideGroupIds ?? []))];
        const [memberships, eligibilities, outsideGroups] = await Promise.all([
            needed.memberships && existingIds.length ? evidence.memberships(existingIds, request) : new Map<string, never>(),
            needed.eligibilities && existingIds.length ? evidence.roleEligibilities(existingIds, request) : new Map<string, never>(),
            needed.memberships && outsideGroupIds.length ? evidence.groupMemberships(outsideGroupIds, request) : new Map<string, never>(),
        ]);

        for (const item of pending) {
            const { user } = item.verdict;
            const eligible = eligibilities.get(user.objectId ?? "");
            const facts = userFactsOf(user, needed, {
                memberships: memberships.get(user.objectId ?? ""),
                eligibleRoleTemplateIds: eligible && (eligible.kind === "value" ? { kind: "value", value: eligible.value.filter((e) => e.directoryScopeId === "/").map((e) => e.roleTemplateId) } : eligible),
                outsideGroupMemberships: combinedMemberships((user.outsideGroupIds ?? []).map((id) => outsideGroups.get(id))),
                profileFailure: profileFailures.get(user.key),
            });
            const verdict = coverage(facts);
            if (verdict.kind === "covered") {
                pass(
                    item,
                    "conditionalAccess",
                    verdict.by.length > 1
                        ? `Conditional Access policies ${verdict.by.join(" and ")} together require MFA for, or block, every sign-in of the user`
                        : `Conditional Access policy ${verdict.by[0]} requires MFA for, or blocks, every sign-in of the user`,
                );
                continue;
            }
            // More policies can only cover more: without the tenant's, only a stack policy can pass a user.
            if (tenant.kind === "unverified") {
                note(item, "conditionalAccess", `the tenant's Conditional Access policies could not be read: ${tenant.reason}`);
                item.uncertain.push(causeFor("the tenant's Conditional Access policies", tenant.reason));
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
                item.uncertain.push(causeFor("security defaults", answer.reason));
            } else if (answer.value) {
                pass(item, "securityDefaults", "security defaults are on, which require MFA");
            } else {
                note(item, "securityDefaults", "security defaults are off");
            }
        }
    },

    async perUserMfa(pending, { evidence, request }) {
        const asked = pending.filter((p) => p.verdict.user.objectId);
        const answers: ReadonlyMap<string, PerUserMfaAnswer> = asked.length ? await evidence.perUserMfaStates(asked.map((p) => p.verdict.user.objectId!), request) : new Map();
        for (const item of pending) {
            if (item.verdict.user.isNew) {
                // Graph creates accounts with per-user MFA disabled, and the stack cannot say otherwise.
                note(item, "newAccount", "a new account starts with per-user MFA 'disabled'");
                continue;
            }
            const answer = answerAbout(item, answers, "perUserMfa", "per-user MFA state");
            if (!answer) continue;
            if (typeof answer.state === "string" && MFA_STATES_THAT_PASS.has(answer.state)) {
                pass(item, "perUserMfa", `per-user MFA state is '${answer.state}'`);
            } else {
                const state = answer.state === undefined ? "missing" : answer.state === null ? "null" : `'${answer.state}'`;
                note(item, "perUserMfa", `per-user MFA state is ${state}`);
            }
        }
    },

    async registration(pending, { evidence, request }) {
        const asked = pending.filter((p) => p.verdict.user.objectId);
        const answers: ReadonlyMap<string, Answer<boolean>> = asked.length ? await evidence.mfaCapable(asked.map((p) => p.verdict.user.objectId!), request) : new Map();
        for (const item of pending) {
            if (item.verdict.user.isNew) {
                note(item, "registration", "a new account has no MFA method registered");
                continue;
            }
            const answer = answerAbout(item, answers, "registration", "MFA registration");
            if (!answer) continue;
            if (answer.value) {
                pass(item, "registration", "the user is registered for MFA (isMfaCapable)");
            } else {
                note(item, "registration", "the user has no MFA method registered (isMfaCapable is false)");
            }
        }
    },
};

type Unverified = Extract<Answer<unknown>, { kind: "unverified" }>;

/**
 * What Graph said of an existing user, or `undefined` once the user is marked unverified with why:
 * no object id to ask with, no answer, or a read that failed. A fact the pack lacks never fails a user.
 */
function answerAbout<A extends { kind: string }>(item: Pending, answers: ReadonlyMap<string, A>, source: EvidenceSource, what: string): Exclude<A, Unverified> | undefined {
    const { objectId } = item.verdict.user;
    if (!objectId) {
        item.uncertain.push("its object id could not be read from the stack");
        return undefined;
    }
    const answer = answers.get(objectId);
    if (answer && answer.kind !== "unverified") return answer as Exclude<A, Unverified>;
    const reason = (answer as Unverified | undefined)?.reason ?? "no answer was recorded for the user";
    note(item, source, `${what} could not be read: ${reason}`);
    item.uncertain.push(reason);
    return undefined;
}

/** The stack resources a stack policy's unknown ids may come from. */
function stackReferencesOf(inventory: Inventory): StackReferences {
    return {
        userUrns: new Set(inventory.users.filter((u) => u.urn).map((u) => u.urn!)),
        groupUrns: new Set(inventory.groups.map((g) => g.urn)),
        roleTemplateIdsByUrn: new Map(inventory.directoryRoles.map((r) => [r.urn, r.templateId])),
        strengthUrns: new Set(inventory.authenticationStrengthPolicies.map((s) => s.urn)),
    };
}

/** The tenant's view of several groups at once: their memberships together, or the first reason one could not be read. */
function combinedMemberships(answers: (Answer<Memberships> | undefined)[]): Answer<Memberships> | undefined {
    if (answers.length === 0) return undefined;
    // `find` returns the element it matched, so an `undefined` answer would read as "none failed".
    if (answers.includes(undefined)) return { kind: "unverified", reason: "Graph gave no answer for a group outside the stack" };
    const failed = answers.find((a) => a!.kind === "unverified");
    if (failed) return failed;
    const values = answers.map((a) => (a as { kind: "value"; value: Memberships }).value);
    return { kind: "value", value: { groups: values.flatMap((v) => v.groups), roleTemplateIds: values.flatMap((v) => v.roleTemplateIds) } };
}

/**
 * The authentication strengths the policies name by id alone: the stack's own, else Graph's
 * (`GET /policies/authenticationStrengthPolicies/{id}`). A strength that could not be read is an
 * unknown with Graph's reason.
 */
async function strengthsFor(policies: ConditionalAccessPolicy[], inventory: Inventory, evidence: MfaEvidence, request: EvidenceRequest): Promise<Map<string, AuthenticationStrengthFacts | Unknown>> {
    const strengths = new Map<string, AuthenticationStrengthFacts | Unknown>();
    for (const stackStrength of inventory.authenticationStrengthPolicies) {
        const facts = { displayName: stackStrength.displayName, allowedCombinations: stackStrength.allowedCombinations };
        strengths.set(stackStrengthId(stackStrength.urn), facts.allowedCombinations ? facts : unknownBecause(`the combinations of the stack's authentication strength ${stackStrength.urn} could not be read`));
        if (stackStrength.id && facts.allowedCombinations) strengths.set(stackStrength.id, facts);
    }
    const toRead = [
        ...new Set(
            policies
                .map((p) => p.grant?.strength)
                .filter((ref): ref is AuthenticationStrengthRef => !!ref && ref.id !== "unknown" && !ref.id.startsWith("stack:") && !MFA_AUTHENTICATION_STRENGTHS.has(ref.id))
                .filter((ref) => ref.requirementsSatisfied === undefined && !ref.allowedCombinations && !strengths.has(ref.id))
                .map((ref) => ref.id),
        ),
    ];
    if (toRead.length === 0) return strengths;
    const answers = await evidence.authenticationStrengths(toRead, request);
    for (const id of toRead) {
        const answer = answers.get(id);
        strengths.set(
            id,
            answer?.kind === "value"
                ? { displayName: answer.value.displayName, requirementsSatisfied: answer.value.requirementsSatisfied, allowedCombinations: answer.value.allowedCombinations }
                : unknownBecause(causeFor(`authentication strength ${id}`, answer?.reason ?? "Graph gave no answer")),
        );
    }
    return strengths;
}

/**
 * What the stack cannot know of principals outside it, from Graph: who each outside user is (name,
 * sign-in state, guest kind), whether an id that could be a user or a group is a group, and who is
 * in the outside groups that hold roles. What Graph does not answer stays unknown, with why.
 */
async function withOutsidePrincipals(
    inventory: Inventory,
    evidence: MfaEvidence,
    request: EvidenceRequest,
): Promise<{ inventory: Inventory; profileFailures: Map<string, string> }> {
    const users = new Map(inventory.users.map((u) => [u.key, { ...u, roles: [...u.roles] }]));
    const problems = [...inventory.problems];
    const profileFailures = new Map<string, string>();
    const groupGrants = [...inventory.outsideGroupGrants];

    /** Asks Graph who the outside users not yet asked about are; an id Graph has no user for may be a group. */
    const resolveProfiles = async (keys: string[]) => {
        if (keys.length === 0) return;
        const profiles = await evidence.userProfiles(keys.map((key) => users.get(key)!.objectId!), request);
        for (const key of keys) {
            const user = users.get(key)!;
            const answer = profiles.get(user.objectId!);
            if (answer?.kind === "value") {
                const { userPrincipalName, accountEnabled, userType } = answer.value;
                users.set(key, {
                    ...user,
                    ...(userPrincipalName ? { userPrincipalName, displayName: userPrincipalName } : {}),
                    ...(accountEnabled !== undefined ? { accountEnabled } : {}),
                    isGuest: userType === "Guest",
                    guestKind: guestKindOf(answer.value),
                    principalKind: "user",
                });
            } else if (answer?.kind === "not-found") {
                // Not a user: the roles it was given go to its members if it is a group.
                users.delete(key);
                user.roles.forEach((role) => groupGrants.push({ groupObjectId: user.objectId!, role }));
            } else {
                profileFailures.set(key, answer?.reason ?? "Graph gave no answer");
                users.set(key, { ...user, guestKind: "unknown" });
            }
        }
    };
    await resolveProfiles([...users.values()].filter((u) => !u.urn && u.objectId).map((u) => u.key));

    const byObjectId = new Map([...users.values()].filter((u) => u.objectId).map((u) => [u.objectId!.toLowerCase(), u.key]));
    const discovered: string[] = [];
    if (groupGrants.length > 0) {
        const groupIds = [...new Set(groupGrants.map((g) => g.groupObjectId))];
        const members = await evidence.groupUsers(groupIds, request);
        for (const grant of groupGrants) {
            const answer = members.get(grant.groupObjectId);
            const role = grant.role.name ? `'${grant.role.name}'` : `the role ${grant.role.reference}`;
            if (!answer || answer.kind === "unverified") {
                const reason = answer?.reason ?? "no answer";
                problems.push({
                    urn: grant.role.assignmentUrn,
                    message: /HTTP 404/.test(reason)
                        ? `gives ${role} to ${grant.groupObjectId}, which the tenant knows as neither a user nor a group (a service principal, or a deleted object?); nobody is checked for it`
                        : `gives ${role} to group ${grant.groupObjectId}, which is not in the stack, and its members could not be listed (${reason}); they are not checked for this role`,
                });
                continue;
            }
            for (const member of answer.value) {
                const id = member.id.toLowerCase();
                let key = byObjectId.get(id);
                if (!key) {
                    key = `objectId:${id}`;
                    users.set(key, { key, objectId: member.id, userPrincipalName: member.userPrincipalName, displayName: member.userPrincipalName ?? member.id, isGuest: false, isNew: false, roles: [], stackGroups: [], principalKind: "user", guestKind: "unknown", outsideGroupIds: [] });
                    byObjectId.set(id, key);
                    discovered.push(key);
                }
                users.get(key)!.roles.push({ ...grant.role, viaGroup: grant.role.viaGroup ?? grant.groupObjectId });
            }
        }
    }
    await resolveProfiles(discovered);
    return { inventory: { ...inventory, users: [...users.values()], problems, outsideGroupGrants: [] }, profileFailures };
}

function exemptionFor(user: InventoryUser, exemptions: readonly Exemption[]): Exemption | undefined {
    if (exemptions.length === 0) return undefined;
    const names = [user.userPrincipalName, user.objectId].filter((n): n is string => !!n).map((n) => n.toLowerCase());
    return exemptions.find((exemption) => names.includes(exemption.user.trim().toLowerCase()));
}

/** An exemption counts through the whole of its `expires` day, in UTC. */
export function isExpired(exemption: Exemption, now: Date): boolean {
    if (!exemption.expires) return false;
    const lastDay = Date.parse(`${exemption.expires}T23:59:59.999Z`);
    return Number.isNaN(lastDay) || now.getTime() > lastDay;
}
