import { AuthenticationStrengthRef, AZURE_MANAGEMENT_APP_ID, ConditionalAccessPolicy, GuestSelection, MFA_AUTHENTICATION_STRENGTHS, UnknownEntries, ValueList } from "./conditionalAccess";
import { and, causesOf, isUnknown, not, or, Truth, truthOf, Unknown, unknownBecause } from "./truth";

/**
 * Conditional Access coverage, three-valued. A user is covered when, for every sign-in context
 * (application, client app type, device platform, location, sign-in/user/insider risk,
 * authentication flow), some enabled policy that applies to the user requires MFA or blocks the
 * sign-in. One policy covers a region of that space; the union decides. Every fact the pack could
 * not read is an unknown, so the answer is covered or not covered only when it would be the same
 * whatever that fact turned out to be; otherwise it is unknown, with the causes.
 * (https://learn.microsoft.com/entra/identity/conditional-access/concept-conditional-access-policies)
 */

export type GuestKind = "member" | "internalGuest" | "b2bCollaborationGuest" | "b2bCollaborationMember";

/** What the coverage check knows of one user; an `Unknown` where a read failed. */
export interface UserFacts {
    /** Lower-case; absent for a user this deployment creates. */
    objectId?: string;
    /** The user's own resource and the stack groups it is in, by URN, for ids unknown during preview. */
    stackUrns: ReadonlySet<string>;
    guestKind: GuestKind | Unknown;
    /** Every group the user is in, transitively, lower-case ids. */
    groupIds: ReadonlySet<string> | Unknown;
    /** Directory roles the user holds actively and tenant-wide, by template id (CA ignores roles scoped to an administrative unit). */
    roleTemplateIds: ReadonlySet<string> | Unknown;
    /** Directory roles the user may activate (PIM): they never include a user, but they can exclude one. */
    eligibleRoleTemplateIds: ReadonlySet<string> | Unknown;
    /** Display names of groups, for messages. */
    groupNames: ReadonlyMap<string, string>;
}

/** An authentication strength the pack read (Graph or the stack). */
export interface AuthenticationStrengthFacts {
    displayName?: string;
    requirementsSatisfied?: string;
    allowedCombinations?: string[];
}

export interface CoverageSettings {
    /** `All`, or the app ids a policy must cover (`conditionalAccessApplications`). */
    acceptedApplications: readonly string[];
    /** Strengths looked up by lower-case id; an `Unknown` when the read failed. */
    strengths?: ReadonlyMap<string, AuthenticationStrengthFacts | Unknown>;
}

export type CoverageVerdict =
    | { kind: "covered"; by: string[] }
    | { kind: "not-covered"; open: string; lookedAt: string[] }
    | { kind: "unknown"; causes: string[]; lookedAt: string[] };

// ------------------------------------------------------------------------------------------------
// Sign-in contexts

interface Dimension {
    /** Lower-case atoms; together they partition the dimension. */
    atoms: string[];
    /** Where a policy applies along this dimension, atom by atom. */
    membership(policy: ConditionalAccessPolicy): Truth[];
    /** "from Exchange ActiveSync and other clients" */
    describe(atoms: string[]): string;
}

const OTHER_APPS = "*other applications*";
const CLIENT_APP_TYPES = ["browser", "mobileappsanddesktopclients", "exchangeactivesync", "other"];
const PLATFORMS = ["android", "ios", "windows", "macos", "linux", "windowsphone", "*unknown platform*"];
const RISK_LEVELS = ["none", "low", "medium", "high"];
const INSIDER_RISK_LEVELS = ["none", "minor", "moderate", "elevated"];
const FLOWS = ["*other flows*", "devicecodeflow", "authenticationtransfer"];
const TRUSTED = "*trusted*";
const UNTRUSTED = "*untrusted*";

