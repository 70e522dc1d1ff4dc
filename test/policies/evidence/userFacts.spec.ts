import * as assert from "node:assert/strict";
import { causeFor } from "../../../policies/evidence/causes";
import { ConditionalAccessPolicy, conditionalAccessPolicyFromGraph } from "../../../policies/evidence/conditionalAccess";
import { FactsNeeded, factsNeededBy, isTenantWide, userFactsOf } from "../../../policies/evidence/userFacts";
import { HeldRole, InventoryUser } from "../../../policies/inventory/types";

const GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10";
const GLOBAL_READER = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";
const NOTHING: FactsNeeded = { memberships: false, eligibilities: false, guestKinds: false };
const EVERYTHING: FactsNeeded = { memberships: true, eligibilities: true, guestKinds: true };

/** Alice as the inventory holds an existing user of the stack: no roles, no groups. */
function alice(change: Partial<InventoryUser> = {}): InventoryUser {
    return {
        key: "urn:alice",
        urn: "urn:alice",
        objectId: "AAAA-ALICE",
        displayName: "alice@contoso.com",
        isGuest: false,
        isNew: false,
        roles: [],
        stackGroups: [],
        ...change,
    };
}

function directoryRole(templateId: string, change: Partial<HeldRole> = {}): HeldRole {
    return { name: "Role", reference: templateId, system: "entra-directory", templateId, assignmentUrn: `urn:assignment:${templateId}`, tenantWide: true, ...change };
}

/** A tenant policy for all users and apps requiring MFA, with `users` replacing its user conditions. */
function policyNaming(users: Record<string, unknown>): ConditionalAccessPolicy {
    return conditionalAccessPolicyFromGraph({ id: "p", displayName: "p", state: "enabled", conditions: { users: { includeUsers: ["All"], ...users }, applications: { includeApplications: ["All"] } }, grantControls: { builtInControls: ["mfa"] } });
}

const ids = (facts: ReadonlySet<string> | unknown) => (facts instanceof Set ? [...facts].sort() : facts);

describe("factsNeededBy", () => {
    it("needs nothing for a policy on all users", () => {
        assert.deepEqual(factsNeededBy([policyNaming({})]), NOTHING);
    });

    it("needs memberships for a policy naming groups or roles, included or excluded", () => {
        for (const users of [{ includeGroups: ["g"] }, { excludeGroups: ["g"] }, { includeRoles: [GLOBAL_READER] }]) {
            assert.deepEqual(factsNeededBy([policyNaming(users)]), { ...NOTHING, memberships: true }, JSON.stringify(users));
        }
    });

    it("needs eligible roles as well for a policy excluding roles, since an eligible user may activate one", () => {
        assert.deepEqual(factsNeededBy([policyNaming({ excludeRoles: [GLOBAL_ADMINISTRATOR] })]), { ...NOTHING, memberships: true, eligibilities: true });
    });

    it("needs guest kinds for a policy naming guests by kind or by the GuestsOrExternalUsers keyword", () => {
        const byKind = policyNaming({ excludeGuestsOrExternalUsers: { guestOrExternalUserTypes: "internalGuest", externalTenants: { membershipKind: "all" } } });
        assert.deepEqual(factsNeededBy([byKind]), { ...NOTHING, guestKinds: true });
        assert.deepEqual(factsNeededBy([policyNaming({ includeUsers: ["GuestsOrExternalUsers"] })]), { ...NOTHING, guestKinds: true });
    });

    it("needs memberships and eligible roles when a stack policy's groups or roles are unknown during preview", () => {
        const base = policyNaming({});
        const unknownList = { values: [], unknown: { whole: true, count: 0, candidates: [] } };
        const withUnknownGroups = { ...base, include: { ...base.include, groups: unknownList } };
        const withUnknownExcludedRoles = { ...base, exclude: { ...base.exclude, roles: unknownList } };
        assert.deepEqual(factsNeededBy([withUnknownGroups]), { ...NOTHING, memberships: true });
        assert.deepEqual(factsNeededBy([base, withUnknownExcludedRoles]), { ...NOTHING, memberships: true, eligibilities: true });
    });
});

