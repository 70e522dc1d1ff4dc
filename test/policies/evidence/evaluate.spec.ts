import * as assert from "node:assert/strict";
import { DEFAULT_CONFIG, MfaPolicyConfig } from "../../../policies/config";
import { evaluateUsers, isExpired, Rule, UserVerdict } from "../../../policies/evidence/evaluate";
import { Answer, AuthenticationStrength, Memberships, RoleEligibility, UserProfile } from "../../../policies/graph/graphReads";
import { EvidenceRequest, MfaEvidence } from "../../../policies/graph/mfaEvidence";
import { PerUserMfaAnswer } from "../../../policies/graph/perUserMfa";
import { UNKNOWN } from "../../../policies/inventory/propertyValues";
import { HeldRole, Inventory, InventoryUser } from "../../../policies/inventory/types";
import { conditionalAccessPolicy, directoryRole, group, user } from "../../fixtures/resources";
import { snapshotOf } from "../snapshots";

const NOW = new Date("2026-11-24T12:00:00Z");
const BOTH_RULES = new Set<Rule>(["non-privileged", "privileged"]);
const GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10";

function inventoryUser(name: string, extra: Partial<InventoryUser> = {}): InventoryUser {
    return {
        key: `urn:${name}`,
        urn: `urn:${name}`,
        objectId: `id-${name}`,
        userPrincipalName: `${name}@contoso.com`,
        displayName: `${name}@contoso.com`,
        accountEnabled: true,
        isGuest: false,
        isNew: false,
        roles: [],
        stackGroups: [],
        ...extra,
    };
}

/** A user the stack only names by object id (an assignment's principal), as the inventory keeps it until Graph says who it is. */
function outsideUser(id: string, extra: Partial<InventoryUser> = {}): InventoryUser {
    return inventoryUser(id, { key: `objectId:${id}`, urn: undefined, objectId: id, userPrincipalName: undefined, displayName: id, ...extra });
}

const owner: HeldRole = { name: "Owner", reference: "owner", system: "azure-rbac", assignmentUrn: "urn:a" };

/** A Graph conditional access policy in the shape Graph returns. */
function graphPolicy(displayName: string, overrides: { state?: string; users?: Record<string, unknown>; grant?: Record<string, unknown>; apps?: string[] } = {}) {
    return {
        id: `policy-${displayName}`,
        displayName,
        state: overrides.state ?? "enabled",
        conditions: {
            users: { includeUsers: ["All"], excludeUsers: [], includeGroups: [], excludeGroups: [], includeRoles: [], excludeRoles: [], ...overrides.users },
            applications: { includeApplications: overrides.apps ?? ["All"], excludeApplications: [] },
            clientAppTypes: ["all"],
        },
        grantControls: { operator: "OR", builtInControls: ["mfa"], ...overrides.grant },
    };
}

interface Script {
    conditionalAccess?: Answer<unknown[]>;
    securityDefaults?: Answer<boolean>;
    perUser?: Record<string, PerUserMfaAnswer>;
    registration?: Record<string, Answer<boolean>>;
    memberships?: Record<string, Answer<Memberships>>;
    /** Memberships of groups outside the stack, by group id. */
    groupMemberships?: Record<string, Answer<Memberships>>;
    groupUsers?: Record<string, Answer<{ id: string; userPrincipalName?: string }[]>>;
    profiles?: Record<string, Answer<UserProfile> | { kind: "not-found" }>;
    eligibilities?: Record<string, Answer<RoleEligibility[]>>;
    strengths?: Record<string, Answer<AuthenticationStrength>>;
}

/** Evidence that answers from a script and records every question. */
function scriptedEvidence(script: Script): MfaEvidence & { asked: string[]; requests: EvidenceRequest[] } {
    const asked: string[] = [];
    const requests: EvidenceRequest[] = [];
    const perId = <T>(what: string, table: Record<string, T> | undefined, fallback: T) => async (ids: readonly string[], request: EvidenceRequest) => {
        asked.push(`${what}:${ids.join(",")}`);
        requests.push(request);
        return new Map(ids.map((id) => [id, table?.[id] ?? fallback]));
    };
    const unscripted = { kind: "unverified" as const, reason: "not scripted" };
    return {
        asked,
        requests,
        perUserMfaStates: perId("perUser", script.perUser, unscripted),
        mfaCapable: perId("registration", script.registration, unscripted),
        memberships: perId("memberships", script.memberships, { kind: "value", value: { groups: [], roleTemplateIds: [] } }),
        groupUsers: perId("groupUsers", script.groupUsers, unscripted),
        userProfiles: perId("profiles", script.profiles, unscripted),
        groupMemberships: perId("groupMemberships", script.groupMemberships, unscripted),
        authenticationStrengths: perId("strengths", script.strengths, unscripted),
        roleEligibilities: perId("eligibilities", script.eligibilities, unscripted),
        userIdsByPrincipalName: perId("userIds", undefined, unscripted),
        async conditionalAccessPolicies(request) {
            asked.push("conditionalAccess");
            requests.push(request);
            return script.conditionalAccess ?? { kind: "value", value: [] };
        },
        async securityDefaultsEnabled(request) {
            asked.push("securityDefaults");
            requests.push(request);
            return script.securityDefaults ?? { kind: "value", value: false };
        },
    };
}

function inventoryOf(users: InventoryUser[], extra: Partial<Inventory> = {}): Inventory {
    return { users, problems: [], groups: [], conditionalAccessPolicies: [], authenticationStrengthPolicies: [], directoryRoles: [], outsideGroupGrants: [], ...extra };
}

async function evaluate(users: InventoryUser[] | Inventory, evidence: MfaEvidence, config: Partial<MfaPolicyConfig> = {}, rules = BOTH_RULES): Promise<UserVerdict[]> {
    const inventory = Array.isArray(users) ? inventoryOf(users) : users;
    return (await evaluateUsers(inventory, { config: { ...DEFAULT_CONFIG, ...config }, evidence, now: NOW }, rules)).verdicts;
}

const kinds = (verdicts: UserVerdict[]) => verdicts.map((v) => [v.user.displayName, v.kind]);
const ALL_EVIDENCE: Partial<MfaPolicyConfig> = { acceptedEvidence: ["conditionalAccess", "securityDefaults", "perUserMfa"] };