const LABELS: Record<string, string> = {
    browser: "browsers",
    mobileappsanddesktopclients: "mobile apps and desktop clients",
    exchangeactivesync: "Exchange ActiveSync",
    other: "other clients",
    android: "Android",
    ios: "iOS",
    windows: "Windows",
    macos: "macOS",
    linux: "Linux",
    windowsphone: "Windows Phone",
    devicecodeflow: "the device code flow",
    authenticationtransfer: "authentication transfer",
    office365: "Office 365",
    microsoftadminportals: "Microsoft Admin Portals",
    [AZURE_MANAGEMENT_APP_ID]: "Azure management",
    [OTHER_APPS]: "other applications",
    [TRUSTED]: "trusted locations",
    [UNTRUSTED]: "untrusted locations",
    "*unknown platform*": "unknown platforms",
    "*other flows*": "other authentication flows",
};

/** App groups Conditional Access names by keyword, and apps known to be outside each. */
const APP_GROUPS: Record<string, ReadonlySet<string>> = {
    office365: new Set([AZURE_MANAGEMENT_APP_ID]),
    microsoftadminportals: new Set([AZURE_MANAGEMENT_APP_ID]),
};

const label = (atom: string) => LABELS[atom] ?? atom;
const listed = (atoms: string[]) => (atoms.length <= 1 ? atoms.map(label).join("") : `${atoms.slice(0, -1).map(label).join(", ")} and ${label(atoms[atoms.length - 1])}`);

const unknownList = (list: ValueList, what: string): Unknown | undefined =>
    list.unknown ? unknownBecause(`the stack policy's ${what} are unknown until the deployment runs`) : undefined;

/** A condition that, when empty, applies everywhere, and otherwise applies to the atoms it lists. */
function listedDimension(atoms: string[], read: (p: ConditionalAccessPolicy) => ValueList, what: string, describe: (atoms: string[]) => string, alias: Record<string, string> = {}): Dimension {
    return {
        atoms,
        describe,
        membership(policy) {
            const list = read(policy);
            const unknown = unknownList(list, what);
            const values = list.values.map((v) => alias[v] ?? v);
            if (values.includes("all")) return atoms.map(() => "yes");
            // Unknown entries may narrow an empty list, or widen a short one.
            if (values.length === 0) return atoms.map(() => unknown ?? "yes");
            return atoms.map((atom) => or(truthOf(values.includes(atom)), unknown ?? "no"));
        },
    };
}

function dimensionsFor(policies: readonly ConditionalAccessPolicy[], accepted: readonly string[]): Dimension[] {
    const acceptedApps = accepted.map((a) => a.toLowerCase());
    const mentioned = (pick: (p: ConditionalAccessPolicy) => ValueList[], skip: string[]) =>
        [...new Set(policies.flatMap((p) => pick(p).flatMap((l) => l.values)))].filter((v) => !skip.includes(v)).sort();
    const appAtoms = acceptedApps.includes("all") ? [OTHER_APPS, ...mentioned((p) => [p.applications.include, p.applications.exclude], ["all", "none"])] : [...new Set(acceptedApps)];
    const locationAtoms = [TRUSTED, UNTRUSTED, ...mentioned((p) => [p.conditions.includeLocations, p.conditions.excludeLocations], ["all", "alltrusted"])];
    return [
        { atoms: appAtoms, membership: (p) => appAtoms.map((atom) => applicationMembership(p, atom)), describe: (atoms) => `to ${listed(atoms)}` },
        listedDimension(CLIENT_APP_TYPES, (p) => p.conditions.clientAppTypes, "client app types", (atoms) => `from ${listed(atoms)}`, { easSupported: "exchangeactivesync", eassupported: "exchangeactivesync" }),
        platformDimension(),
        { atoms: locationAtoms, membership: (p) => locationAtoms.map((atom) => locationMembership(p, atom)), describe: (atoms) => `from ${listed(atoms)}` },
        listedDimension(RISK_LEVELS, (p) => p.conditions.signInRiskLevels, "sign-in risk levels", (atoms) => `at sign-in risk ${listed(atoms)}`),
        listedDimension(RISK_LEVELS, (p) => p.conditions.userRiskLevels, "user risk levels", (atoms) => `at user risk ${listed(atoms)}`),
        listedDimension(INSIDER_RISK_LEVELS, (p) => p.conditions.insiderRiskLevels, "insider risk levels", (atoms) => `at insider risk ${listed(atoms)}`),
        {
            atoms: FLOWS,
            describe: (atoms) => `through ${listed(atoms)}`,
            membership(policy) {
                const list = policy.conditions.transferMethods;
                const unknown = unknownList(list, "authentication flows");
                if (list.values.length === 0) return FLOWS.map(() => unknown ?? "yes");
                return FLOWS.map((atom) => or(truthOf(list.values.includes(atom)), unknown ?? "no"));
            },
        },
    ];
}