describe("userFactsOf", () => {
    it("takes the stack's groups and tenant-wide active roles as all there is when no policy needs more", () => {
        const user = alice({
            stackGroups: [{ urn: "urn:admins", objectId: "G-ADMINS", displayName: "Admins" }, { urn: "urn:new", displayName: "New group" }],
            roles: [directoryRole(GLOBAL_ADMINISTRATOR.toUpperCase()), directoryRole(GLOBAL_READER, { eligible: true }), directoryRole("scoped", { tenantWide: false }), { ...directoryRole("azure"), system: "azure-rbac" }],
        });
        const facts = userFactsOf(user, NOTHING, {});
        assert.equal(facts.objectId, "aaaa-alice");
        assert.deepEqual([...facts.stackUrns], ["urn:alice", "urn:admins", "urn:new"]);
        assert.equal(facts.guestKind, "member");
        assert.deepEqual(ids(facts.groupIds), ["g-admins"]);
        assert.deepEqual(ids(facts.roleTemplateIds), [GLOBAL_ADMINISTRATOR]);
        assert.deepEqual(ids(facts.eligibleRoleTemplateIds), [GLOBAL_READER]);
        assert.deepEqual([...facts.groupNames], [["g-admins", "Admins"]]);
    });

    it("adds the tenant's groups, roles and group names to the stack's when memberships are needed", () => {
        const user = alice({ stackGroups: [{ urn: "urn:admins", objectId: "g-admins", displayName: "Admins" }] });
        const facts = userFactsOf(user, EVERYTHING, {
            memberships: { kind: "value", value: { groups: [{ id: "G-TENANT", displayName: "Tenant group" }, { id: "g-unnamed" }], roleTemplateIds: [GLOBAL_READER.toUpperCase()] } },
            eligibleRoleTemplateIds: { kind: "value", value: [GLOBAL_ADMINISTRATOR.toUpperCase()] },
        });
        assert.deepEqual(ids(facts.groupIds), ["g-admins", "g-tenant", "g-unnamed"]);
        assert.deepEqual(ids(facts.roleTemplateIds), [GLOBAL_READER]);
        assert.deepEqual(ids(facts.eligibleRoleTemplateIds), [GLOBAL_ADMINISTRATOR]);
        assert.deepEqual([...facts.groupNames], [["g-admins", "Admins"], ["g-tenant", "Tenant group"]]);
    });

    it("keeps the roles the stack makes the user eligible for next to the tenant's", () => {
        const facts = userFactsOf(alice({ roles: [directoryRole(GLOBAL_READER, { eligible: true })] }), EVERYTHING, {
            memberships: { kind: "value", value: { groups: [], roleTemplateIds: [] } },
            eligibleRoleTemplateIds: { kind: "value", value: [GLOBAL_ADMINISTRATOR.toUpperCase()] },
        });
        assert.deepEqual(ids(facts.eligibleRoleTemplateIds), [GLOBAL_ADMINISTRATOR, GLOBAL_READER].sort());
    });

    it("gives a user outside the stack, in no stack group, no stack resource to be matched by", () => {
        const facts = userFactsOf(alice({ key: "objectId:aaaa-alice", urn: undefined }), NOTHING, {});
        assert.deepEqual([...facts.stackUrns], []);
    });

    it("adds the memberships of the outside groups the stack adds the user to", () => {
        const facts = userFactsOf(alice({ outsideGroupIds: ["G-OUTSIDE"] }), EVERYTHING, {
            memberships: { kind: "value", value: { groups: [], roleTemplateIds: [] } },
            outsideGroupMemberships: { kind: "value", value: { groups: [{ id: "g-parent" }], roleTemplateIds: [GLOBAL_READER] } },
            eligibleRoleTemplateIds: { kind: "value", value: [] },
        });
        assert.deepEqual(ids(facts.groupIds), ["g-outside", "g-parent"]);
        assert.deepEqual(ids(facts.roleTemplateIds), [GLOBAL_READER]);
    });

    it("makes groups and roles unknown, with Graph's reason, when the user's memberships could not be read", () => {
        const facts = userFactsOf(alice(), EVERYTHING, { memberships: { kind: "unverified", reason: "HTTP 403" }, eligibleRoleTemplateIds: { kind: "value", value: [] } });
        const expected = { unknown: ["the user's group and role memberships could not be read (HTTP 403)"] };
        assert.deepEqual(facts.groupIds, expected);
        assert.deepEqual(facts.roleTemplateIds, expected);
        assert.deepEqual(ids(facts.eligibleRoleTemplateIds), []);
    });

    it("makes groups and roles unknown when the outside groups' memberships were not read", () => {
        const facts = userFactsOf(alice({ outsideGroupIds: ["g-outside"] }), EVERYTHING, { memberships: { kind: "value", value: { groups: [], roleTemplateIds: [] } } });
        assert.deepEqual(facts.groupIds, { unknown: ["the memberships of the groups outside the stack it is added to were not read"] });
    });

    it("asks the tenant nothing for a user this deployment creates: the stack's view of it is complete", () => {
        const facts = userFactsOf(alice({ objectId: undefined, isNew: true, stackGroups: [{ urn: "urn:admins", objectId: "g-admins", displayName: "Admins" }] }), EVERYTHING, {});
        assert.equal(facts.objectId, undefined);
        assert.equal("objectId" in facts, false);
        assert.deepEqual(ids(facts.groupIds), ["g-admins"]);
        assert.deepEqual(ids(facts.roleTemplateIds), []);
        assert.deepEqual(ids(facts.eligibleRoleTemplateIds), []);
    });

    it("asks the tenant nothing for a new user whose object id the preview already shows", () => {
        const facts = userFactsOf(alice({ isNew: true }), EVERYTHING, {});
        assert.deepEqual(ids(facts.groupIds), []);
        assert.deepEqual(ids(facts.eligibleRoleTemplateIds), []);
    });

    it("makes eligible roles unknown when they were needed and not read, or could not be read", () => {
        const memberships = { kind: "value" as const, value: { groups: [], roleTemplateIds: [] } };
        assert.deepEqual(userFactsOf(alice(), EVERYTHING, { memberships }).eligibleRoleTemplateIds, { unknown: ["the directory roles the user is eligible for were not read"] });
        assert.deepEqual(userFactsOf(alice(), EVERYTHING, { memberships, eligibleRoleTemplateIds: { kind: "unverified", reason: "HTTP 403" } }).eligibleRoleTemplateIds, {
            unknown: ["the directory roles the user is eligible for could not be read (HTTP 403)"],
        });
        assert.deepEqual(ids(userFactsOf(alice(), { ...EVERYTHING, eligibilities: false }, { memberships }).eligibleRoleTemplateIds), []);
    });

    it("makes memberships unknown when they were needed and not asked for", () => {
        assert.deepEqual(userFactsOf(alice(), EVERYTHING, {}).groupIds, { unknown: ["the user's group and role memberships were not read"] });
    });

    describe("the user's kind of guest", () => {
        it("takes the inventory's kind, else a stack user's guest flag", () => {
            assert.equal(userFactsOf(alice({ guestKind: "internalGuest" }), NOTHING, {}).guestKind, "internalGuest");
            assert.equal(userFactsOf(alice({ isGuest: true }), NOTHING, {}).guestKind, "b2bCollaborationGuest");
            assert.equal(userFactsOf(alice({ isGuest: false }), NOTHING, {}).guestKind, "member");
        });

        it("is unknown, with the profile read's failure, for a user outside the stack", () => {
            const outside = alice({ urn: undefined, key: "objectId:x" });
            assert.deepEqual(userFactsOf(outside, NOTHING, { profileFailure: "HTTP 403" }).guestKind, { unknown: ["whether the user is a guest, and of which kind, could not be read (HTTP 403)"] });
            assert.deepEqual(userFactsOf(alice({ guestKind: "unknown" }), NOTHING, {}).guestKind, { unknown: ["the pack cannot tell which kind of guest or external user it is from its profile"] });
        });
    });
});