describe("evaluateUsers", () => {
    it("passes enabled and enforced, fails disabled, null, missing and unknown states, asking once for all", async () => {
        const evidence = scriptedEvidence({
            perUser: {
                "id-a": { kind: "state", state: "enabled" },
                "id-b": { kind: "state", state: "enforced" },
                "id-c": { kind: "state", state: "disabled" },
                "id-d": { kind: "state", state: null },
                "id-e": { kind: "state", state: undefined },
                "id-f": { kind: "state", state: "unknownFutureValue" },
            },
        });
        const verdicts = await evaluate(["a", "b", "c", "d", "e", "f"].map((n) => inventoryUser(n)), evidence, { acceptedEvidence: ["perUserMfa"] });
        assert.deepEqual(kinds(verdicts), [
            ["a@contoso.com", "compliant"],
            ["b@contoso.com", "compliant"],
            ["c@contoso.com", "noncompliant"],
            ["d@contoso.com", "noncompliant"],
            ["e@contoso.com", "noncompliant"],
            ["f@contoso.com", "noncompliant"],
        ]);
        assert.deepEqual(evidence.asked, ["perUser:id-a,id-b,id-c,id-d,id-e,id-f"]);
        assert.equal(evidence.requests[0].deadline, NOW.getTime() + 120_000);
        assert.deepEqual(verdicts[3].evidence, [{ source: "perUserMfa", counted: false, detail: "per-user MFA state is null" }]);
    });

    it("sorts users into the privileged and non-privileged rules, and evaluates only the rules asked for", async () => {
        const evidence = scriptedEvidence({ perUser: { "id-boss": { kind: "state", state: "disabled" } } });
        const users = [inventoryUser("boss", { roles: [owner] }), inventoryUser("clerk")];
        const privileged = await evaluate(users, evidence, { acceptedEvidence: ["perUserMfa"] }, new Set<Rule>(["privileged"]));
        assert.deepEqual(privileged.map((v) => [v.user.displayName, v.rule, v.kind]), [["boss@contoso.com", "privileged", "noncompliant"]]);
        assert.deepEqual(evidence.asked, ["perUser:id-boss"]);
    });

    it("counts PIM-eligible privileged roles as privileged", async () => {
        const eligibleAdmin: HeldRole = { name: "Global Administrator", reference: "t", system: "entra-directory", eligible: true, assignmentUrn: "urn:e" };
        const verdicts = await evaluate([inventoryUser("admin", { roles: [eligibleAdmin] })], scriptedEvidence({ perUser: { "id-admin": { kind: "state", state: "disabled" } } }), { acceptedEvidence: ["perUserMfa"] });
        assert.equal(verdicts[0].rule, "privileged");
        assert.equal(verdicts[0].kind, "noncompliant");
    });

    it("passes every user covered by an enabled all-users Conditional Access policy without a per-user call", async () => {
        const evidence = scriptedEvidence({ conditionalAccess: { kind: "value", value: [graphPolicy("Require MFA")] } });
        const verdicts = await evaluate([inventoryUser("a"), inventoryUser("b", { isNew: true, objectId: undefined })], evidence, ALL_EVIDENCE);
        assert.deepEqual(verdicts.map((v) => [v.kind, v.decidedBy]), [["compliant", "conditionalAccess"], ["compliant", "conditionalAccess"]]);
        assert.equal(verdicts[0].evidence[0].detail, "Conditional Access policy 'Require MFA' requires MFA for, or blocks, every sign-in of the user");
        assert.deepEqual(evidence.asked, ["conditionalAccess"]);
    });

    it("names every policy that together covers a user when none does alone", async () => {
        const modern = { ...graphPolicy("MFA modern clients"), conditions: { ...graphPolicy("x").conditions, clientAppTypes: ["browser", "mobileAppsAndDesktopClients"] } };
        const legacy = { ...graphPolicy("Block legacy", { grant: { builtInControls: ["block"] } }), conditions: { ...graphPolicy("x").conditions, clientAppTypes: ["exchangeActiveSync", "other"] } };
        const verdicts = await evaluate([inventoryUser("a")], scriptedEvidence({ conditionalAccess: { kind: "value", value: [modern, legacy] } }), ALL_EVIDENCE);
        assert.equal(verdicts[0].evidence[0].detail, "Conditional Access policies 'MFA modern clients' and 'Block legacy' together require MFA for, or block, every sign-in of the user");
    });

    it("does not count a report-only policy, and says so", async () => {
        const evidence = scriptedEvidence({
            conditionalAccess: { kind: "value", value: [graphPolicy("Require MFA", { state: "enabledForReportingButNotEnforced" })] },
            perUser: { "id-a": { kind: "state", state: "disabled" } },
        });
        const [verdict] = await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
        assert.equal(verdict.kind, "noncompliant");
        assert.deepEqual(verdict.evidence.map((e) => [e.detail, e.lookedAt]), [
            ["Conditional Access: no enabled Conditional Access policy that requires MFA or blocks applies to the user", ["'Require MFA' is report-only"]],
            ["security defaults are off", undefined],
            ["per-user MFA state is 'disabled'", undefined],
        ]);
    });

    it("leaves users unverified, naming the setting, when security defaults could not be read", async () => {
        const evidence = scriptedEvidence({ securityDefaults: { kind: "unverified", reason: "Graph answered HTTP 403 (needs Policy.Read.All)" }, perUser: { "id-a": { kind: "state", state: "disabled" } } });
        const [verdict] = await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
        assert.equal(verdict.kind, "unverified");
        assert.equal(verdict.reason, "security defaults could not be read (Graph answered HTTP 403 (needs Policy.Read.All))");
        assert.deepEqual(
            verdict.evidence.map((e) => [e.source, e.counted, e.detail]),
            [
                ["conditionalAccess", false, "Conditional Access: no enabled Conditional Access policy that requires MFA or blocks applies to the user"],
                ["securityDefaults", false, "security defaults could not be read: Graph answered HTTP 403 (needs Policy.Read.All)"],
                ["perUserMfa", false, "per-user MFA state is 'disabled'"],
            ],
        );
    });

    it("passes users when security defaults are on, counting that evidence", async () => {
        const evidence = scriptedEvidence({ securityDefaults: { kind: "value", value: true } });
        const [verdict] = await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
        assert.deepEqual([verdict.kind, verdict.decidedBy], ["compliant", "securityDefaults"]);
        assert.deepEqual(verdict.evidence.at(-1), { source: "securityDefaults", counted: true, detail: "security defaults are on, which require MFA" });
        assert.deepEqual(evidence.asked, ["conditionalAccess", "securityDefaults"]);
    });

    describe("a policy that excludes a directory role", () => {
        const policy = { kind: "value" as const, value: [graphPolicy("MFA except admins", { users: { excludeRoles: [GLOBAL_ADMINISTRATOR] } })] };

        it("does not count it for a user eligible for the role tenant-wide, who can activate it, and asks only about existing users", async () => {
            const evidence = scriptedEvidence({
                conditionalAccess: policy,
                eligibilities: {
                    "id-tenantwide": { kind: "value", value: [{ roleTemplateId: GLOBAL_ADMINISTRATOR, directoryScopeId: "/" }] },
                    // Conditional Access only counts directory roles held tenant-wide.
                    "id-unit": { kind: "value", value: [{ roleTemplateId: GLOBAL_ADMINISTRATOR, directoryScopeId: "/administrativeUnits/au-1" }] },
                },
                perUser: { "id-tenantwide": { kind: "state", state: "disabled" } },
            });
            // A user this deployment creates holds no role in the tenant yet, whether or not its id is known.
            const users = [inventoryUser("tenantwide"), inventoryUser("unit"), inventoryUser("new", { objectId: undefined, isNew: true }), inventoryUser("created", { isNew: true })];
            const verdicts = await evaluate(users, evidence, ALL_EVIDENCE);
            assert.deepEqual(kinds(verdicts), [["tenantwide@contoso.com", "noncompliant"], ["unit@contoso.com", "compliant"], ["new@contoso.com", "compliant"], ["created@contoso.com", "compliant"]]);
            assert.ok(evidence.asked.includes("eligibilities:id-tenantwide,id-unit"), evidence.asked.join(" "));
            assert.ok(evidence.asked.includes("memberships:id-tenantwide,id-unit"), evidence.asked.join(" "));
            assert.ok(!evidence.asked.some((q) => q.startsWith("groupMemberships")), `no outside group to ask about: ${evidence.asked.join(" ")}`);
        });

        it("leaves a user unverified when the user's eligibilities could not be read", async () => {
            const evidence = scriptedEvidence({
                conditionalAccess: policy,
                eligibilities: { "id-a": { kind: "unverified", reason: "Graph answered HTTP 403" } },
                perUser: { "id-a": { kind: "state", state: "disabled" } },
            });
            const [verdict] = await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
            assert.equal(verdict.kind, "unverified");
            assert.match(verdict.reason ?? "", /Graph answered HTTP 403/);
            assert.match(verdict.evidence[0].detail, /^Conditional Access coverage could not be decided: /);
            assert.equal(verdict.evidence[0].source, "conditionalAccess");
        });

        it("asks nothing about eligibilities when no policy excludes a role", async () => {
            const evidence = scriptedEvidence({ conditionalAccess: { kind: "value", value: [graphPolicy("MFA for admins", { users: { includeUsers: [], includeRoles: [GLOBAL_ADMINISTRATOR] } })] }, perUser: { "id-a": { kind: "state", state: "enabled" } } });
            await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
            assert.ok(!evidence.asked.some((q) => q.startsWith("eligibilities")), evidence.asked.join(" "));
        });
    });

    describe("a policy that requires an authentication strength", () => {
        const withStrength = (id: string) => ({ kind: "value" as const, value: [graphPolicy("Strong sign-in", { grant: { builtInControls: [], authenticationStrength: { id } } })] });

        it("reads a strength Graph did not inline, and counts it when it requires MFA", async () => {
            const evidence = scriptedEvidence({
                conditionalAccess: withStrength("Custom-1"),
                strengths: { "custom-1": { kind: "value", value: { id: "custom-1", displayName: "Authenticator only", requirementsSatisfied: "mfa", allowedCombinations: ["password,microsoftAuthenticatorPush"] } } },
            });
            const [verdict] = await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
            assert.deepEqual([verdict.kind, verdict.decidedBy], ["compliant", "conditionalAccess"]);
            assert.deepEqual(evidence.asked, ["conditionalAccess", "strengths:custom-1"]);
        });

        it("does not count a strength that lets a single factor through", async () => {
            const evidence = scriptedEvidence({
                conditionalAccess: withStrength("custom-2"),
                strengths: { "custom-2": { kind: "value", value: { id: "custom-2", displayName: "Password or SMS", requirementsSatisfied: "none", allowedCombinations: ["password", "sms"] } } },
                perUser: { "id-a": { kind: "state", state: "disabled" } },
            });
            const [verdict] = await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
            assert.equal(verdict.kind, "noncompliant");
        });

        it("leaves users unverified, naming the strength, when it could not be read", async () => {
            const evidence = scriptedEvidence({
                conditionalAccess: withStrength("custom-3"),
                strengths: { "custom-3": { kind: "unverified", reason: "Graph answered HTTP 403" } },
                perUser: { "id-a": { kind: "state", state: "disabled" } },
            });
            const [verdict] = await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
            assert.equal(verdict.kind, "unverified");
            assert.match(verdict.reason ?? "", /authentication strength custom-3 could not be read \(Graph answered HTTP 403\)/);
        });

        it("asks nothing about a strength Graph inlined in the policy", async () => {
            const inline = { id: "custom-4", requirementsSatisfied: "mfa", allowedCombinations: ["password,microsoftAuthenticatorPush"] };
            const evidence = scriptedEvidence({ conditionalAccess: { kind: "value", value: [graphPolicy("Strong sign-in", { grant: { builtInControls: [], authenticationStrength: inline } })] } });
            const [verdict] = await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
            assert.equal(verdict.kind, "compliant");
            assert.deepEqual(evidence.asked, ["conditionalAccess"]);
        });

        it("uses the stack's own strength rather than asking Graph for it", async () => {
            const strength = { urn: "urn:strength", id: "custom-5", displayName: "Passkeys", allowedCombinations: ["fido2", "windowsHelloForBusiness"] };
            const evidence = scriptedEvidence({ conditionalAccess: withStrength("custom-5") });
            const [verdict] = await evaluate(inventoryOf([inventoryUser("a")], { authenticationStrengthPolicies: [strength] }), evidence, ALL_EVIDENCE);
            assert.equal(verdict.kind, "compliant");
            assert.deepEqual(evidence.asked, ["conditionalAccess"]);
        });

        it("leaves users unverified when the stack's strength, unknown during preview, is what a stack policy requires", async () => {
            const strength = { urn: "urn:strength" };
            const policy = snapshotOf(conditionalAccessPolicy({ name: "stack-strong", displayName: "Stack strong sign-in" }));
            policy.props.grantControls = { operator: "OR", authenticationStrengthPolicyId: UNKNOWN };
            policy.propertyDependencies.grantControls = ["urn:strength"];
            const evidence = scriptedEvidence({ perUser: { "id-a": { kind: "state", state: "disabled" } } });
            const inventory = inventoryOf([inventoryUser("a")], { authenticationStrengthPolicies: [strength], conditionalAccessPolicies: [policy] });
            const [verdict] = await evaluate(inventory, evidence, ALL_EVIDENCE);
            assert.equal(verdict.kind, "unverified");
            assert.match(verdict.reason ?? "", /the combinations of the stack's authentication strength urn:strength could not be read/);
            assert.ok(!evidence.asked.some((q) => q.startsWith("strengths")), evidence.asked.join(" "));
        });

        it("leaves users unverified when Graph gave no answer for a strength", async () => {
            const evidence: MfaEvidence = { ...scriptedEvidence({ conditionalAccess: withStrength("custom-6"), perUser: { "id-a": { kind: "state", state: "disabled" } } }), authenticationStrengths: async () => new Map() };
            const [verdict] = await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
            assert.equal(verdict.kind, "unverified");
            assert.match(verdict.reason ?? "", /authentication strength custom-6 could not be read \(Graph gave no answer\)/);
        });

        it("asks nothing about a strength Graph inlined with its combinations only", async () => {
            const inline = { id: "custom-7", allowedCombinations: ["fido2"] };
            const evidence = scriptedEvidence({ conditionalAccess: { kind: "value", value: [graphPolicy("Passkeys", { grant: { builtInControls: [], authenticationStrength: inline } })] } });
            assert.equal((await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE))[0].kind, "compliant");
            assert.deepEqual(evidence.asked, ["conditionalAccess"]);
        });

        it("asks nothing about a strength a stack policy names by an id unknown during preview that no stack strength explains", async () => {
            const policy = snapshotOf(conditionalAccessPolicy({ name: "stack-strong", displayName: "Stack strong sign-in" }));
            policy.props.grantControls = { operator: "OR", authenticationStrengthPolicyId: UNKNOWN };
            const evidence = scriptedEvidence({ perUser: { "id-a": { kind: "state", state: "disabled" } } });
            const [verdict] = await evaluate(inventoryOf([inventoryUser("a")], { conditionalAccessPolicies: [policy] }), evidence, ALL_EVIDENCE);
            assert.equal(verdict.kind, "unverified");
            assert.ok(!evidence.asked.some((q) => q.startsWith("strengths")), evidence.asked.join(" "));
        });

        it("asks nothing about a strength Graph inlined with what it satisfies only", async () => {
            const inline = { id: "custom-9", requirementsSatisfied: "mfa" };
            const evidence = scriptedEvidence({ conditionalAccess: { kind: "value", value: [graphPolicy("Strong", { grant: { builtInControls: [], authenticationStrength: inline } })] } });
            assert.equal((await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE))[0].kind, "compliant");
            assert.deepEqual(evidence.asked, ["conditionalAccess"]);
        });

        it("asks Graph for a strength the stack defines but whose combinations it could not read", async () => {
            const strength = { urn: "urn:strength", id: "custom-8" };
            const evidence = scriptedEvidence({
                conditionalAccess: withStrength("custom-8"),
                strengths: { "custom-8": { kind: "value", value: { id: "custom-8", requirementsSatisfied: "mfa", allowedCombinations: ["fido2"] } } },
            });
            const [verdict] = await evaluate(inventoryOf([inventoryUser("a")], { authenticationStrengthPolicies: [strength] }), evidence, ALL_EVIDENCE);
            assert.equal(verdict.kind, "compliant");
            assert.deepEqual(evidence.asked, ["conditionalAccess", "strengths:custom-8"]);
        });

        it("asks nothing about a built-in MFA strength", async () => {
            const evidence = scriptedEvidence({ conditionalAccess: withStrength("00000000-0000-0000-0000-000000000002") });
            const [verdict] = await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
            assert.equal(verdict.kind, "compliant");
            assert.deepEqual(evidence.asked, ["conditionalAccess"]);
        });
    });

    describe("a stack policy that names the stack's new principals by ids unknown during preview", () => {
        it("covers a user in the new group it includes, and no one else", async () => {
            const admins = group({ name: "admins", displayName: "Admins", preview: true });
            const policy = snapshotOf(conditionalAccessPolicy({ name: "admins-mfa", displayName: "Admins MFA", includedUsers: [], includedGroups: [admins], preview: true }));
            const member = inventoryUser("member", { stackGroups: [{ urn: admins.urn, displayName: "Admins" }] });
            const inventory = inventoryOf([member, inventoryUser("other")], { conditionalAccessPolicies: [policy], groups: [{ urn: admins.urn, displayName: "Admins", userKeys: [member.key] }] });
            const evidence = scriptedEvidence({ perUser: { "id-other": { kind: "state", state: "disabled" } } });
            assert.deepEqual(kinds(await evaluate(inventory, evidence, ALL_EVIDENCE)), [["member@contoso.com", "compliant"], ["other@contoso.com", "noncompliant"]]);
        });

        it("does not cover the new user it excludes", async () => {
            const breakGlass = user({ name: "breakglass", preview: true });
            const policy = snapshotOf(conditionalAccessPolicy({ name: "all-mfa", displayName: "All MFA", includedUsers: ["All"], excludedUsers: [breakGlass], preview: true }));
            const excluded = inventoryUser("breakglass", { key: breakGlass.urn, urn: breakGlass.urn, objectId: undefined, isNew: true });
            const verdicts = await evaluate(inventoryOf([excluded, inventoryUser("a")], { conditionalAccessPolicies: [policy] }), scriptedEvidence({}), ALL_EVIDENCE);
            assert.deepEqual(kinds(verdicts), [["breakglass@contoso.com", "noncompliant"], ["a@contoso.com", "compliant"]]);
        });

        it("resolves the new directory role it excludes to the role's template id", async () => {
                const role = directoryRole({ name: "ga", displayName: "Global Administrator", preview: true });
            const policy = snapshotOf(conditionalAccessPolicy({ name: "all-mfa", displayName: "All MFA", includedUsers: ["All"], excludedRoles: [role], preview: true }));
            const admin = inventoryUser("admin", { roles: [{ name: "Global Administrator", reference: role.urn, templateId: GLOBAL_ADMINISTRATOR, system: "entra-directory", assignmentUrn: "urn:ga-assignment" }] });
            const inventory = inventoryOf([admin, inventoryUser("a")], { conditionalAccessPolicies: [policy], directoryRoles: [{ urn: role.urn, templateId: GLOBAL_ADMINISTRATOR }] });
            const evidence = scriptedEvidence({ perUser: { "id-admin": { kind: "state", state: "disabled" } }, eligibilities: { "id-a": { kind: "value", value: [] }, "id-admin": { kind: "value", value: [] } } });
            assert.deepEqual(kinds(await evaluate(inventory, evidence, ALL_EVIDENCE)), [["admin@contoso.com", "noncompliant"], ["a@contoso.com", "compliant"]]);
        });
    });

    it("gives each source an equal share of the budget left, so the first cannot starve the rest", async () => {
        const base = scriptedEvidence({ perUser: { "id-a": { kind: "state", state: "enabled" } } });
        // Conditional Access takes 30 ms: the next source's share is of what is left after it.
        const evidence: MfaEvidence = { ...base, conditionalAccessPolicies: async (request) => (await new Promise((r) => setTimeout(r, 30)), base.conditionalAccessPolicies(request)) };
        await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
        const [conditionalAccess, securityDefaults, perUser] = base.requests.map((r) => r.deadline - NOW.getTime());
        assert.ok(conditionalAccess >= 40_000 && conditionalAccess <= 40_010, `Conditional Access: ${conditionalAccess}`);
        // Half of the 120 s less the ~30 ms spent, counted from now: a little over 60 s.
        assert.ok(securityDefaults > 60_000 && securityDefaults < 60_100, `security defaults: ${securityDefaults}`);
        assert.equal(perUser, 120_000);
    });

    it("does not count a policy that grants nothing, such as one with session controls only", async () => {
        const sessionOnly = { ...graphPolicy("Sign-in frequency"), grantControls: null, sessionControls: { signInFrequency: { value: 4, type: "hours", isEnabled: true } } };
        const evidence = scriptedEvidence({ conditionalAccess: { kind: "value", value: [sessionOnly] }, perUser: { "id-a": { kind: "state", state: "disabled" } } });
        const [verdict] = await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
        assert.equal(verdict.kind, "noncompliant");
    });

    it("says why each user is out of scope", async () => {
        const verdicts = await evaluate([inventoryUser("guest", { isGuest: true }), inventoryUser("off", { accountEnabled: false })], scriptedEvidence({}), { includeGuests: false });
        assert.deepEqual(
            verdicts.map((v) => [v.kind, v.reason]),
            [
                ["out-of-scope", "is a guest and includeGuests is off"],
                ["out-of-scope", "has sign-in disabled and includeDisabledAccounts is off"],
            ],
        );
    });

    it("records where each piece of evidence came from, and that only the deciding one counted", async () => {
        const evidence = scriptedEvidence({ perUser: { "id-a": { kind: "state", state: "enforced" }, "id-b": { kind: "unverified", reason: "Graph answered HTTP 503" } } });
        const verdicts = await evaluate([inventoryUser("a"), inventoryUser("b"), inventoryUser("new", { objectId: undefined, isNew: true })], evidence, ALL_EVIDENCE);
        assert.deepEqual(
            verdicts.map((v) => v.evidence.map((e) => [e.source, e.counted, e.detail])),
            [
                [
                    ["conditionalAccess", false, "Conditional Access: no enabled Conditional Access policy that requires MFA or blocks applies to the user"],
                    ["securityDefaults", false, "security defaults are off"],
                    ["perUserMfa", true, "per-user MFA state is 'enforced'"],
                ],
                [
                    ["conditionalAccess", false, "Conditional Access: no enabled Conditional Access policy that requires MFA or blocks applies to the user"],
                    ["securityDefaults", false, "security defaults are off"],
                    ["perUserMfa", false, "per-user MFA state could not be read: Graph answered HTTP 503"],
                ],
                [
                    ["conditionalAccess", false, "Conditional Access: no enabled Conditional Access policy that requires MFA or blocks applies to the user"],
                    ["securityDefaults", false, "security defaults are off"],
                    ["newAccount", false, "a new account starts with per-user MFA 'disabled'"],
                ],
            ],
        );
    });

    it("says a per-user state Graph left out is missing, and a user Graph gave no answer for is unverified", async () => {
        const evidence: MfaEvidence = {
            ...scriptedEvidence({}),
            perUserMfaStates: async () => new Map([["id-a", { kind: "state" as const, state: undefined }]]),
        };
        const verdicts = await evaluate([inventoryUser("a"), inventoryUser("b")], evidence, { acceptedEvidence: ["perUserMfa"] });
        assert.deepEqual(
            verdicts.map((v) => [v.kind, v.reason, v.evidence.map((e) => e.detail)]),
            [
                ["noncompliant", undefined, ["per-user MFA state is missing"]],
                ["unverified", "no answer was recorded for the user", ["per-user MFA state could not be read: no answer was recorded for the user"]],
            ],
        );
    });

    it("joins several causes a user could not be verified for", async () => {
        const evidence = scriptedEvidence({
            conditionalAccess: { kind: "unverified", reason: "Graph answered HTTP 403" },
            perUser: { "id-a": { kind: "unverified", reason: "Graph answered HTTP 503" } },
        });
        const [verdict] = await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
        assert.deepEqual(verdict.causes, ["the tenant's Conditional Access policies could not be read (Graph answered HTTP 403)", "Graph answered HTTP 503"]);
        assert.equal(verdict.reason, "the tenant's Conditional Access policies could not be read (Graph answered HTTP 403); Graph answered HTTP 503");
        assert.deepEqual(verdict.evidence[0], { source: "conditionalAccess", counted: false, detail: "the tenant's Conditional Access policies could not be read: Graph answered HTTP 403" });
    });

    it("counts a Conditional Access policy the stack itself defines", async () => {
        const stackPolicy = snapshotOf(conditionalAccessPolicy({ name: "stack-mfa", displayName: "Stack MFA" }));
        const evidence = scriptedEvidence({});
        const [verdict] = await evaluate(inventoryOf([inventoryUser("a")], { conditionalAccessPolicies: [stackPolicy] }), evidence, ALL_EVIDENCE);
        assert.deepEqual([verdict.kind, verdict.evidence[0].detail], ["compliant", "Conditional Access policy 'Stack MFA' (in this stack) requires MFA for, or blocks, every sign-in of the user"]);
    });

    describe("a user the stack adds to groups outside it", () => {
        // The policy names the group the outside group sits in: only Graph's memberships of the outside group show the user is in it.
        const parentPolicy = { kind: "value" as const, value: [graphPolicy("MFA for staff", { users: { includeUsers: [], includeGroups: ["g-staff"] } })] };
        const member = (outsideGroupIds: string[]) => inventoryUser("a", { outsideGroupIds });
        const inStaff: Answer<Memberships> = { kind: "value", value: { groups: [{ id: "g-staff", displayName: "Staff" }], roleTemplateIds: [] } };
        const inNothing: Answer<Memberships> = { kind: "value", value: { groups: [], roleTemplateIds: [] } };

        it("counts the groups the outside groups belong to, read from Graph", async () => {
            const evidence = scriptedEvidence({ conditionalAccess: parentPolicy, groupMemberships: { "g-team": inNothing, "g-dept": inStaff } });
            const [verdict] = await evaluate([member(["g-team", "g-dept"])], evidence, ALL_EVIDENCE);
            assert.deepEqual([verdict.kind, verdict.decidedBy], ["compliant", "conditionalAccess"]);
            assert.ok(evidence.asked.includes("groupMemberships:g-team,g-dept"), evidence.asked.join(" "));
        });

        it("leaves the user unverified, with Graph's reason, when one outside group's memberships could not be read", async () => {
            const evidence = scriptedEvidence({
                conditionalAccess: parentPolicy,
                groupMemberships: { "g-team": inNothing, "g-dept": { kind: "unverified", reason: "Graph answered HTTP 403" } },
                perUser: { "id-a": { kind: "state", state: "disabled" } },
            });
            const [verdict] = await evaluate([member(["g-team", "g-dept"])], evidence, ALL_EVIDENCE);
            assert.equal(verdict.kind, "unverified");
            assert.match(verdict.reason ?? "", /Graph answered HTTP 403/);
        });

        it("leaves the user unverified when Graph gave no answer at all for an outside group", async () => {
            const scripted = scriptedEvidence({ conditionalAccess: parentPolicy, perUser: { "id-a": { kind: "state", state: "disabled" } } });
            // An evidence layer that returns no entry for the group, rather than an unverified one.
            const evidence: MfaEvidence = { ...scripted, groupMemberships: async (ids) => new Map(ids.filter((id) => id !== "g-dept").map((id) => [id, inStaff])) };
            const [verdict] = await evaluate([member(["g-dept", "g-team"])], evidence, ALL_EVIDENCE);
            assert.equal(verdict.kind, "unverified");
            assert.match(verdict.reason ?? "", /Graph gave no answer for a group outside the stack/);
        });
    });

    it("names the group that excludes a user from the policy, reading the user's groups from Graph", async () => {
        const evidence = scriptedEvidence({
            conditionalAccess: { kind: "value", value: [graphPolicy("Require MFA", { users: { excludeGroups: ["g-breakglass"] } })] },
            memberships: { "id-a": { kind: "value", value: { groups: [{ id: "g-breakglass", displayName: "Break glass" }], roleTemplateIds: [] } } },
            perUser: { "id-a": { kind: "state", state: "disabled" }, "id-b": { kind: "state", state: "disabled" } },
        });
        const verdicts = await evaluate([inventoryUser("a"), inventoryUser("b")], evidence, ALL_EVIDENCE);
        assert.deepEqual(verdicts.map((v) => v.kind), ["noncompliant", "compliant"]);
        assert.match(verdicts[0].evidence[0].lookedAt?.join() ?? "", /excludes the user through group 'Break glass'/);
        assert.ok(evidence.asked.includes("memberships:id-a,id-b"));
    });

    it("does not count MFA offered as one of several OR-ed controls", async () => {
        const policy = graphPolicy("MFA or compliant device", { grant: { operator: "OR", builtInControls: ["mfa", "compliantDevice"] } });
        const evidence = scriptedEvidence({ conditionalAccess: { kind: "value", value: [policy] }, perUser: { "id-a": { kind: "state", state: "disabled" } } });
        const [verdict] = await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
        assert.equal(verdict.kind, "noncompliant");
        assert.match(verdict.evidence[0].lookedAt?.join() ?? "", /lets users satisfy it with compliantdevice instead of MFA/);
    });

    it("counts a built-in MFA authentication strength, and a policy for the user's directory role", async () => {
        const strength = graphPolicy("Phishing-resistant for admins", {
            users: { includeUsers: [], includeRoles: [GLOBAL_ADMINISTRATOR] },
            grant: { builtInControls: [], authenticationStrength: { id: "00000000-0000-0000-0000-000000000004" } },
        });
        const admin = inventoryUser("ga", { roles: [{ name: "Global Administrator", reference: "t", templateId: GLOBAL_ADMINISTRATOR, system: "entra-directory", assignmentUrn: "urn:x" }] });
        const verdicts = await evaluate([admin], scriptedEvidence({ conditionalAccess: { kind: "value", value: [strength] } }), ALL_EVIDENCE);
        assert.deepEqual(verdicts.map((v) => [v.kind, v.decidedBy]), [["compliant", "conditionalAccess"]]);
    });

    it("passes everyone when security defaults are on", async () => {
        const evidence = scriptedEvidence({ securityDefaults: { kind: "value", value: true } });
        const verdicts = await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
        assert.deepEqual(verdicts.map((v) => [v.kind, v.decidedBy]), [["compliant", "securityDefaults"]]);
        assert.deepEqual(evidence.asked, ["conditionalAccess", "securityDefaults"]);
    });

    it("gives each source at most an equal share of what is left of the budget, the last one all of it", async () => {
        const evidence = scriptedEvidence({ perUser: { "id-a": { kind: "state", state: "disabled" } } });
        await evaluate([inventoryUser("a")], evidence, ALL_EVIDENCE);
        const budgetEnd = NOW.getTime() + 120_000;
        const [conditionalAccess, securityDefaults, perUser] = evidence.requests.map((r) => r.deadline);
        // A few ms may pass between sources; the shares are of what is left.
        assert.ok(conditionalAccess <= NOW.getTime() + 40_000 + 50 && conditionalAccess >= NOW.getTime() + 40_000 - 50, `${conditionalAccess - NOW.getTime()} ms`);
        assert.ok(securityDefaults <= NOW.getTime() + 60_000 + 50 && securityDefaults >= NOW.getTime() + 60_000 - 50, `${securityDefaults - NOW.getTime()} ms`);
        assert.equal(perUser, budgetEnd);
    });

    it("makes a user unverified, not non-compliant, when a source that might have covered it could not be read", async () => {
        const evidence = scriptedEvidence({
            conditionalAccess: { kind: "unverified", reason: "Graph denied access (HTTP 403)" },
            perUser: { "id-a": { kind: "state", state: "disabled" }, "id-b": { kind: "state", state: "enabled" } },
        });
        const verdicts = await evaluate([inventoryUser("a"), inventoryUser("b")], evidence, ALL_EVIDENCE);
        assert.deepEqual(verdicts.map((v) => v.kind), ["unverified", "compliant"]);
        assert.match(verdicts[0].reason ?? "", /Conditional Access policies could not be read \(Graph denied access \(HTTP 403\)\)/);
    });

    it("turns a Graph failure of the per-user state into unverified", async () => {
        const verdicts = await evaluate([inventoryUser("a")], scriptedEvidence({ perUser: { "id-a": { kind: "unverified", reason: "HTTP 503" } } }), { acceptedEvidence: ["perUserMfa"] });
        assert.deepEqual([verdicts[0].kind, verdicts[0].reason], ["unverified", "HTTP 503"]);
    });

    it("accepts registration only when asked to", async () => {
        const script = { perUser: { "id-a": { kind: "state" as const, state: "disabled" } }, registration: { "id-a": { kind: "value" as const, value: true } } };
        assert.equal((await evaluate([inventoryUser("a")], scriptedEvidence(script), { acceptedEvidence: ["perUserMfa"] }))[0].kind, "noncompliant");
        const verdicts = await evaluate([inventoryUser("a")], scriptedEvidence(script), { acceptedEvidence: ["perUserMfa", "registration"] });
        assert.deepEqual([verdicts[0].kind, verdicts[0].decidedBy], ["compliant", "registration"]);
    });

    describe("registration as the only evidence", () => {
        const REGISTRATION_ONLY: Partial<MfaPolicyConfig> = { acceptedEvidence: ["registration"] };

        it("passes a registered user, fails an unregistered one and a new account, and leaves a failed read unverified", async () => {
            const evidence = scriptedEvidence({
                registration: { "id-yes": { kind: "value", value: true }, "id-no": { kind: "value", value: false }, "id-err": { kind: "unverified", reason: "Graph answered HTTP 403" } },
            });
            const users = [inventoryUser("yes"), inventoryUser("no"), inventoryUser("err"), inventoryUser("new", { objectId: undefined, isNew: true })];
            const verdicts = await evaluate(users, evidence, REGISTRATION_ONLY);
            assert.deepEqual(
                verdicts.map((v) => [v.user.displayName, v.kind, v.evidence.map((e) => [e.source, e.counted, e.detail])]),
                [
                    ["yes@contoso.com", "compliant", [["registration", true, "the user is registered for MFA (isMfaCapable)"]]],
                    ["no@contoso.com", "noncompliant", [["registration", false, "the user has no MFA method registered (isMfaCapable is false)"]]],
                    ["err@contoso.com", "unverified", [["registration", false, "MFA registration could not be read: Graph answered HTTP 403"]]],
                    ["new@contoso.com", "noncompliant", [["registration", false, "a new account has no MFA method registered"]]],
                ],
            );
            assert.equal(verdicts[2].reason, "Graph answered HTTP 403");
            assert.deepEqual(evidence.asked, ["registration:id-yes,id-no,id-err"]);
        });

        it("leaves a user whose object id could not be read unverified, not failed", async () => {
            const [verdict] = await evaluate([inventoryUser("odd", { objectId: undefined })], scriptedEvidence({}), REGISTRATION_ONLY);
            assert.deepEqual([verdict.kind, verdict.reason], ["unverified", "its object id could not be read from the stack"]);
        });

        it("leaves a user Graph gave no answer for unverified, not failed", async () => {
            const evidence: MfaEvidence = { ...scriptedEvidence({}), mfaCapable: async () => new Map() };
            const [verdict] = await evaluate([inventoryUser("a")], evidence, REGISTRATION_ONLY);
            assert.deepEqual([verdict.kind, verdict.reason], ["unverified", "no answer was recorded for the user"]);
        });
    });

    it("fails a user created by this deployment that nothing covers, without asking Graph about it", async () => {
        const evidence = scriptedEvidence({});
        const [verdict] = await evaluate([inventoryUser("new", { objectId: undefined, isNew: true })], evidence, ALL_EVIDENCE);
        assert.equal(verdict.kind, "noncompliant");
        assert.ok(verdict.evidence.some((e) => e.source === "newAccount"));
        assert.deepEqual(evidence.asked, ["conditionalAccess", "securityDefaults"]);
    });

    it("gives a role held by a group outside the stack to the members Graph lists", async () => {
        const grant = { groupObjectId: "g-admins", role: { ...owner, assignmentUrn: "urn:grant" } };
        const inventory = inventoryOf([inventoryUser("a")], { outsideGroupGrants: [grant] });
        const evidence = scriptedEvidence({
            groupUsers: { "g-admins": { kind: "value", value: [{ id: "id-a" }, { id: "id-outsider", userPrincipalName: "outsider@contoso.com" }] } },
            perUser: { "id-a": { kind: "state", state: "disabled" }, "id-outsider": { kind: "state", state: "disabled" } },
        });
        const verdicts = await evaluate(inventory, evidence, { acceptedEvidence: ["perUserMfa"] });
        assert.deepEqual(verdicts.map((v) => [v.user.displayName, v.rule]), [["a@contoso.com", "privileged"], ["outsider@contoso.com", "privileged"]]);
        assert.equal(verdicts[0].user.roles[0].viaGroup, "g-admins");
        // A member found through the group is an existing account with exactly the group's role; its profile comes from Graph.
        const outsider = verdicts[1].user;
        assert.deepEqual(
            [outsider.key, outsider.isNew, outsider.roles.map((r) => r.name), outsider.stackGroups, outsider.outsideGroupIds, outsider.principalKind, outsider.guestKind],
            ["objectId:id-outsider", false, ["Owner"], [], [], "user", "unknown"],
        );
        assert.ok(evidence.asked.includes("perUser:id-a,id-outsider"), evidence.asked.join(" "));
    });

    it("leaves a member found through an outside group unverified, not out of scope, when its profile could not be read", async () => {
        const inventory = inventoryOf([], { outsideGroupGrants: [{ groupObjectId: "g-admins", role: owner }] });
        const evidence = scriptedEvidence({ groupUsers: { "g-admins": { kind: "value", value: [{ id: "id-m" }] } }, perUser: { "id-m": { kind: "state", state: "disabled" } } });
        const [verdict] = await evaluate(inventory, evidence, { acceptedEvidence: ["perUserMfa"], includeGuests: false, includeDisabledAccounts: true });
        assert.deepEqual([verdict.kind, verdict.user.isGuest], ["unverified", false]);
        assert.match(verdict.reason ?? "", /cannot tell whether it is a guest/);
    });

    it("names users outside the stack from Graph, and leaves a disabled one out of scope", async () => {
        const evidence = scriptedEvidence({
            profiles: {
                "id-x": { kind: "value", value: { userPrincipalName: "x@contoso.com", accountEnabled: true, userType: "Member" } },
                "id-off": { kind: "value", value: { userPrincipalName: "off@contoso.com", accountEnabled: false } },
            },
            perUser: { "id-x": { kind: "state", state: "disabled" }, "id-unknown": { kind: "state", state: "disabled" } },
        });
        const verdicts = await evaluate([outsideUser("id-x"), outsideUser("id-off"), outsideUser("id-unknown")], evidence, { acceptedEvidence: ["perUserMfa"] });
        // id-unknown's profile could not be read: it may be a disabled account, which is out of scope, so it is not failed.
        assert.deepEqual(kinds(verdicts), [["x@contoso.com", "noncompliant"], ["off@contoso.com", "out-of-scope"], ["id-unknown", "unverified"]]);
        assert.match(verdicts[2].reason ?? "", /the user's profile could not be read \(not scripted\), so the pack cannot tell whether its sign-in is disabled \(includeDisabledAccounts is off\)/);
        assert.equal(evidence.asked[0], "profiles:id-x,id-off,id-unknown");
    });

    it("fails a user whose profile could not be read only when no setting turns on what the profile would say", async () => {
        const outsider = outsideUser("id-unknown");
        const evidence = scriptedEvidence({ perUser: { "id-unknown": { kind: "state", state: "disabled" } } });
        const everyone = { acceptedEvidence: ["perUserMfa" as const], includeDisabledAccounts: true, includeGuests: true };
        assert.deepEqual((await evaluate([outsider], evidence, everyone)).map((v) => v.kind), ["noncompliant"]);
        const withUpnExemption = { ...everyone, exemptions: [{ user: "breakglass@contoso.com", reason: "Emergency access" }] };
        const [verdict] = await evaluate([outsider], evidence, withUpnExemption);
        assert.equal(verdict.kind, "unverified");
        assert.match(verdict.reason ?? "", /whether an exemption by user principal name names it/);
    });

    it("turns an outside principal Graph knows as no user into a group, and checks its members for its roles", async () => {
        const principal = outsideUser("id-grp", { roles: [owner] });
        const evidence = scriptedEvidence({
            profiles: { "id-grp": { kind: "not-found" }, "id-m": { kind: "value", value: { userPrincipalName: "m@contoso.com", accountEnabled: true, userType: "Member" } } },
            groupUsers: { "id-grp": { kind: "value", value: [{ id: "id-m" }] } },
            perUser: { "id-m": { kind: "state", state: "disabled" } },
        });
        const verdicts = await evaluate([principal], evidence, { acceptedEvidence: ["perUserMfa"] });
        assert.deepEqual(verdicts.map((v) => [v.user.displayName, v.rule, v.kind, v.user.roles.map((r) => [r.name, r.viaGroup])]), [["m@contoso.com", "privileged", "noncompliant", [["Owner", "id-grp"]]]]);
    });

    it("says when a role goes to an id the tenant knows as neither user nor group, or to a group Graph gave no answer for", async () => {
        const unnamed: HeldRole = { reference: "role-ref", system: "azure-rbac", assignmentUrn: "urn:unnamed" };
        const inventory = inventoryOf([], { outsideGroupGrants: [{ groupObjectId: "g-gone", role: unnamed }, { groupObjectId: "g-silent", role: owner }] });
        const evidence: MfaEvidence = { ...scriptedEvidence({}), groupUsers: async () => new Map([["g-gone", { kind: "unverified" as const, reason: "Graph answered HTTP 404" }]]) };
        const result = await evaluateUsers(inventory, { config: DEFAULT_CONFIG, evidence, now: NOW }, BOTH_RULES);
        assert.deepEqual(result.problems, [
            { urn: "urn:unnamed", message: "gives the role role-ref to g-gone, which the tenant knows as neither a user nor a group (a service principal, or a deleted object?); nobody is checked for it" },
            { urn: "urn:a", message: "gives 'Owner' to group g-silent, which is not in the stack, and its members could not be listed (no answer); they are not checked for this role" },
        ]);
    });

    it("takes an outside user's guest status from Graph, and keeps the stack's problems", async () => {
        const evidence = scriptedEvidence({
            profiles: {
                "id-g": { kind: "value", value: { userPrincipalName: "g_fabrikam.com#EXT#@contoso.com", userType: "Guest" } },
                "id-m": { kind: "value", value: { userPrincipalName: "m@contoso.com", userType: "Member" } },
            },
            perUser: { "id-m": { kind: "state", state: "disabled" } },
        });
        const problem = { urn: "urn:odd", message: "has a malformed principalId" };
        const inventory = inventoryOf([outsideUser("id-g", { accountEnabled: undefined }), outsideUser("id-m", { accountEnabled: undefined })], { problems: [problem] });
        const result = await evaluateUsers(inventory, { config: { ...DEFAULT_CONFIG, includeGuests: false, acceptedEvidence: ["perUserMfa"] }, evidence, now: NOW }, BOTH_RULES);
        assert.deepEqual(
            result.verdicts.map((v) => [v.user.displayName, v.kind, v.user.isGuest, v.user.accountEnabled, v.user.principalKind]),
            [
                ["g_fabrikam.com#EXT#@contoso.com", "out-of-scope", true, undefined, "user"],
                ["m@contoso.com", "noncompliant", false, undefined, "user"],
            ],
        );
        assert.deepEqual(result.problems, [problem]);
    });

    describe("a user outside the stack whose profile could not be read", () => {
        const outsider = () => outsideUser("id-x");

        it("names only the settings its profile would decide", async () => {
            const evidence = scriptedEvidence({ perUser: { "id-x": { kind: "state", state: "disabled" } } });
            const [verdict] = await evaluate([outsider()], evidence, { acceptedEvidence: ["perUserMfa"], includeGuests: false, includeDisabledAccounts: true });
            assert.equal(verdict.reason, "the user's profile could not be read (not scripted), so the pack cannot tell whether it is a guest (includeGuests is off)");
            const [both] = await evaluate([outsider()], evidence, { acceptedEvidence: ["perUserMfa"], includeGuests: false, includeDisabledAccounts: false });
            assert.equal(
                both.reason,
                "the user's profile could not be read (not scripted), so the pack cannot tell whether its sign-in is disabled (includeDisabledAccounts is off), or whether it is a guest (includeGuests is off)",
            );
        });

        it("is failed when only an exemption by object id could apply, which needs no profile", async () => {
            const evidence = scriptedEvidence({ perUser: { "id-x": { kind: "state", state: "disabled" } } });
            const config: Partial<MfaPolicyConfig> = { acceptedEvidence: ["perUserMfa"], includeGuests: true, includeDisabledAccounts: true, exemptions: [{ user: "00000000-0000-0000-0000-00000000b1a5", reason: "Break glass" }] };
            const [verdict] = await evaluate([outsider()], evidence, config);
            assert.equal(verdict.kind, "noncompliant");
        });

        it("gives only the cause that already made it unverified", async () => {
            const evidence = scriptedEvidence({ perUser: { "id-x": { kind: "unverified", reason: "Graph answered HTTP 503" } } });
            const [verdict] = await evaluate([outsider()], evidence, { acceptedEvidence: ["perUserMfa"] });
            assert.deepEqual(verdict.causes, ["Graph answered HTTP 503"]);
        });

        it("says Graph gave no answer when the profile is missing from Graph's answers", async () => {
            const evidence: MfaEvidence = { ...scriptedEvidence({ perUser: { "id-x": { kind: "state", state: "disabled" } } }), userProfiles: async () => new Map() };
            const [verdict] = await evaluate([outsider()], evidence, { acceptedEvidence: ["perUserMfa"] });
            assert.match(verdict.reason ?? "", /^the user's profile could not be read \(Graph gave no answer\)/);
        });
    });

    it("calls a user whose object id could not be read unverified, and says so", async () => {
        const [verdict] = await evaluate([inventoryUser("odd", { objectId: undefined })], scriptedEvidence({}), { acceptedEvidence: ["perUserMfa"] });
        assert.deepEqual([verdict.kind, verdict.reason], ["unverified", "its object id could not be read from the stack"]);
    });

    it("reports a group outside the stack whose members could not be listed", async () => {
        const inventory = inventoryOf([], { outsideGroupGrants: [{ groupObjectId: "g-x", role: owner }] });
        const result = await evaluateUsers(inventory, { config: DEFAULT_CONFIG, evidence: scriptedEvidence({}), now: NOW }, BOTH_RULES);
        assert.match(result.problems[0].message, /group g-x, which is not in the stack, and its members could not be listed \(not scripted\)/);
    });

    it("leaves guests and disabled accounts out only when configured to", async () => {
        const users = [inventoryUser("guest", { isGuest: true }), inventoryUser("off", { accountEnabled: false })];
        const evidence = scriptedEvidence({ perUser: { "id-guest": { kind: "state", state: "disabled" }, "id-off": { kind: "state", state: "disabled" } } });
        const perUserOnly = { acceptedEvidence: ["perUserMfa" as const] };
        assert.deepEqual((await evaluate(users, evidence, perUserOnly)).map((v) => v.kind), ["noncompliant", "out-of-scope"]);
        assert.deepEqual((await evaluate(users, evidence, { ...perUserOnly, includeGuests: false, includeDisabledAccounts: true })).map((v) => v.kind), ["out-of-scope", "noncompliant"]);
    });

    it("exempts by UPN or object id, case-insensitively and whatever blanks surround it, until the end of the expiry day", async () => {
        const evidence = scriptedEvidence({ perUser: { "id-b": { kind: "state", state: "disabled" } } });
        const verdicts = await evaluate([inventoryUser("a"), inventoryUser("b")], evidence, {
            acceptedEvidence: ["perUserMfa"],
            exemptions: [
                { user: " A@CONTOSO.COM ", reason: "break glass" },
                { user: "id-b", reason: "migration", expires: "2026-11-23" },
            ],
        });
        assert.deepEqual(verdicts.map((v) => v.kind), ["exempt", "noncompliant"]);
        assert.ok(!("expiredExemption" in verdicts[0]), "an exemption still running is shown as expired");
        assert.equal(verdicts[1].expiredExemption?.reason, "migration");
    });
});

describe("isExpired", () => {
    it("counts the whole expiry day, in UTC", () => {
        assert.equal(isExpired({ user: "x", reason: "r", expires: "2026-11-24" }, NOW), false);
        assert.equal(isExpired({ user: "x", reason: "r", expires: "2026-11-23" }, NOW), true);
        assert.equal(isExpired({ user: "x", reason: "r" }, NOW), false);
        assert.equal(isExpired({ user: "x", reason: "r", expires: "2026-11-24" }, new Date("2026-11-24T23:59:59.999Z")), false, "its last millisecond");
        assert.equal(isExpired({ user: "x", reason: "r", expires: "2026-11-24" }, new Date("2026-11-25T00:00:00.000Z")), true, "the next day");
    });

    it("treats an unreadable date as expired rather than as forever", () => {
        assert.equal(isExpired({ user: "x", reason: "r", expires: "2026-13-45" }, NOW), true);
    });
});