function platformDimension(): Dimension {
    return {
        atoms: PLATFORMS,
        describe: (atoms) => `on ${listed(atoms)}`,
        membership(policy) {
            const { includePlatforms: include, excludePlatforms: exclude } = policy.conditions;
            // Unknown entries may narrow the included platforms, or exclude this one.
            const includeUnknown = unknownList(include, "device platforms");
            const excludeUnknown = unknownList(exclude, "device platforms");
            return PLATFORMS.map((atom) => {
                const included: Truth =
                    include.values.includes("all") || include.values.includes(atom) ? "yes" : include.values.length === 0 ? (includeUnknown ?? "yes") : (includeUnknown ?? "no");
                const excluded: Truth = exclude.values.includes(atom) ? "yes" : (excludeUnknown ?? "no");
                return and(included, not(excluded));
            });
        },
    };
}

/** A policy covers an app it includes (by id, `All`, or a group the app is in) and does not exclude. */
function applicationMembership(policy: ConditionalAccessPolicy, atom: string): Truth {
    const { include, exclude, userActions, authenticationContexts } = policy.applications;
    // User actions and authentication contexts are not sign-ins to apps.
    if (userActions.values.length > 0 || authenticationContexts.values.length > 0) return "no";
    const inList = (list: ValueList, viaAll: boolean): Truth => {
        if (list.unknown?.whole) return unknownBecause("the stack policy's applications are unknown until the deployment runs");
        const parts: Truth[] = [truthOf((viaAll && list.values.includes("all")) || list.values.includes(atom))];
        const isSpecificApp = atom !== OTHER_APPS && !(atom in APP_GROUPS);
        for (const value of list.values) {
            const outside = APP_GROUPS[value];
            if (outside && isSpecificApp && !outside.has(atom)) parts.push(unknownBecause(`whether the application ${atom} is part of '${label(value)}' is not known to the pack`));
        }
        if (list.unknown) parts.push(unknownBecause("some of the stack policy's application ids are unknown until the deployment runs"));
        return or(...parts);
    };
    return and(inList(include, true), not(inList(exclude, true)));
}

/**
 * Locations: trusted and untrusted places, and each named location a policy mentions. The pack
 * does not read named locations, so whether one is trusted is unknown.
 */
function locationMembership(policy: ConditionalAccessPolicy, atom: string): Truth {
    const { includeLocations: include, excludeLocations: exclude } = policy.conditions;
    const unknown = unknownList(include, "locations") ?? unknownList(exclude, "locations");
    if (unknown) return unknown;
    const named = atom !== TRUSTED && atom !== UNTRUSTED;
    const inList = (values: string[]): Truth => {
        if (values.includes("all") || values.includes(atom)) return "yes";
        if (values.includes("alltrusted")) return named ? unknownBecause(`whether named location ${atom} is trusted is not read by the pack`) : truthOf(atom === TRUSTED);
        return "no";
    };
    return and(include.values.length === 0 ? "yes" : inList(include.values), not(inList(exclude.values)));
}

// ------------------------------------------------------------------------------------------------
// What a policy demands

/** Authentication methods that are multi-factor on their own (https://learn.microsoft.com/graph/api/resources/authenticationstrengthpolicy). */
const MULTI_FACTOR_METHODS = new Set(["fido2", "windowshelloforbusiness", "x509certificatemultifactor", "devicebasedpush", "temporaryaccesspassonetime", "temporaryaccesspassmultiuse", "federatedmultifactor"]);
const SINGLE_FACTOR_METHODS = new Set(["password", "voice", "hardwareoath", "softwareoath", "sms", "email", "x509certificatesinglefactor", "federatedsinglefactor", "qrcodepin", "microsoftauthenticatorpush"]);