describe("causeFor", () => {
    it("names the read that failed and why", () => {
        assert.equal(causeFor("security defaults", "HTTP 500"), "security defaults could not be read (HTTP 500)");
    });

    it("says a run-wide failure as it is, so every source and user share one cause", () => {
        for (const reason of [
            "could not sign in: no credential",
            "no Azure credential gave a token (EnvironmentCredential: unavailable)",
            "GET /beta/identity/conditionalAccess/policies is refused: the budget is spent. No request was sent.",
            "ARM_ENVIRONMENT is 'mars', which the pack does not know",
            "the Graph root 'x' is not a URL.",
        ]) {
            assert.equal(causeFor("security defaults", reason), reason);
        }
    });

    it("does not take a run-wide phrase in the middle of a reason for a run-wide failure", () => {
        assert.equal(causeFor("x", "HTTP 401: could not sign in: expired"), "x could not be read (HTTP 401: could not sign in: expired)");
        assert.equal(causeFor("x", "the proxy said no Azure credential gave a token"), "x could not be read (the proxy said no Azure credential gave a token)");
        assert.equal(causeFor("x", "the root is not a URL. Try again"), "x could not be read (the root is not a URL. Try again)");
        assert.equal(causeFor("x", "the proxy says ARM_ENVIRONMENT is 'mars'"), "x could not be read (the proxy says ARM_ENVIRONMENT is 'mars')");
    });
});

describe("isTenantWide", () => {
    it("trusts the role's tenantWide flag, else takes a role without a scope for tenant-wide unless its scope is unknown", () => {
        assert.equal(isTenantWide(directoryRole("r", { tenantWide: false, directoryScopeId: undefined })), false);
        assert.equal(isTenantWide(directoryRole("r", { tenantWide: undefined })), true);
        assert.equal(isTenantWide(directoryRole("r", { tenantWide: undefined, directoryScopeId: "/administrativeUnits/x" })), false);
        assert.equal(isTenantWide(directoryRole("r", { tenantWide: undefined, scopeUnknown: true })), false);
    });
});
