import * as assert from "node:assert/strict";
import fc from "fast-check";
import {
    ConditionalAccessPolicy,
    conditionalAccessPolicyFromGraph,
    conditionalAccessPolicyFromStack,
    Coverage,
    coverageOf,
    UserFacts,
} from "../../../policies/evidence/conditionalAccess";
import { StackGroupRef } from "../../../policies/inventory/types";
import {
    BUILT_IN_AUTHENTICATION_STRENGTHS,
    completeConditionalAccessPolicy,
    ConditionalAccessPolicy as GraphConditionalAccessPolicy,
    EmulatedConditionalAccessPolicy,
} from "../../emulator/conditionalAccess";
import {
    AUTHENTICATION_STRENGTH,
    AZURE_MANAGEMENT_APP_ID,
    conditionalAccessPolicy,
    ConditionalAccessPolicyArgs,
    directoryRole,
    ENTRA_ROLE_TEMPLATE,
    group,
    guidFrom,
    user,
} from "../../fixtures/resources";
import { StackResource, UNKNOWN } from "../../harness/stackResource";
import { snapshotOf } from "../snapshots";

const ALICE_ID = guidFrom("user:alice");
const BOB_ID = guidFrom("user:bob");
const BREAK_GLASS_GROUP_ID = guidFrom("group:break-glass");
const ADMINS_GROUP_ID = guidFrom("group:admins");
const GLOBAL_ADMINISTRATOR = ENTRA_ROLE_TEMPLATE["Global Administrator"];
const GLOBAL_READER = ENTRA_ROLE_TEMPLATE["Global Reader"];
const HR_APP_ID = guidFrom("app:hr");
const CUSTOM_STRENGTH_ID = guidFrom("authenticationStrength:custom");
/** The pack's default `conditionalAccessApplications`. */
const ALL_APPLICATIONS = ["All"];

/** Alice, a member user whose groups and roles were all read and who is in none. */
function alice(change: Partial<UserFacts> = {}): UserFacts {
    return {
        objectId: ALICE_ID,
        isGuest: false,
        groupIds: new Set(),
        stackGroupUrns: new Set(),
        roleTemplateIds: new Set(),
        groupNames: new Map(),
        ...change,
    };
}

const guest = (change: Partial<UserFacts> = {}) => alice({ objectId: guidFrom("user:guest"), isGuest: true, ...change });

type GraphConditions = NonNullable<EmulatedConditionalAccessPolicy["conditions"]>;

interface TenantPolicyChange {
    state?: EmulatedConditionalAccessPolicy["state"];
    users?: GraphConditions["users"];
    applications?: GraphConditions["applications"];
    conditions?: Omit<GraphConditions, "users" | "applications">;
    grantControls?: EmulatedConditionalAccessPolicy["grantControls"];
}

/**
 * A tenant policy as `GET /identity/conditionalAccess/policies` returns it
 * (https://learn.microsoft.com/graph/api/resources/conditionalaccesspolicy): "Require MFA", enabled,
 * for all users and all apps, granting access with MFA; `change` replaces one part.
 */
function graphPolicy(change: TenantPolicyChange = {}): GraphConditionalAccessPolicy {
    return completeConditionalAccessPolicy({
        id: guidFrom("tenantPolicy:require-mfa"),
        displayName: "Require MFA",
        state: change.state ?? "enabled",
        conditions: {
            ...change.conditions,
            users: { includeUsers: ["All"], ...change.users },
            applications: { includeApplications: ["All"], ...change.applications },
        },
        grantControls: change.grantControls === undefined ? { builtInControls: ["mfa"] } : change.grantControls,
    });
}

const tenantPolicy = (change: TenantPolicyChange = {}) => conditionalAccessPolicyFromGraph(graphPolicy(change));

/** A stack policy as `AnalyzeStack` hands it over; `stackGroups` are the inventory's groups. */
function stackPolicy(args: Partial<ConditionalAccessPolicyArgs> = {}, stackGroups: StackGroupRef[] = []): ConditionalAccessPolicy {
    return stackPolicyOf(conditionalAccessPolicy({ name: "require-mfa", displayName: "Require MFA", ...args }), stackGroups);
}

function stackPolicyOf(resource: StackResource, stackGroups: StackGroupRef[] = []): ConditionalAccessPolicy {
    return conditionalAccessPolicyFromStack(snapshotOf(resource), stackGroups);
}

/** A fixture policy with one output changed, for the conditions the fixture has no argument for. */
function withOutputs(resource: StackResource, change: (outputs: Record<string, any>) => void): StackResource {
    const outputs = structuredClone(resource.outputs);
    change(outputs);
    return { ...resource, outputs };
}

function assertCovers(coverage: Coverage): void {
    assert.deepEqual(coverage, { covers: true });
}

function assertNotCovered(coverage: Coverage, why: RegExp): void {
    assert.ok(!coverage.covers, "expected the policy not to cover the user");
    assert.match(coverage.why, why);
}