/** Whether every combination a strength allows is multi-factor. */
export function strengthRequiresMfa(strength: AuthenticationStrengthFacts): Truth {
    if (strength.requirementsSatisfied !== undefined) return truthOf(strength.requirementsSatisfied.toLowerCase() === "mfa");
    if (!strength.allowedCombinations || strength.allowedCombinations.length === 0) return "no";
    return and(
        ...strength.allowedCombinations.map((combination): Truth => {
            const methods = combination.split(",").map((m) => m.trim().toLowerCase());
            if (methods.length >= 2 || MULTI_FACTOR_METHODS.has(methods[0])) return "yes";
            if (SINGLE_FACTOR_METHODS.has(methods[0])) return "no";
            return unknownBecause(`the pack does not know whether the authentication method '${methods[0]}' is multi-factor`);
        }),
    );
}

function strengthTruth(ref: AuthenticationStrengthRef, settings: CoverageSettings): Truth {
    if (ref.id === "unknown") return unknownBecause("the stack policy's authentication strength is unknown until the deployment runs");
    if (MFA_AUTHENTICATION_STRENGTHS.has(ref.id)) return "yes";
    if (ref.requirementsSatisfied !== undefined || ref.allowedCombinations) return strengthRequiresMfa(ref);
    const looked = settings.strengths?.get(ref.id);
    if (looked === undefined) return unknownBecause(`authentication strength ${ref.id} was not read`);
    return isUnknown(looked) ? looked : strengthRequiresMfa(looked);
}

interface Demand {
    /** Whether the policy requires MFA or blocks, wherever it applies. */
    truth: Truth;
    /** Worth naming in a message: it mentions MFA, a strength, or blocks. */
    relevant: boolean;
    why?: string;
}

function demandOf(policy: ConditionalAccessPolicy, settings: CoverageSettings): Demand {
    const grant = policy.grant;
    if (!grant) return { truth: "no", relevant: false, why: "grants nothing (session controls only)" };
    const controls = grant.builtInControls;
    if (controls.unknown) return { truth: unknownBecause(`the grant controls of '${policy.displayName}' are unknown until the deployment runs`), relevant: true };
    if (controls.values.includes("block")) return { truth: "yes", relevant: true };
    const mfa = controls.values.includes("mfa");
    const strength = grant.strength ? strengthTruth(grant.strength, settings) : undefined;
    if (!mfa && !grant.strength) return { truth: "no", relevant: false, why: `does not require MFA (grant controls: ${controls.values.join(", ") || "none"})` };
    const strengthName = grant.strength ? `'${grant.strength.displayName ?? MFA_AUTHENTICATION_STRENGTHS.get(grant.strength.id) ?? grant.strength.id}'` : "";
    if (grant.operator === undefined) return { truth: unknownBecause(`the grant operator of '${policy.displayName}' is unknown until the deployment runs`), relevant: true };
    if (grant.operator === "AND") {
        const truth = or(truthOf(mfa), strength ?? "no");
        return { truth, relevant: true, why: truth === "no" ? `requires the authentication strength ${strengthName}, which allows a single factor` : undefined };
    }
    // OR: every alternative must be MFA, or a user takes the other one.
    const others = controls.values.filter((c) => c !== "mfa");
    const alternatives: Truth[] = [...(mfa ? ["yes" as const] : []), ...(strength ? [strength] : []), ...others.map(() => "no" as const), ...grant.otherControls.values.map(() => "no" as const)];
    if (grant.otherControls.unknown) alternatives.push(unknownBecause(`the custom controls of '${policy.displayName}' are unknown until the deployment runs`));
    const truth = and(...alternatives);
    let why: string | undefined;
    if (truth === "no") {
        why =
            others.length + grant.otherControls.values.length > 0
                ? `lets users satisfy it with ${[...others, ...grant.otherControls.values].join(" or ")} instead of MFA`
                : `requires the authentication strength ${strengthName}, which allows a single factor`;
    }
    return { truth, relevant: true, why };
}

// ------------------------------------------------------------------------------------------------
// Whom a policy applies to

const LEGACY_GUEST_KINDS = new Set(["internalguest", "b2bcollaborationguest", "b2bcollaborationmember"]);

interface Applicability {
    truth: Truth;
    /** Why not, when it does not apply. */
    why?: string;
}

function stateOf(policy: ConditionalAccessPolicy): Applicability {
    if (policy.state === undefined) return { truth: unknownBecause(`the state of '${policy.displayName}' is unknown until the deployment runs`) };
    if (policy.state === "enabled") return { truth: "yes" };
    return { truth: "no", why: policy.state === "enabledForReportingButNotEnforced" ? "is report-only" : `is ${policy.state}` };
}

/**
 * Entries of a stack policy unknown during preview: they come from the stack resources behind
 * `conditions` (`propertyDependencies`). One candidate of the kind: the entries are it. None: they
 * come from outside the stack's resources, so they may be any existing object, never a new one.
 */
function unknownEntriesMatch(entries: UnknownEntries, matches: (candidate: string) => boolean, existing: boolean, what: string): Truth {
    if (entries.whole) return unknownBecause(`the stack policy names its ${what} by a value unknown until the deployment runs`);
    const matching = entries.candidates.filter(matches);
    if (matching.length > 0) return entries.candidates.length === 1 ? "yes" : unknownBecause(`the stack policy names ${what} by ids unknown until the deployment runs, which may include the user's`);
    if (entries.candidates.length > 0 || !existing) return "no";
    return unknownBecause(`the stack policy names ${what} by ids unknown until the deployment runs`);
}

function setMatch(ids: string[], facts: ReadonlySet<string> | Unknown): Truth {
    if (ids.length === 0) return "no";
    if (isUnknown(facts)) return facts;
    return truthOf(ids.some((id) => facts.has(id)));
}

function guestsMatch(selection: GuestSelection | undefined, kind: GuestKind | Unknown, what: string): Truth {
    if (!selection) return "no";
    if (isUnknown(kind)) return kind;
    if (kind === "member") return "no";
    if (!selection.kinds) return unknownBecause(`the stack policy's ${what} guest kinds are unknown until the deployment runs`);
    if (!selection.kinds.has(kind.toLowerCase())) return "no";
    if (kind === "internalGuest" || selection.tenants === "all") return "yes";
    return unknownBecause("the policy names external tenants, and the pack does not know the guest's home tenant");
}