const refOf = (resource: StackResource): StackGroupRef => ({
    urn: resource.urn,
    objectId: typeof resource.outputs.objectId === "string" && resource.outputs.objectId !== UNKNOWN ? resource.outputs.objectId : undefined,
    displayName: String(resource.inputs.displayName),
});

describe("coverageOf", () => {
    describe("the policy's state", () => {
        it("counts an enabled policy", () => {
            assertCovers(coverageOf(tenantPolicy(), alice(), ALL_APPLICATIONS));
        });

        it("does not count a disabled policy", () => {
            assertNotCovered(coverageOf(tenantPolicy({ state: "disabled" }), alice(), ALL_APPLICATIONS), /^Conditional Access policy 'Require MFA' is disabled$/);
        });

        it("does not count a report-only policy", () => {
            const reportOnly = tenantPolicy({ state: "enabledForReportingButNotEnforced" });
            assertNotCovered(coverageOf(reportOnly, alice(), ALL_APPLICATIONS), /'Require MFA' is report-only$/);
        });

        it("does not count a state Graph may add later", () => {
            const policy = conditionalAccessPolicyFromGraph({ ...graphPolicy(), state: "unknownFutureValue" });
            assertNotCovered(coverageOf(policy, alice(), ALL_APPLICATIONS), /'Require MFA' is unknownFutureValue$/);
        });

        it("does not count a tenant policy whose state Graph left out", () => {
            const { state: _state, ...withoutState } = graphPolicy();
            assertNotCovered(coverageOf(conditionalAccessPolicyFromGraph(withoutState), alice(), ALL_APPLICATIONS), /'Require MFA' is unknown$/);
        });

        it("does not count a stack policy whose state is unknown until the deployment runs", () => {
            const unknownState = withOutputs(conditionalAccessPolicy({ name: "require-mfa", displayName: "Require MFA" }), (outputs) => {
                outputs.state = UNKNOWN;
            });
            assertNotCovered(coverageOf(stackPolicyOf(unknownState), alice(), ALL_APPLICATIONS), /'Require MFA' has a state unknown until the deployment runs$/);
        });
    });

    describe("whom the policy includes", () => {
        it("covers members and guests when it includes all users", () => {
            assertCovers(coverageOf(tenantPolicy(), alice(), ALL_APPLICATIONS));
            assertCovers(coverageOf(tenantPolicy(), guest(), ALL_APPLICATIONS));
        });

        it("covers a user it names by object id, whatever the case, and no one else", () => {
            const policy = tenantPolicy({ users: { includeUsers: [ALICE_ID.toUpperCase()] } });
            assertCovers(coverageOf(policy, alice(), ALL_APPLICATIONS));
            assertNotCovered(coverageOf(policy, alice({ objectId: BOB_ID }), ALL_APPLICATIONS), /does not include the user$/);
        });

        it("covers no one when it includes the user keyword None", () => {
            assertNotCovered(coverageOf(tenantPolicy({ users: { includeUsers: ["None"] } }), alice(), ALL_APPLICATIONS), /does not include the user$/);
        });

        it("covers the members of a group it includes, and no one else", () => {
            const policy = tenantPolicy({ users: { includeUsers: [], includeGroups: [ADMINS_GROUP_ID] } });
            assertCovers(coverageOf(policy, alice({ groupIds: new Set([ADMINS_GROUP_ID]) }), ALL_APPLICATIONS));
            assertNotCovered(coverageOf(policy, alice({ groupIds: new Set([BREAK_GLASS_GROUP_ID]) }), ALL_APPLICATIONS), /does not include the user$/);
        });

        it("covers the holders of a directory role it includes, and no one else", () => {
            const policy = tenantPolicy({ users: { includeUsers: [], includeRoles: [GLOBAL_ADMINISTRATOR] } });
            assertCovers(coverageOf(policy, alice({ roleTemplateIds: new Set([GLOBAL_ADMINISTRATOR]) }), ALL_APPLICATIONS));
            assertNotCovered(coverageOf(policy, alice({ roleTemplateIds: new Set([GLOBAL_READER]) }), ALL_APPLICATIONS), /does not include the user$/);
        });

        it("covers guests, and not members, when it includes guests and external users", () => {
            const policy = tenantPolicy({
                users: {
                    includeUsers: [],
                    includeGuestsOrExternalUsers: { guestOrExternalUserTypes: "internalGuest,b2bCollaborationGuest,b2bCollaborationMember,b2bDirectConnectUser,otherExternalUser,serviceProvider", externalTenants: { "@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants", membershipKind: "all" } },
                },
            });
            assertCovers(coverageOf(policy, guest(), ALL_APPLICATIONS));
            assertNotCovered(coverageOf(policy, alice(), ALL_APPLICATIONS), /does not include the user$/);
        });

        it("covers guests through the GuestsOrExternalUsers user keyword", () => {
            const policy = tenantPolicy({ users: { includeUsers: ["GuestsOrExternalUsers"] } });
            assertCovers(coverageOf(policy, guest(), ALL_APPLICATIONS));
            assertNotCovered(coverageOf(policy, alice(), ALL_APPLICATIONS), /does not include the user$/);
        });
    });

    describe("whom the policy excludes", () => {
        it("does not cover a user it excludes by object id", () => {
            assertNotCovered(coverageOf(tenantPolicy({ users: { excludeUsers: [ALICE_ID] } }), alice(), ALL_APPLICATIONS), /'Require MFA' excludes the user$/);
        });

        it("does not cover a member of a group it excludes, and names the group", () => {
            const policy = tenantPolicy({ users: { excludeGroups: [BREAK_GLASS_GROUP_ID] } });
            const member = alice({ groupIds: new Set([BREAK_GLASS_GROUP_ID]), groupNames: new Map([[BREAK_GLASS_GROUP_ID, "Break glass"]]) });
            assertNotCovered(coverageOf(policy, member, ALL_APPLICATIONS), /'Require MFA' excludes the user through group 'Break glass'$/);
        });

        it("names an excluded group by its id when its name is not known", () => {
            const policy = tenantPolicy({ users: { excludeGroups: [BREAK_GLASS_GROUP_ID] } });
            const member = alice({ groupIds: new Set([BREAK_GLASS_GROUP_ID]) });
            assertNotCovered(coverageOf(policy, member, ALL_APPLICATIONS), new RegExp(`excludes the user through group '${BREAK_GLASS_GROUP_ID}'$`));
        });

        it("covers a user outside the group it excludes", () => {
            const policy = tenantPolicy({ users: { excludeGroups: [BREAK_GLASS_GROUP_ID] } });
            assertCovers(coverageOf(policy, alice({ groupIds: new Set([ADMINS_GROUP_ID]) }), ALL_APPLICATIONS));
        });

        it("does not cover the holder of a directory role it excludes", () => {
            const policy = tenantPolicy({ users: { excludeRoles: [GLOBAL_ADMINISTRATOR] } });
            assertNotCovered(coverageOf(policy, alice({ roleTemplateIds: new Set([GLOBAL_ADMINISTRATOR]) }), ALL_APPLICATIONS), /excludes a directory role the user holds or may activate$/);
            assertCovers(coverageOf(policy, alice({ roleTemplateIds: new Set([GLOBAL_READER]) }), ALL_APPLICATIONS));
        });

        it("does not cover guests when it excludes guests and external users, and still covers members", () => {
            const policy = tenantPolicy({
                users: { excludeGuestsOrExternalUsers: { guestOrExternalUserTypes: "b2bCollaborationGuest", externalTenants: { "@odata.type": "#microsoft.graph.conditionalAccessAllExternalTenants", membershipKind: "all" } } },
            });
            assertNotCovered(coverageOf(policy, guest(), ALL_APPLICATIONS), /excludes guests and external users$/);
            assertCovers(coverageOf(policy, alice(), ALL_APPLICATIONS));
        });

        it("does not cover guests when it excludes the GuestsOrExternalUsers user keyword", () => {
            const policy = tenantPolicy({ users: { excludeUsers: ["GuestsOrExternalUsers"] } });
            assertNotCovered(coverageOf(policy, guest(), ALL_APPLICATIONS), /excludes guests and external users$/);
            assertCovers(coverageOf(policy, alice(), ALL_APPLICATIONS));
        });
    });

    describe("when the user's memberships could not be read", () => {
        const unreadGroups = alice({ groupIds: undefined });
        const unreadRoles = alice({ roleTemplateIds: undefined });

        it("does not count a policy that includes groups", () => {
            const policy = tenantPolicy({ users: { includeUsers: [], includeGroups: [ADMINS_GROUP_ID] } });
            assertNotCovered(coverageOf(policy, unreadGroups, ALL_APPLICATIONS), /includes groups, and the user's group memberships could not be read$/);
        });

        it("does not count a policy that excludes groups", () => {
            const policy = tenantPolicy({ users: { excludeGroups: [BREAK_GLASS_GROUP_ID] } });
            assertNotCovered(coverageOf(policy, unreadGroups, ALL_APPLICATIONS), /excludes groups, and the user's group memberships could not be read$/);
        });

        it("does not count a policy that includes or excludes directory roles", () => {
            const including = tenantPolicy({ users: { includeUsers: [], includeRoles: [GLOBAL_ADMINISTRATOR] } });
            const excluding = tenantPolicy({ users: { excludeRoles: [GLOBAL_ADMINISTRATOR] } });
            assertNotCovered(coverageOf(including, unreadRoles, ALL_APPLICATIONS), /includes directory roles, and the user's roles could not be read$/);
            assertNotCovered(coverageOf(excluding, unreadRoles, ALL_APPLICATIONS), /excludes directory roles, and the user's roles could not be read$/);
        });

        it("still counts a policy for all users that names no group or role", () => {
            assertCovers(coverageOf(tenantPolicy(), alice({ groupIds: undefined, roleTemplateIds: undefined }), ALL_APPLICATIONS));
        });

        it("still counts a policy that names the user directly", () => {
            const policy = tenantPolicy({ users: { includeUsers: [ALICE_ID], includeGroups: [ADMINS_GROUP_ID] } });
            assertCovers(coverageOf(policy, unreadGroups, ALL_APPLICATIONS));
        });
    });

    describe("grant controls", () => {
        it("counts MFA alone", () => {
            assertCovers(coverageOf(tenantPolicy({ grantControls: { operator: "OR", builtInControls: ["mfa"] } }), alice(), ALL_APPLICATIONS));
        });

        it("counts MFA required together with a compliant device", () => {
            const policy = tenantPolicy({ grantControls: { operator: "AND", builtInControls: ["mfa", "compliantDevice"] } });
            assertCovers(coverageOf(policy, alice(), ALL_APPLICATIONS));
        });

        it("does not count MFA or a compliant device, since the device alone lets the user in", () => {
            const policy = tenantPolicy({ grantControls: { operator: "OR", builtInControls: ["mfa", "compliantDevice"] } });
            assertNotCovered(coverageOf(policy, alice(), ALL_APPLICATIONS), /lets users satisfy it with another control instead of MFA \(operator OR with compliantDevice\)$/);
        });

        it("does not count a policy that blocks access", () => {
            assertNotCovered(coverageOf(tenantPolicy({ grantControls: { builtInControls: ["block"] } }), alice(), ALL_APPLICATIONS), /blocks access rather than requiring MFA$/);
        });

        it("does not count a policy that grants access without MFA", () => {
            const policy = tenantPolicy({ grantControls: { builtInControls: ["compliantDevice"] } });
            assertNotCovered(coverageOf(policy, alice(), ALL_APPLICATIONS), /does not require MFA \(grant controls: compliantDevice\)$/i);
        });

        it("does not count a policy with session controls only", () => {
            assertNotCovered(coverageOf(tenantPolicy({ grantControls: null }), alice(), ALL_APPLICATIONS), /does not require MFA \(grant controls: none\)$/);
        });

        for (const strength of Object.values(BUILT_IN_AUTHENTICATION_STRENGTHS)) {
            it(`counts the built-in authentication strength '${strength.displayName}' from Graph`, () => {
                const policy = tenantPolicy({ grantControls: { builtInControls: [], authenticationStrength: strength } });
                assertCovers(coverageOf(policy, alice(), ALL_APPLICATIONS));
            });
        }

        for (const [name, path] of Object.entries(AUTHENTICATION_STRENGTH)) {
            it(`counts the built-in authentication strength '${name}' in the provider's path form`, () => {
                const policy = stackPolicy({ authenticationStrengthPolicyId: path });
                assert.equal(policy.grant.authenticationStrengthId, path);
                assertCovers(coverageOf(policy, alice(), ALL_APPLICATIONS));
            });
        }

        it("does not count a custom authentication strength it cannot know to require MFA", () => {
            const custom = { ...BUILT_IN_AUTHENTICATION_STRENGTHS.multifactorAuthentication, id: CUSTOM_STRENGTH_ID, displayName: "Contoso MFA", policyType: "custom" as const };
            const fromGraph = tenantPolicy({ grantControls: { builtInControls: [], authenticationStrength: custom } });
            const fromStack = stackPolicy({ authenticationStrengthPolicyId: `/policies/authenticationStrengthPolicies/${CUSTOM_STRENGTH_ID}` });
            const why = new RegExp(`requires the authentication strength ${CUSTOM_STRENGTH_ID}, which is not one the pack knows to require MFA$`);
            assertNotCovered(coverageOf(fromGraph, alice(), ALL_APPLICATIONS), why);
            assertNotCovered(coverageOf(fromStack, alice(), ALL_APPLICATIONS), why);
        });
    });

    describe("applications", () => {
        it("counts a policy for all applications", () => {
            assertCovers(coverageOf(tenantPolicy({ applications: { includeApplications: ["All"] } }), alice(), ALL_APPLICATIONS));
        });

        it("does not count a policy for Azure management only, by default", () => {
            const policy = tenantPolicy({ applications: { includeApplications: [AZURE_MANAGEMENT_APP_ID] } });
            assertNotCovered(coverageOf(policy, alice(), ALL_APPLICATIONS), new RegExp(`targets ${AZURE_MANAGEMENT_APP_ID}, not All$`));
        });

        it("counts a policy for Azure management when the accepted applications name it", () => {
            const policy = tenantPolicy({ applications: { includeApplications: [AZURE_MANAGEMENT_APP_ID] } });
            assertCovers(coverageOf(policy, alice(), ["All", AZURE_MANAGEMENT_APP_ID.toUpperCase()]));
        });

        it("does not count a policy for another application the accepted ones do not name", () => {
            const policy = tenantPolicy({ applications: { includeApplications: [HR_APP_ID] } });
            assertNotCovered(coverageOf(policy, alice(), ["All", AZURE_MANAGEMENT_APP_ID]), new RegExp(`targets ${HR_APP_ID}, not All or ${AZURE_MANAGEMENT_APP_ID}$`));
        });

        it("does not count a policy that targets no application", () => {
            assertNotCovered(coverageOf(tenantPolicy({ applications: { includeApplications: [] } }), alice(), ALL_APPLICATIONS), /targets no application, not All$/);
        });

        it("does not count a policy that excludes applications", () => {
            const policy = tenantPolicy({ applications: { excludeApplications: [HR_APP_ID] } });
            assertNotCovered(coverageOf(policy, alice(), ALL_APPLICATIONS), new RegExp(`excludes applications \\(${HR_APP_ID}\\)$`));
        });
    });

    describe("conditions that narrow when the policy applies", () => {
        const narrowings: { condition: string; graph: TenantPolicyChange["conditions"]; stack: (conditions: Record<string, any>) => void; why: RegExp }[] = [
            {
                condition: "some client app types",
                graph: { clientAppTypes: ["browser", "mobileAppsAndDesktopClients"] },
                stack: (c) => (c.clientAppTypes = ["browser", "mobileAppsAndDesktopClients"]),
                why: /applies only under conditions \(client apps browser, mobileAppsAndDesktopClients\)$/,
            },
            {
                condition: "some device platforms",
                graph: { platforms: { includePlatforms: ["android", "iOS"], excludePlatforms: [] } },
                stack: (c) => (c.platforms = { includedPlatforms: ["android", "iOS"], excludedPlatforms: [] }),
                why: /applies only under conditions \(device platforms\)$/,
            },
            {
                condition: "an excluded device platform",
                graph: { platforms: { includePlatforms: ["all"], excludePlatforms: ["linux"] } },
                stack: (c) => (c.platforms = { includedPlatforms: ["all"], excludedPlatforms: ["linux"] }),
                why: /applies only under conditions \(device platforms\)$/,
            },
            {
                condition: "an excluded location",
                graph: { locations: { includeLocations: ["All"], excludeLocations: ["AllTrusted"] } },
                stack: (c) => (c.locations = { includedLocations: ["All"], excludedLocations: ["AllTrusted"] }),
                why: /applies only under conditions \(locations\)$/,
            },
            {
                condition: "sign-in risk",
                graph: { signInRiskLevels: ["high"] },
                stack: (c) => (c.signInRiskLevels = ["high"]),
                why: /applies only under conditions \(sign-in risk high\)$/,
            },
            {
                condition: "user risk",
                graph: { userRiskLevels: ["high", "medium"] },
                stack: (c) => (c.userRiskLevels = ["high", "medium"]),
                why: /applies only under conditions \(user risk high, medium\)$/,
            },
            {
                condition: "a device filter",
                graph: { devices: { deviceFilter: { mode: "exclude", rule: 'device.trustType -eq "ServerAD"' } } },
                stack: (c) => (c.devices = { filter: { mode: "exclude", rule: 'device.trustType -eq "ServerAD"' } }),
                why: /applies only under conditions \(a device filter\)$/,
            },
        ];

        for (const { condition, graph, stack, why } of narrowings) {
            it(`does not count a tenant policy limited to ${condition}`, () => {
                assertNotCovered(coverageOf(tenantPolicy({ conditions: graph }), alice(), ALL_APPLICATIONS), why);
            });

            it(`does not count a stack policy limited to ${condition}`, () => {
                const narrowed = withOutputs(conditionalAccessPolicy({ name: "require-mfa", displayName: "Require MFA" }), (outputs) => stack(outputs.conditions));
                assertNotCovered(coverageOf(stackPolicyOf(narrowed), alice(), ALL_APPLICATIONS), why);
            });
        }

        it("counts a policy whose platforms and locations are all of them", () => {
            const policy = tenantPolicy({
                conditions: {
                    clientAppTypes: ["all"],
                    platforms: { includePlatforms: ["all"], excludePlatforms: [] },
                    locations: { includeLocations: ["All"], excludeLocations: [] },
                },
            });
            assertCovers(coverageOf(policy, alice(), ALL_APPLICATIONS));
        });

        it("names every narrowing condition at once", () => {
            const policy = tenantPolicy({ conditions: { clientAppTypes: ["browser"], signInRiskLevels: ["high"], locations: { includeLocations: ["AllTrusted"], excludeLocations: [] } } });
            assertNotCovered(coverageOf(policy, alice(), ALL_APPLICATIONS), /\(client apps browser; locations; sign-in risk high\)$/);
        });
    });

    describe("never covering more users for a policy with more exclusions or conditions", () => {
        const userIds = [ALICE_ID, BOB_ID, guidFrom("user:carol")];
        const groupIds = [ADMINS_GROUP_ID, BREAK_GLASS_GROUP_ID];
        const roleIds = [GLOBAL_ADMINISTRATOR, GLOBAL_READER];

        const subsetOf = <T>(values: T[]) => fc.subarray(values);
        const anyUser = fc.record({
            objectId: fc.option(fc.constantFrom(...userIds), { nil: undefined }),
            isGuest: fc.boolean(),
            groupIds: fc.option(subsetOf(groupIds).map((ids) => new Set(ids)), { nil: undefined }),
            roleTemplateIds: fc.option(subsetOf(roleIds).map((ids) => new Set(ids)), { nil: undefined }),
        }).map((facts): UserFacts => ({ ...facts, stackGroupUrns: new Set(), groupNames: new Map() }));

        const guestsOrExternalUsers = { guestOrExternalUserTypes: "b2bCollaborationGuest", externalTenants: null };
        const coveringPolicy = fc.record({
            includeUsers: subsetOf(["All", "GuestsOrExternalUsers", ...userIds]),
            excludeUsers: subsetOf(userIds),
            includeGroups: subsetOf(groupIds),
            excludeGroups: subsetOf(groupIds),
            includeRoles: subsetOf(roleIds),
            excludeRoles: subsetOf(roleIds),
            includeGuests: fc.boolean(),
            builtInControls: fc.constantFrom<string[]>(["mfa"], ["mfa", "compliantDevice"]),
        }).map(({ includeGuests, builtInControls, ...users }) =>
            graphPolicy({
                users: { ...users, includeGuestsOrExternalUsers: includeGuests ? guestsOrExternalUsers : null },
                grantControls: { operator: "AND", builtInControls },
            }),
        );

        type Narrowing = (policy: GraphConditionalAccessPolicy) => void;
        const narrowing: fc.Arbitrary<Narrowing> = fc.oneof(
            fc.constantFrom(...userIds).map((id): Narrowing => (p) => p.conditions.users.excludeUsers.push(id)),
            fc.constantFrom(...groupIds).map((id): Narrowing => (p) => p.conditions.users.excludeGroups.push(id)),
            fc.constantFrom(...roleIds).map((id): Narrowing => (p) => p.conditions.users.excludeRoles.push(id)),
            fc.constant<Narrowing>((p) => (p.conditions.users.excludeGuestsOrExternalUsers = guestsOrExternalUsers)),
            fc.constant<Narrowing>((p) => p.conditions.users.excludeUsers.push("GuestsOrExternalUsers")),
            fc.constant<Narrowing>((p) => p.conditions.applications.excludeApplications.push(HR_APP_ID)),
            fc.constantFrom("browser", "exchangeActiveSync", "other").map((type): Narrowing => (p) => (p.conditions.clientAppTypes = [type])),
            fc.constant<Narrowing>((p) => (p.conditions.platforms = { includePlatforms: ["windows"], excludePlatforms: [] })),
            fc.constant<Narrowing>((p) => (p.conditions.locations = { includeLocations: ["All"], excludeLocations: ["AllTrusted"] })),
            fc.constantFrom("low", "medium", "high").map((level): Narrowing => (p) => p.conditions.signInRiskLevels.push(level)),
            fc.constantFrom("low", "medium", "high").map((level): Narrowing => (p) => p.conditions.userRiskLevels.push(level)),
            fc.constant<Narrowing>((p) => (p.conditions.devices = { deviceFilter: { mode: "include", rule: 'device.isCompliant -eq True' } })),
        );

        it("holds for any policy, user and added exclusion or condition", () => {
            let coveredBefore = 0;
            fc.assert(
                fc.property(coveringPolicy, fc.array(narrowing, { minLength: 1, maxLength: 3 }), fc.array(anyUser, { minLength: 1, maxLength: 5 }), (graph, narrowings, users) => {
                    const before = conditionalAccessPolicyFromGraph(graph);
                    const narrowed = structuredClone(graph);
                    narrowings.forEach((narrow) => narrow(narrowed));
                    const after = conditionalAccessPolicyFromGraph(narrowed);
                    for (const facts of users) {
                        const coveredAfter = coverageOf(after, facts, ALL_APPLICATIONS).covers;
                        const covered = coverageOf(before, facts, ALL_APPLICATIONS).covers;
                        if (covered) coveredBefore++;
                        if (coveredAfter && !covered) return false;
                    }
                    return true;
                }),
                { seed: 20250304, numRuns: 500 },
            );
            // Guards against a generator that never produces a covering policy, which would make the property vacuous.
            assert.ok(coveredBefore > 100, `only ${coveredBefore} covered users were generated`);
        });
    });
});

describe("conditionalAccessPolicyFromGraph", () => {
    it("reads ids in lower case, guests, applications and grant controls", () => {
        const policy = tenantPolicy({
            users: {
                includeUsers: [ALICE_ID.toUpperCase()],
                excludeUsers: [BOB_ID],
                includeGroups: [ADMINS_GROUP_ID.toUpperCase()],
                excludeRoles: [GLOBAL_READER],
                includeGuestsOrExternalUsers: { guestOrExternalUserTypes: "internalGuest", externalTenants: null },
            },
            applications: { includeApplications: [AZURE_MANAGEMENT_APP_ID], excludeApplications: [HR_APP_ID] },
            grantControls: { operator: "AND", builtInControls: ["mfa"], termsOfUse: [guidFrom("termsOfUse:contoso")] },
        });
        assert.equal(policy.source, "tenant");
        assert.equal(policy.state, "enabled");
        assert.deepEqual([...policy.users.include], [ALICE_ID]);
        assert.deepEqual([...policy.users.exclude], [BOB_ID]);
        assert.deepEqual([...policy.groups.include], [ADMINS_GROUP_ID]);
        assert.deepEqual([...policy.roles.exclude], [GLOBAL_READER]);
        // Internal guests only: the B2B guests a stack invites are not among them.
        assert.equal(policy.includeGuests, false);
        assert.equal(policy.excludeGuests, false);
        assert.deepEqual(policy.includeApplications, [AZURE_MANAGEMENT_APP_ID]);
        assert.deepEqual(policy.excludeApplications, [HR_APP_ID]);
        assert.deepEqual(policy.narrowedBy, []);
        assert.deepEqual(policy.grant, { operator: "AND", builtInControls: ["mfa"], authenticationStrengthId: undefined, otherControls: [`terms of use ${guidFrom("termsOfUse:contoso")}`] });
        assert.deepEqual(policy.unknownStackGroups, []);
    });

    it("reads the id of an expanded authentication strength", () => {
        const policy = tenantPolicy({ grantControls: { builtInControls: [], authenticationStrength: BUILT_IN_AUTHENTICATION_STRENGTHS.phishingResistantMfa } });
        assert.equal(policy.grant.authenticationStrengthId, "00000000-0000-0000-0000-000000000004");
    });

    it("reads a policy with neither name nor conditions as one that covers no one", () => {
        const policy = conditionalAccessPolicyFromGraph({ id: "f00" });
        assert.equal(policy.displayName, "f00");
        assertNotCovered(coverageOf(policy, alice(), ALL_APPLICATIONS), /^Conditional Access policy 'f00' is unknown$/);
        assert.equal(conditionalAccessPolicyFromGraph(null).displayName, "unnamed policy");
    });
});

describe("conditionalAccessPolicyFromStack", () => {
    const aliceUser = user({ name: "alice" });
    const admins = group({ name: "admins", displayName: "Admins", members: [aliceUser] });

    it("reads a created policy's users, groups and roles by their ids", () => {
        const globalAdministrator = directoryRole({ name: "ga", displayName: "Global Administrator" });
        const policy = stackPolicy({ includedUsers: [aliceUser], excludedGroups: [admins], includedRoles: [globalAdministrator] });
        assert.equal(policy.source, "stack");
        assert.equal(policy.displayName, "Require MFA");
        assert.deepEqual([...policy.users.include], [ALICE_ID]);
        assert.deepEqual([...policy.groups.exclude], [admins.outputs.objectId]);
        // Conditional Access names roles by template id, not by the activated role's object id.
        assert.deepEqual([...policy.roles.include], [GLOBAL_ADMINISTRATOR]);
        assert.equal(policy.users.unknown || policy.groups.unknown || policy.roles.unknown, false);
        assert.deepEqual(policy.unknownStackGroups, []);
    });

    it("covers a user it includes by reference once the user exists", () => {
        assertCovers(coverageOf(stackPolicy({ includedUsers: [aliceUser] }), alice(), ALL_APPLICATIONS));
    });

    it("covers the holder of a directory role it includes through a DirectoryRole resource", () => {
        const policy = stackPolicy({ includedRoles: [directoryRole({ name: "ga", displayName: "Global Administrator" })] });
        assertCovers(coverageOf(policy, alice({ roleTemplateIds: new Set([GLOBAL_ADMINISTRATOR]) }), ALL_APPLICATIONS));
    });

    it("reads included and excluded guests", () => {
        const including = stackPolicy({ includedGuestsOrExternalUsers: { guestOrExternalUserTypes: ["b2bCollaborationGuest"], externalTenants: { membershipKind: "all" } } });
        const excluding = stackPolicy({ excludedGuestsOrExternalUsers: { guestOrExternalUserTypes: ["internalGuest"] } });
        assertCovers(coverageOf(including, guest(), ALL_APPLICATIONS));
        assertNotCovered(coverageOf(including, alice(), ALL_APPLICATIONS), /does not include the user$/);
        assertNotCovered(coverageOf(excluding, guest(), ALL_APPLICATIONS), /excludes guests and external users$/);
    });

    describe("during preview", () => {
        const newAdmins = group({ name: "admins", displayName: "Admins", members: [aliceUser], preview: true });
        const memberOfNewAdmins = alice({ stackGroupUrns: new Set([newAdmins.urn]) });

        it("finds the new groups behind unknown group ids in the dependencies of 'conditions'", () => {
            const resource = conditionalAccessPolicy({ name: "require-mfa", excludedGroups: [newAdmins], preview: true });
            assert.deepEqual((resource.outputs.conditions as any).users.excludedGroups, [UNKNOWN]);
            assert.deepEqual(resource.propertyDependencies?.conditions, [newAdmins.urn]);
            const policy = stackPolicyOf(resource, [refOf(newAdmins), refOf(group({ name: "other" }))]);
            assert.equal(policy.groups.unknown, true);
            assert.deepEqual(policy.unknownStackGroups.map((g) => g.displayName), ["Admins"]);
        });

        it("never counts a policy that excludes a new group for a member of that group", () => {
            const policy = stackPolicy({ excludedGroups: [newAdmins], preview: true }, [refOf(newAdmins)]);
            assertNotCovered(coverageOf(policy, memberOfNewAdmins, ALL_APPLICATIONS), /names group 'Admins' by an id unknown until the deployment runs, so it may exclude the user$/);
        });

        it("never counts a policy that includes a new group for a member of that group", () => {
            const policy = stackPolicy({ includedGroups: [newAdmins], preview: true }, [refOf(newAdmins)]);
            assertNotCovered(coverageOf(policy, memberOfNewAdmins, ALL_APPLICATIONS), /names group 'Admins' by an id unknown until the deployment runs/);
        });

        it("counts a policy for all users that excludes a new group for someone outside that group", () => {
            const policy = stackPolicy({ excludedGroups: [newAdmins], preview: true }, [refOf(newAdmins)]);
            assertCovers(coverageOf(policy, alice(), ALL_APPLICATIONS));
        });

        it("does not count a policy that names users by ids still unknown", () => {
            const newUser = user({ name: "carol", preview: true });
            const including = stackPolicy({ includedUsers: [newUser], preview: true });
            const excluding = stackPolicy({ includedUsers: ["All"], excludedUsers: [newUser], preview: true });
            assert.equal(including.users.unknown, true);
            assertNotCovered(coverageOf(including, alice(), ALL_APPLICATIONS), /names users by ids unknown until the deployment runs, so it may leave the user out$/);
            assertNotCovered(coverageOf(excluding, alice(), ALL_APPLICATIONS), /names users by ids unknown until the deployment runs/);
        });
    });
});

describe("regressions", () => {
    // The provider documents excludedUsers as "user IDs ... and/or GuestsOrExternalUsers", and the
    // Graph reader honours the keyword; the stack reader only looks at excludedGuestsOrExternalUsers.
    it("does not cover a guest with a stack policy that excludes the GuestsOrExternalUsers keyword", () => {
        const policy = stackPolicy({ includedUsers: ["All"], excludedUsers: ["GuestsOrExternalUsers"] });
        assertNotCovered(coverageOf(policy, guest(), ALL_APPLICATIONS), /excludes guests and external users$/);
    });

    // A DirectoryRole created by the same deployment has no templateId yet, so the exclusion is an
    // unknown; only unknown users and groups make a policy uncertain, not unknown roles.
    it("does not count, during preview, a stack policy that excludes a directory role whose template id is unknown", () => {
        const newRole = directoryRole({ name: "ga", displayName: "Global Administrator", preview: true });
        const policy = stackPolicy({ includedUsers: ["All"], excludedRoles: [newRole], preview: true });
        assert.equal(policy.roles.unknown, true);
        assertNotCovered(coverageOf(policy, alice({ roleTemplateIds: new Set([GLOBAL_ADMINISTRATOR]) }), ALL_APPLICATIONS), /unknown until the deployment runs/);
    });

    // https://learn.microsoft.com/graph/api/resources/conditionalaccessguestsorexternalusers: a
    // policy can target only some kinds of guests; an invited (B2B collaboration) guest is not an
    // internal guest, yet any guest inclusion is read as "all guests".
    it("does not cover an invited guest with a policy that includes internal guests only", () => {
        const policy = tenantPolicy({ users: { includeUsers: [], includeGuestsOrExternalUsers: { guestOrExternalUserTypes: "internalGuest", externalTenants: null } } });
        assertNotCovered(coverageOf(policy, guest(), ALL_APPLICATIONS), /does not include the user$/);
    });

    // "All" cloud apps includes Azure management, so a policy for all apps should count when only
    // Azure management is accepted; the check compares app ids literally.
    it("counts a policy for all applications when only Azure management is accepted", () => {
        assertCovers(coverageOf(tenantPolicy(), alice(), [AZURE_MANAGEMENT_APP_ID]));
    });
});