/** Whether the policy includes the user and does not exclude them; why not when it does not. */
export function applicabilityOf(policy: ConditionalAccessPolicy, user: UserFacts): Applicability {
    const state = stateOf(policy);
    if (state.truth === "no") return state;
    if (policy.notForPeople) return { truth: "no", why: policy.notForPeople };
    const existing = user.objectId !== undefined;
    const id = user.objectId?.toLowerCase();
    const byUrn = (urn: string) => user.stackUrns.has(urn);
    const withRoles = (templates: ReadonlySet<string> | Unknown) => (template: string) =>
        template === "unknown" ? true : !isUnknown(templates) && templates.has(template);

    const { include, exclude } = policy;
    const included = or(
        truthOf(include.users.values.includes("all")),
        truthOf(!!id && include.users.values.includes(id)),
        include.users.values.includes("guestsorexternalusers") ? guestsMatch({ kinds: LEGACY_GUEST_KINDS, tenants: "all" }, user.guestKind, "included") : "no",
        include.users.unknown ? unknownEntriesMatch(include.users.unknown, byUrn, existing, "included users") : "no",
        setMatch(include.groups.values, user.groupIds),
        include.groups.unknown ? unknownEntriesMatch(include.groups.unknown, byUrn, existing, "included groups") : "no",
        setMatch(include.roles.values, user.roleTemplateIds),
        include.roles.unknown ? rolesUnknownMatch(include.roles.unknown, user.roleTemplateIds, withRoles(user.roleTemplateIds), "included directory roles") : "no",
        guestsMatch(include.guests, user.guestKind, "included"),
    );

    const exclusions: [Truth, () => string][] = [
        [truthOf(!!id && exclude.users.values.includes(id)), () => "excludes the user"],
        [exclude.users.values.includes("guestsorexternalusers") ? guestsMatch({ kinds: LEGACY_GUEST_KINDS, tenants: "all" }, user.guestKind, "excluded") : "no", () => "excludes guests and external users"],
        [exclude.users.unknown ? unknownEntriesMatch(exclude.users.unknown, byUrn, existing, "excluded users") : "no", () => "excludes the user (created by this deployment)"],
        [setMatch(exclude.groups.values, user.groupIds), () => `excludes the user through group ${groupName(exclude.groups.values, user)}`],
        [exclude.groups.unknown ? unknownEntriesMatch(exclude.groups.unknown, byUrn, existing, "excluded groups") : "no", () => "excludes a group of this stack the user is in"],
        // A role the user may activate excludes them the moment they do.
        [or(setMatch(exclude.roles.values, user.roleTemplateIds), setMatch(exclude.roles.values, user.eligibleRoleTemplateIds)), () => "excludes a directory role the user holds or may activate"],
        [
            exclude.roles.unknown
                ? or(
                      rolesUnknownMatch(exclude.roles.unknown, user.roleTemplateIds, withRoles(user.roleTemplateIds), "excluded directory roles"),
                      rolesUnknownMatch(exclude.roles.unknown, user.eligibleRoleTemplateIds, withRoles(user.eligibleRoleTemplateIds), "excluded directory roles"),
                  )
                : "no",
            () => "excludes a directory role the user holds or may activate",
        ],
        [guestsMatch(exclude.guests, user.guestKind, "excluded"), () => `excludes guests and external users of the user's kind`],
    ];
    const excluded = or(...exclusions.map(([truth]) => truth));
    const truth = and(state.truth, included, not(excluded));
    if (truth !== "no") return { truth };
    if (excluded === "yes") return { truth, why: exclusions.find(([t]) => t === "yes")![1]() };
    return { truth, why: "does not include the user" };
}

function rolesUnknownMatch(entries: UnknownEntries, roles: ReadonlySet<string> | Unknown, matches: (template: string) => boolean, what: string): Truth {
    if (entries.whole || entries.candidates.length === 0) {
        // Unknown role ids may name any role; a user known to hold none is not among them.
        if (!entries.whole && !isUnknown(roles) && roles.size === 0) return "no";
        return isUnknown(roles) ? roles : unknownBecause(`the stack policy names ${what} by ids unknown until the deployment runs`);
    }
    if (entries.candidates.includes("unknown")) return isUnknown(roles) ? roles : unknownBecause(`the stack policy names ${what} through a directory role whose template id is unknown`);
    if (isUnknown(roles)) return roles;
    const matching = entries.candidates.filter(matches);
    if (matching.length === 0) return "no";
    return entries.candidates.length === 1 ? "yes" : unknownBecause(`the stack policy names ${what} by ids unknown until the deployment runs, which may include one the user holds`);
}

function groupName(groupIds: string[], user: UserFacts): string {
    const groups = isUnknown(user.groupIds) ? new Set<string>() : user.groupIds;
    const id = groupIds.find((g) => groups.has(g)) ?? groupIds[0];
    return `'${user.groupNames.get(id) ?? id}'`;
}

// ------------------------------------------------------------------------------------------------
// The union

interface PreparedPolicy {
    policy: ConditionalAccessPolicy;
    demand: Demand;
    /** Why it guarantees nothing wherever it applies, if so (unsupported conditions, user actions). */
    coversNothing?: string;
    /** `region[d][a]`: whether it applies at atom `a` of dimension `d`. */
    region: Truth[][];
    /** `fullFrom[d]`: it applies at every atom of dimension `d` and of every one after it. */
    fullFrom: boolean[];
}

/**
 * The coverage of one set of policies: the region of each is worked out once, then each user
 * costs only its applicability and the union, cached by the applicability of every policy.
 */
export function conditionalAccessCoverage(policies: readonly ConditionalAccessPolicy[], settings: CoverageSettings): (user: UserFacts) => CoverageVerdict {
    const relevant = policies.map((policy) => ({ policy, demand: demandOf(policy, settings) })).filter((p) => p.demand.relevant || p.demand.truth !== "no");
    const dimensions = dimensionsFor(
        relevant.map((p) => p.policy),
        settings.acceptedApplications,
    );
    const prepared: PreparedPolicy[] = relevant.map(({ policy, demand }) => {
        const region = dimensions.map((dimension) => dimension.membership(policy));
        const fullFrom = region.map((_, d) => region.slice(d).every((atoms) => atoms.every((t) => t === "yes")));
        return { policy, demand, coversNothing: coversNothing(policy), region, fullFrom: [...fullFrom, true] };
    });
    const cache = new Map<string, CoverageVerdict>();
    // Sub-unions recur from user to user: one memo for the whole set of policies.
    const memo = new Map<string, Truth>();
    return (user) => {
        const applicability = prepared.map((p) => applicabilityOf(p.policy, user));
        const truths = prepared.map((p, i) => and(applicability[i].truth, p.demand.truth, p.coversNothing ? "no" : "yes"));
        const key = truths.map((t) => (isUnknown(t) ? JSON.stringify(t.unknown) : t)).join("|") + "#" + applicability.map((a) => a.why ?? "").join("|");
        let verdict = cache.get(key);
        if (!verdict) {
            verdict = decide(prepared, truths, applicability, dimensions, memo);
            cache.set(key, verdict);
        }
        return verdict;
    };
}

function coversNothing(policy: ConditionalAccessPolicy): string | undefined {
    if (policy.unsupportedConditions.length > 0) return `applies only under conditions the pack does not evaluate (${policy.unsupportedConditions.join("; ")})`;
    if (policy.applications.userActions.values.length > 0) return "targets user actions, not sign-ins to applications";
    if (policy.applications.authenticationContexts.values.length > 0) return "targets authentication contexts, not sign-ins to applications";
    return undefined;
}

/** A short key for an unknown's causes, so memo keys stay small. */
const causeKeys = new Map<string, number>();
function causeKey(truth: Unknown): number {
    const text = truth.unknown.join("\u0000");
    let key = causeKeys.get(text);
    if (key === undefined) causeKeys.set(text, (key = causeKeys.size));
    return key;
}

function decide(prepared: PreparedPolicy[], truths: Truth[], applicability: Applicability[], dimensions: Dimension[], memo: Map<string, Truth>): CoverageVerdict {
    const deviceUnknown = prepared.map((p) => (p.policy.conditions.devicesUnknown ? unknownBecause(`the device conditions of '${p.policy.displayName}' are unknown until the deployment runs`) : "yes" as Truth));
    const entries = prepared.map((p, index) => ({ index, truth: and(truths[index], deviceUnknown[index]) })).filter((e) => e.truth !== "no");
    const coveredAt = (live: { index: number; truth: Truth }[], d: number): Truth => {
        if (live.length === 0) return "no";
        if (d === dimensions.length) return or(...live.map((e) => e.truth));
        // A policy that surely applies and covers everything from here on settles the branch.
        if (live.some((e) => e.truth === "yes" && prepared[e.index].fullFrom[d])) return "yes";
        const key = `${d}:${live.map((e) => `${e.index}${isUnknown(e.truth) ? `?${causeKey(e.truth)}` : e.truth === "yes" ? "" : "n"}`).join(",")}`;
        const cached = memo.get(key);
        if (cached) return cached;
        const results: Truth[] = [];
        for (let atom = 0; atom < dimensions[d].atoms.length; atom++) {
            const next = live.map((e) => ({ index: e.index, truth: and(e.truth, prepared[e.index].region[d][atom]) })).filter((e) => e.truth !== "no");
            const result = coveredAt(next, d + 1);
            results.push(result);
            if (result === "no") break;
        }
        const truth = and(...results);
        memo.set(key, truth);
        return truth;
    };
    const result = coveredAt(entries, 0);
    if (result === "yes") return { kind: "covered", by: coveringPolicies(prepared, entries) };
    const lookedAt = prepared.map((p, i) => `'${p.policy.displayName}'${p.policy.source === "stack" ? " (in this stack)" : ""} ${noteOf(p, applicability[i], dimensions)}`);
    if (isUnknown(result)) return { kind: "unknown", causes: [...result.unknown], lookedAt };
    // Down the branches the union leaves open, to one open context (the memo makes each step cheap).
    const openPoint = (live: { index: number; truth: Truth }[], d: number, point: number[]): number[] => {
        if (d === dimensions.length) return point;
        for (let atom = 0; atom < dimensions[d].atoms.length; atom++) {
            const next = live.map((e) => ({ index: e.index, truth: and(e.truth, prepared[e.index].region[d][atom]) })).filter((e) => e.truth !== "no");
            if (coveredAt(next, d + 1) === "no") return openPoint(next, d + 1, [...point, atom]);
        }
        return point;
    };
    return { kind: "not-covered", open: openContexts(prepared, entries, dimensions, openPoint(entries, 0, [])), lookedAt };
}

/** The policies that decide: one that covers everything alone, or every one that definitely applies. */
function coveringPolicies(prepared: PreparedPolicy[], entries: { index: number; truth: Truth }[]): string[] {
    const definite = entries.filter((e) => e.truth === "yes");
    const alone = definite.find((e) => prepared[e.index].region.every((atoms) => atoms.every((t) => t === "yes")));
    const names = (alone ? [alone] : definite).map((e) => `'${prepared[e.index].policy.displayName}'${prepared[e.index].policy.source === "stack" ? " (in this stack)" : ""}`);
    return names;
}

function noteOf(p: PreparedPolicy, applicability: Applicability, dimensions: Dimension[]): string {
    if (applicability.truth === "no") return applicability.why ?? "does not apply to the user";
    if (p.demand.truth === "no") return p.demand.why ?? "does not require MFA";
    if (p.coversNothing) return p.coversNothing;
    const narrowed = dimensions
        .map((dimension, d) => ({ dimension, atoms: dimension.atoms.filter((_, a) => p.region[d][a] === "yes") }))
        .filter(({ dimension, atoms }) => atoms.length < dimension.atoms.length)
        .map(({ dimension, atoms }) => (atoms.length === 0 ? "nowhere the pack can name" : dimension.describe(atoms)));
    const does = p.policy.grant?.builtInControls.values.includes("block") ? "blocks sign-ins" : "requires MFA";
    if (isUnknown(applicability.truth)) return `may not apply to the user (${causesOf(applicability.truth).join("; ")})`;
    return narrowed.length > 0 ? `${does} only ${narrowed.join(", ")}` : does;
}

/** Names the sign-in contexts left open, around one open context: along each dimension, the values open there too. */
function openContexts(prepared: PreparedPolicy[], entries: { index: number; truth: Truth }[], dimensions: Dimension[], witness: number[]): string {
    if (entries.length === 0) return "no enabled Conditional Access policy that requires MFA or blocks applies to the user";
    const valueAt = (point: number[]): Truth => or(...entries.map((e) => and(e.truth, ...point.map((atom, d) => prepared[e.index].region[d][atom]))));
    const parts = dimensions
        .map((dimension, d) => {
            const open = dimension.atoms.filter((_, atom) => valueAt(witness.map((a, i) => (i === d ? atom : a))) === "no");
            return open.length < dimension.atoms.length ? dimension.describe(open) : undefined;
        })
        .filter((part): part is string => part !== undefined);
    return parts.length > 0 ? `sign-ins ${parts.join(", ")} are neither challenged nor blocked` : "no sign-in is challenged or blocked";
}
