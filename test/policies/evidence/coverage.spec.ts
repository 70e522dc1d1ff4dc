import * as assert from "node:assert/strict";
import { conditionalAccessPolicyFromGraph, conditionalAccessPolicyFromStack, isMeantToRequireMfa, StackReferences } from "../../../policies/evidence/conditionalAccess";
import { conditionalAccessCoverage, CoverageVerdict, strengthRequiresMfa } from "../../../policies/evidence/coverage";
import { BUILT_IN_AUTHENTICATION_STRENGTHS } from "../../emulator/conditionalAccess";
import { AZURE_MANAGEMENT_APP_ID, conditionalAccessPolicy, ConditionalAccessPolicyArgs, directoryRole, group, user } from "../../fixtures/resources";
import { StackResource, UNKNOWN } from "../../harness/stackResource";
import { unknownBecause } from "../../../policies/evidence/truth";
import { snapshotOf } from "../snapshots";
import {
    ADMINS_GROUP_ID,
    alice,
    ALICE_ID,
    ALL_APPLICATIONS,
    assertCovered,
    assertNotCovered,
    BOB_ID,
    BREAK_GLASS_GROUP_ID,
    COUNTRIES_LOCATION_ID,
    CUSTOM_STRENGTH_ID,
    GLOBAL_ADMINISTRATOR,
    GLOBAL_READER,
    graphPolicy,
    guest,
    HR_APP_ID,
    MEMBERSHIPS_DENIED,
    noReferences,
    stackPolicy,
    stackPolicyOf,
    tenantPolicy,
    verdictOf,
    withOutputs,
} from "./coverageFactories";

/**
 * Branches of the coverage model that `npm run mutate` showed no test pinned: each case asserts the
 * whole verdict, message included, so a changed branch or message fails it.
 */

/** The fixture's stack policy "Require MFA" with its outputs changed as in a preview. */
const stackPolicyWith = (change: (outputs: Record<string, any>) => void, args: Partial<ConditionalAccessPolicyArgs> = {}, references: StackReferences = noReferences) =>
    stackPolicyOf(withOutputs(conditionalAccessPolicy({ name: "require-mfa", displayName: "Require MFA", ...args }), change), references);

const IN_STACK = "'Require MFA' (in this stack)";

describe("coverage: what a policy demands", () => {
    it("cannot decide on a stack policy whose grant controls are unknown until the deployment runs", () => {
        assert.deepEqual(verdictOf(stackPolicyWith((o) => (o.grantControls = UNKNOWN))), {
            kind: "unknown",
            causes: ["the grant controls of 'Require MFA' are unknown until the deployment runs"],
            lookedAt: [`${IN_STACK} requires MFA`],
        });
    });

    it("cannot decide on a stack policy whose grant operator is unknown until the deployment runs", () => {
        assert.deepEqual(verdictOf(stackPolicyWith((o) => (o.grantControls.operator = UNKNOWN))), {
            kind: "unknown",
            causes: ["the grant operator of 'Require MFA' is unknown until the deployment runs"],
            lookedAt: [`${IN_STACK} requires MFA`],
        });
    });

    it("does not count a weak strength required together with a device, and says the strength allows a single factor", () => {
        const weak = { ...BUILT_IN_AUTHENTICATION_STRENGTHS.multifactorAuthentication, id: CUSTOM_STRENGTH_ID, displayName: "Password or SMS", requirementsSatisfied: "none", allowedCombinations: ["password", "sms"] } as never;
        assert.deepEqual(verdictOf(tenantPolicy({ grantControls: { operator: "AND", builtInControls: ["compliantDevice"], authenticationStrength: weak } })), {
            kind: "not-covered",
            open: "no enabled Conditional Access policy that requires MFA or blocks applies to the user",
            lookedAt: ["'Require MFA' requires the authentication strength 'Password or SMS', which allows a single factor"],
        });
        assertCovered(verdictOf(tenantPolicy({ grantControls: { operator: "AND", builtInControls: ["mfa"], authenticationStrength: weak } })));
    });

    it("does not count MFA or terms of use, and names the terms of use as the way around MFA", () => {
        assertNotCovered(verdictOf(tenantPolicy({ grantControls: { operator: "OR", builtInControls: ["mfa"], termsOfUse: ["contoso-terms"] } })), /^'Require MFA' lets users satisfy it with terms of use contoso-terms instead of MFA$/);
    });

    it("cannot decide on a stack policy that offers MFA or terms of use or a custom control named by an id unknown until the deployment runs", () => {
        for (const change of [(o: Record<string, any>) => (o.grantControls.termsOfUses = [UNKNOWN]), (o: Record<string, any>) => (o.grantControls.customAuthenticationFactors = UNKNOWN)]) {
            assert.deepEqual(verdictOf(stackPolicyWith(change)), {
                kind: "unknown",
                causes: ["the custom controls of 'Require MFA' are unknown until the deployment runs"],
                lookedAt: [`${IN_STACK} requires MFA`],
            });
        }
        assertNotCovered(verdictOf(stackPolicyWith((o) => (o.grantControls.termsOfUses = ["Contoso-Terms"]))), new RegExp(`^${literally(IN_STACK)} lets users satisfy it with terms of use contoso-terms instead of MFA$`));
    });

    it("names a strength a stack policy gives by id only by that id when it allows a single factor", () => {
        const id = CUSTOM_STRENGTH_ID.toLowerCase();
        const policy = stackPolicy({ authenticationStrengthPolicyId: `/policies/authenticationStrengthPolicies/${CUSTOM_STRENGTH_ID}` });
        assertNotCovered(verdictOf(policy, alice(), ALL_APPLICATIONS, new Map([[id, { allowedCombinations: ["password"] }]])), new RegExp(`^${literally(IN_STACK)} requires the authentication strength '${id}', which allows a single factor$`));
    });

    it("reads a strength Graph inlines with its combinations but without requirementsSatisfied", () => {
        const inline = (allowedCombinations: string[]) => tenantPolicy({ grantControls: { builtInControls: [], authenticationStrength: { id: CUSTOM_STRENGTH_ID, displayName: "Inline", allowedCombinations } as never } });
        assertCovered(verdictOf(inline(["fido2"])));
        assertNotCovered(verdictOf(inline(["password"])), /'Inline', which allows a single factor$/);
    });
});

describe("coverage: grant alternatives and guest keywords", () => {
    it("counts a multi-factor strength required together with a compliant device", () => {
        assertCovered(verdictOf(tenantPolicy({ grantControls: { operator: "AND", builtInControls: ["compliantDevice"], authenticationStrength: BUILT_IN_AUTHENTICATION_STRENGTHS.phishingResistantMfa } })));
    });

    it("names every alternative to MFA a policy offers", () => {
        assertNotCovered(verdictOf(tenantPolicy({ grantControls: { operator: "OR", builtInControls: ["mfa", "compliantDevice", "domainJoinedDevice"] } })), /lets users satisfy it with compliantdevice or domainjoineddevice instead of MFA$/);
    });

    it("covers an internal guest under a policy for internal guests of enumerated tenants, which an internal guest has no home tenant for", () => {
        const policy = tenantPolicy({ users: { includeUsers: [], includeGuestsOrExternalUsers: { guestOrExternalUserTypes: "internalGuest", externalTenants: { membershipKind: "enumerated", members: ["tenant-a"] } as never } } });
        assertCovered(verdictOf(policy, guest({ guestKind: "internalGuest" })));
    });

    it("covers an invited external member through the GuestsOrExternalUsers keyword", () => {
        assertCovered(verdictOf(tenantPolicy({ users: { includeUsers: ["GuestsOrExternalUsers"] } }), guest({ guestKind: "b2bCollaborationMember" })));
    });

    for (const [list, what] of [
        ["includedGroups", "included groups"],
        ["excludedGroups", "excluded groups"],
        ["excludedUsers", "excluded users"],
        ["includedRoles", "included directory roles"],
    ] as const) {
        it(`names the ${what} a stack policy gives by a value unknown during preview`, () => {
            const onlyThat = (o: Record<string, any>) => {
                if (list.startsWith("included")) o.conditions.users.includedUsers = [];
                o.conditions.users[list] = UNKNOWN;
            };
            const verdict = verdictOf(stackPolicyWith(onlyThat), alice({ roleTemplateIds: new Set([GLOBAL_READER]) }));
            const cause = what.endsWith("roles") ? `the stack policy names ${what} by ids unknown until the deployment runs` : `the stack policy names its ${what} by a value unknown until the deployment runs`;
            assert.deepEqual(verdict, { kind: "unknown", causes: [cause], lookedAt: [`${IN_STACK} may not apply to the user (${cause})`] });
        });
    }
});

describe("strengthRequiresMfa, letter case and spacing", () => {
    it("reads requirementsSatisfied and method names whatever their case, and trims each method", () => {
        assert.equal(strengthRequiresMfa({ requirementsSatisfied: "MFA" }), "yes");
        assert.equal(strengthRequiresMfa({ allowedCombinations: [" FIDO2 "] }), "yes");
        assert.equal(strengthRequiresMfa({ allowedCombinations: ["Password"] }), "no");
        assert.equal(strengthRequiresMfa({}), "no");
    });

    it("knows every multi-factor and single-factor method Graph lists", () => {
        for (const method of ["fido2", "windowsHelloForBusiness", "x509CertificateMultiFactor", "deviceBasedPush", "temporaryAccessPassOneTime", "temporaryAccessPassMultiUse", "federatedMultiFactor"]) {
            assert.equal(strengthRequiresMfa({ allowedCombinations: [method] }), "yes", method);
        }
        for (const method of ["password", "voice", "hardwareOath", "softwareOath", "sms", "email", "x509CertificateSingleFactor", "federatedSingleFactor", "qrCodePin", "microsoftAuthenticatorPush"]) {
            assert.equal(strengthRequiresMfa({ allowedCombinations: [method] }), "no", method);
        }
    });
});

describe("coverage: whom a policy applies to", () => {
    it("does not count a policy on service principal risk, and says it is not for people", () => {
        assert.deepEqual(verdictOf(tenantPolicy({ conditions: { servicePrincipalRiskLevels: ["high"] } })), {
            kind: "not-covered",
            open: "no enabled Conditional Access policy that requires MFA or blocks applies to the user",
            lookedAt: ["'Require MFA' applies to service principal risk, not to people"],
        });
    });

    it("cannot decide for a guest when a stack policy's guest kinds are unknown until the deployment runs, and still decides for a member", () => {
        const guests = { guestOrExternalUserTypes: ["b2bCollaborationGuest" as const], externalTenants: { membershipKind: "all" as const } };
        const including = stackPolicyWith((o) => (o.conditions.users.includedGuestsOrExternalUsers = UNKNOWN), { includedGuestsOrExternalUsers: guests });
        assert.deepEqual(verdictOf(including, guest()), {
            kind: "unknown",
            causes: ["the stack policy's included guest kinds are unknown until the deployment runs"],
            lookedAt: [`${IN_STACK} may not apply to the user (the stack policy's included guest kinds are unknown until the deployment runs)`],
        });
        assertNotCovered(verdictOf(including, alice()), new RegExp(`^${literally(IN_STACK)} does not include the user$`));
        const excluding = stackPolicyWith((o) => (o.conditions.users.excludedGuestsOrExternalUsers = [UNKNOWN]), { includedUsers: ["All"], excludedGuestsOrExternalUsers: guests });
        assert.deepEqual(causesOfUnknown(verdictOf(excluding, guest())), ["the stack policy's excluded guest kinds are unknown until the deployment runs"]);
    });

    it("reads a stack guest block whose kinds are unknown as guests of unknown kinds from any tenant", () => {
        const kindsUnknown = stackPolicyWith((o) => (o.conditions.users.includedGuestsOrExternalUsers = [{ guestOrExternalUserTypes: UNKNOWN, externalTenants: [] }]));
        assert.deepEqual(kindsUnknown.include.guests, { kinds: undefined, tenants: "all" });
        const enumerated = stackPolicyWith(
            (o) => (o.conditions.users.includedGuestsOrExternalUsers = [{ guestOrExternalUserTypes: ["internalGuest"], externalTenants: [{ membershipKind: "enumerated", members: ["TENANT-A"] }] }]),
        );
        assert.deepEqual(enumerated.include.guests, { kinds: new Set(["internalguest"]), tenants: new Set(["tenant-a"]) });
        assert.equal(stackPolicyWith((o) => (o.conditions.users.includedGuestsOrExternalUsers = [{ guestOrExternalUserTypes: [] }])).include.guests, undefined);
    });

    describe("a stack's new groups and roles, unknown during preview", () => {
        const aliceUser = user({ name: "alice" });
        const newAdmins = group({ name: "admins", displayName: "Admins", members: [aliceUser], preview: true });
        const newGa = directoryRole({ name: "ga", displayName: "Global Administrator", preview: true });
        const newReader = directoryRole({ name: "reader", displayName: "Global Reader", preview: true });
        const roles = (entries: [StackResource, string | undefined][]): StackReferences => ({ ...noReferences, roleTemplateIdsByUrn: new Map(entries.map(([r, id]) => [r.urn, id])) });

        it("names the stack group that excludes the user", () => {
            const policy = stackPolicy({ includedUsers: ["All"], excludedGroups: [newAdmins], preview: true }, { ...noReferences, groupUrns: new Set([newAdmins.urn]) });
            assertNotCovered(verdictOf(policy, alice({ stackUrns: new Set([newAdmins.urn]) })), new RegExp(`^${literally(IN_STACK)} excludes a group of this stack the user is in$`));
        });

        it("covers a user who holds no role under a policy excluding roles by ids that come from outside the stack, and cannot decide for one who holds a role", () => {
            const policy = stackPolicy({ includedUsers: ["All"], excludedRoles: [newGa], preview: true }, noReferences);
            assertCovered(verdictOf(policy), [IN_STACK]);
            assert.deepEqual(verdictOf(policy, alice({ roleTemplateIds: new Set([GLOBAL_READER]) })), {
                kind: "unknown",
                causes: ["the stack policy names excluded directory roles by ids unknown until the deployment runs"],
                lookedAt: [`${IN_STACK} may not apply to the user (the stack policy names excluded directory roles by ids unknown until the deployment runs)`],
            });
            assert.deepEqual(causesOfUnknown(verdictOf(policy, alice({ roleTemplateIds: MEMBERSHIPS_DENIED }))), MEMBERSHIPS_DENIED.unknown);
        });

        it("cannot decide on a role exclusion through a stack role whose template id is unknown", () => {
            const policy = stackPolicy({ includedUsers: ["All"], excludedRoles: [newGa], preview: true }, roles([[newGa, undefined]]));
            const verdict = verdictOf(policy);
            assert.deepEqual(causesOfUnknown(verdict), ["the stack policy names excluded directory roles through a directory role whose template id is unknown"]);
        });

        it("cannot decide when one of several stack roles behind unknown ids is the user's, and covers a user who holds none of them", () => {
            const policy = stackPolicy({ includedUsers: ["All"], excludedRoles: [newGa, newReader], preview: true }, roles([[newGa, GLOBAL_ADMINISTRATOR], [newReader, GLOBAL_READER]]));
            const verdict = verdictOf(policy, alice({ eligibleRoleTemplateIds: new Set([GLOBAL_ADMINISTRATOR]) }));
            assert.deepEqual(causesOfUnknown(verdict), ["the stack policy names excluded directory roles by ids unknown until the deployment runs, which may include one the user holds"]);
            assertCovered(verdictOf(policy, alice({ roleTemplateIds: new Set(["some-other-role"]) })));
        });

        it("covers the holder of the one stack role a policy includes by an unknown id, and no one else", () => {
            const policy = stackPolicy({ includedRoles: [newGa], preview: true }, roles([[newGa, GLOBAL_ADMINISTRATOR]]));
            assertCovered(verdictOf(policy, alice({ roleTemplateIds: new Set([GLOBAL_ADMINISTRATOR]) })));
            assertNotCovered(verdictOf(policy, alice({ roleTemplateIds: new Set([GLOBAL_READER]) })), /does not include the user$/);
            assertNotCovered(verdictOf(policy, alice({ eligibleRoleTemplateIds: new Set([GLOBAL_ADMINISTRATOR]) })), /does not include the user$/);
        });

        it("cannot decide when a stack policy's whole role list is unknown, even for a user who holds no role", () => {
            const policy = stackPolicyWith((o) => (o.conditions.users.excludedRoles = UNKNOWN));
            const verdict = verdictOf(policy);
            assert.deepEqual(causesOfUnknown(verdict), ["the stack policy names excluded directory roles by ids unknown until the deployment runs"]);
        });
    });
});

describe("coverage: sign-in contexts a stack policy leaves unknown during preview", () => {
    const cases: { what: string; change: (o: Record<string, any>) => void; cause: string; note?: string }[] = [
        { what: "client app types", change: (o) => (o.conditions.clientAppTypes = UNKNOWN), cause: "the stack policy's client app types are unknown until the deployment runs" },
        { what: "one client app type", change: (o) => (o.conditions.clientAppTypes = ["browser", UNKNOWN]), cause: "the stack policy's client app types are unknown until the deployment runs", note: "requires MFA only from browsers" },
        { what: "included platforms", change: (o) => (o.conditions.platforms = { includedPlatforms: UNKNOWN }), cause: "the stack policy's device platforms are unknown until the deployment runs" },
        { what: "excluded platforms", change: (o) => (o.conditions.platforms = { includedPlatforms: ["all"], excludedPlatforms: [UNKNOWN] }), cause: "the stack policy's device platforms are unknown until the deployment runs" },
        { what: "included locations", change: (o) => (o.conditions.locations = { includedLocations: UNKNOWN }), cause: "the stack policy's locations are unknown until the deployment runs" },
        { what: "excluded locations", change: (o) => (o.conditions.locations = { includedLocations: ["All"], excludedLocations: [UNKNOWN] }), cause: "the stack policy's locations are unknown until the deployment runs" },
        { what: "sign-in risk levels", change: (o) => (o.conditions.signInRiskLevels = UNKNOWN), cause: "the stack policy's sign-in risk levels are unknown until the deployment runs" },
        { what: "user risk levels", change: (o) => (o.conditions.userRiskLevels = [UNKNOWN]), cause: "the stack policy's user risk levels are unknown until the deployment runs" },
        { what: "insider risk levels", change: (o) => (o.conditions.insiderRiskLevels = UNKNOWN), cause: "the stack policy's insider risk levels are unknown until the deployment runs" },
        { what: "authentication flows", change: (o) => (o.conditions.authenticationFlowTransferMethods = UNKNOWN), cause: "the stack policy's authentication flows are unknown until the deployment runs" },
        { what: "one authentication flow", change: (o) => (o.conditions.authenticationFlowTransferMethods = ["deviceCodeFlow", UNKNOWN]), cause: "the stack policy's authentication flows are unknown until the deployment runs", note: "requires MFA only through the device code flow" },
        { what: "applications", change: (o) => (o.conditions.applications.includedApplications = UNKNOWN), cause: "the stack policy's applications are unknown until the deployment runs" },
        { what: "an excluded application", change: (o) => (o.conditions.applications.excludedApplications = [UNKNOWN]), cause: "some of the stack policy's application ids are unknown until the deployment runs" },
        { what: "device conditions", change: (o) => (o.conditions.devices = UNKNOWN), cause: "the device conditions of 'Require MFA' are unknown until the deployment runs", note: "requires MFA" },
    ];

    // Where the policy may apply is unknown, so the note names no context it surely covers.
    for (const { what, change, cause, note = "requires MFA only nowhere the pack can name" } of cases) {
        it(`cannot decide on a policy when its ${what} are unknown, and says so`, () => {
            assert.deepEqual(verdictOf(stackPolicyWith(change)), { kind: "unknown", causes: [cause], lookedAt: [`${IN_STACK} ${note}`] });
        });
    }

    it("still covers when the unknown only narrows a policy another policy backs up", () => {
        assertCovered(verdictOf([stackPolicyWith((o) => (o.conditions.clientAppTypes = UNKNOWN)), tenantPolicy()]), ["'Require MFA'"]);
    });
});

describe("coverage: naming the sign-in contexts left open", () => {
    it("names every platform a policy for Android leaves open", () => {
        assertNotCovered(verdictOf(tenantPolicy({ conditions: { platforms: { includePlatforms: ["android"] } } })), /^'Require MFA' requires MFA only on Android$/, /^sign-ins on iOS, Windows, macOS, Linux, Windows Phone and unknown platforms are neither challenged nor blocked$/);
    });

    it("names every client a policy for browsers leaves open", () => {
        assertNotCovered(verdictOf(tenantPolicy({ conditions: { clientAppTypes: ["browser"] } })), /^'Require MFA' requires MFA only from browsers$/, /^sign-ins from mobile apps and desktop clients, Exchange ActiveSync and other clients are neither challenged nor blocked$/);
    });

    it("reads Graph's legacy easSupported client type as Exchange ActiveSync", () => {
        assertCovered(verdictOf(tenantPolicy({ conditions: { clientAppTypes: ["browser", "mobileAppsAndDesktopClients", "easSupported", "other"] } })));
    });

    it("names user risk, untrusted locations and authentication transfer when a policy leaves them open", () => {
        assertNotCovered(verdictOf(tenantPolicy({ conditions: { userRiskLevels: ["high"] } })), /requires MFA only at user risk high$/, /^sign-ins at user risk none, low and medium are neither/);
        assertNotCovered(verdictOf(tenantPolicy({ conditions: { locations: { includeLocations: ["AllTrusted"] } } })), /requires MFA only from trusted locations$/, /^sign-ins from untrusted locations are neither/);
        assertNotCovered(verdictOf(tenantPolicy({ conditions: { authenticationFlows: { transferMethods: "authenticationTransfer" } } })), /requires MFA only through authentication transfer$/, /^sign-ins through other authentication flows and the device code flow are neither/);
    });

    it("says no sign-in is challenged when the one policy that applies covers only apps outside the accepted ones", () => {
        assert.deepEqual(verdictOf(tenantPolicy({ applications: { includeApplications: [HR_APP_ID] } }), alice(), [AZURE_MANAGEMENT_APP_ID]), {
            kind: "not-covered",
            open: "no sign-in is challenged or blocked",
            lookedAt: ["'Require MFA' requires MFA only nowhere the pack can name"],
        });
    });

    it("cannot decide whether an accepted app belongs to Microsoft Admin Portals, except Azure management, which it knows is outside", () => {
        const portals = tenantPolicy({ applications: { includeApplications: ["MicrosoftAdminPortals"] } });
        const verdict = verdictOf(portals, alice(), [HR_APP_ID]);
        assert.deepEqual(causesOfUnknown(verdict), [`whether the application ${HR_APP_ID} is part of 'Microsoft Admin Portals' is not known to the pack`]);
        assertNotCovered(verdictOf(portals, alice(), [AZURE_MANAGEMENT_APP_ID]));
    });

    it("names the policy that covers alone, and a stack policy as in this stack", () => {
        assertCovered(verdictOf([tenantPolicy(), tenantPolicy({ displayName: "Second" })]), ["'Require MFA'"]);
        assertCovered(verdictOf([tenantPolicy({ displayName: "Browsers", conditions: { clientAppTypes: ["browser"] } }), stackPolicy()]), [IN_STACK]);
    });

    it("says why a policy may not apply when the user's groups could not be read", () => {
        assert.deepEqual(verdictOf(tenantPolicy({ users: { includeUsers: [], includeGroups: ["admins"] } }), alice({ groupIds: MEMBERSHIPS_DENIED })), {
            kind: "unknown",
            causes: MEMBERSHIPS_DENIED.unknown,
            lookedAt: [`'Require MFA' may not apply to the user (${MEMBERSHIPS_DENIED.unknown[0]})`],
        });
    });
});

describe("coverage: the policies a verdict names, and one coverage for many users", () => {
    it("leaves a policy that neither requires MFA nor blocks out of the policies looked at", () => {
        const deviceOnly = tenantPolicy({ displayName: "Compliant device", grantControls: { builtInControls: ["compliantDevice"] } });
        const browsers = tenantPolicy({ displayName: "MFA in browsers", conditions: { clientAppTypes: ["browser"] } });
        const verdict = verdictOf([deviceOnly, browsers]);
        assert.deepEqual(verdict.kind === "not-covered" && verdict.lookedAt, ["'MFA in browsers' requires MFA only from browsers"]);
    });

    it("gives each user the verdict and message of its own facts, however many users share one coverage", () => {
        const coverage = conditionalAccessCoverage([tenantPolicy({ users: { excludeUsers: [ALICE_ID], excludeGroups: [BREAK_GLASS_GROUP_ID, ADMINS_GROUP_ID] } })], { acceptedApplications: ALL_APPLICATIONS });
        const inAdmins = alice({ objectId: BOB_ID, groupIds: new Set([ADMINS_GROUP_ID]), groupNames: new Map([[ADMINS_GROUP_ID, "Admins"], [BREAK_GLASS_GROUP_ID, "Break glass"]]) });
        assert.deepEqual(coverage(alice()), { kind: "not-covered", open: "no enabled Conditional Access policy that requires MFA or blocks applies to the user", lookedAt: ["'Require MFA' excludes the user"] });
        assert.deepEqual(coverage(inAdmins), { kind: "not-covered", open: "no enabled Conditional Access policy that requires MFA or blocks applies to the user", lookedAt: ["'Require MFA' excludes the user through group 'Admins'"] });
        const otherCause = unknownBecause("the user's group and role memberships could not be read (HTTP 500)");
        assert.deepEqual(causesOfUnknown(coverage(alice({ objectId: BOB_ID, groupIds: MEMBERSHIPS_DENIED }))), MEMBERSHIPS_DENIED.unknown);
        assert.deepEqual(causesOfUnknown(coverage(alice({ objectId: BOB_ID, groupIds: otherCause }))), otherCause.unknown);
    });

    it("does not count a policy that targets authentication contexts, and says so", () => {
        assertNotCovered(verdictOf(tenantPolicy({ applications: { includeApplications: [], includeAuthenticationContextClassReferences: ["c1"] } as never })), /^'Require MFA' targets authentication contexts, not sign-ins to applications$/);
    });

    it("does not take the application keyword None for an application", () => {
        const none = tenantPolicy({ displayName: "Nothing", applications: { includeApplications: ["None"] } });
        const hr = tenantPolicy({ displayName: "HR", applications: { includeApplications: [HR_APP_ID] } });
        assertNotCovered(verdictOf([none, hr]), undefined, /^sign-ins to other applications are neither challenged nor blocked$/);
    });

    it("cannot decide whether a named location another policy mentions is trusted, when only trusted locations cover it", () => {
        const location = COUNTRIES_LOCATION_ID.toLowerCase();
        const inTrusted = tenantPolicy({ displayName: "MFA in trusted", conditions: { locations: { includeLocations: ["AllTrusted"] } } });
        const outsideTrusted = tenantPolicy({ displayName: "MFA outside trusted", conditions: { locations: { includeLocations: ["All"], excludeLocations: ["AllTrusted"] } } });
        const reportOnlyBlock = tenantPolicy({ displayName: "Block countries", state: "enabledForReportingButNotEnforced", conditions: { locations: { includeLocations: [COUNTRIES_LOCATION_ID] } }, grantControls: { builtInControls: ["block"] } });
        const verdict = verdictOf([inTrusted, outsideTrusted, reportOnlyBlock]);
        assert.deepEqual(causesOfUnknown(verdict), [`whether named location ${location} is trusted is not read by the pack`]);
    });

    it("leaves open a named location a policy on all locations excludes", () => {
        const location = COUNTRIES_LOCATION_ID.toLowerCase();
        assertNotCovered(verdictOf(tenantPolicy({ conditions: { locations: { includeLocations: ["All"], excludeLocations: [COUNTRIES_LOCATION_ID] } } })), /requires MFA only from trusted locations and untrusted locations$/, new RegExp(`^sign-ins from ${location} are neither challenged nor blocked$`));
    });
});

describe("conditionalAccessPolicyFromGraph and FromStack: conditions the pack evaluates", () => {
    it("takes no condition the pack evaluates for one it does not, in a Graph policy", () => {
        const everything = {
            ...graphPolicy(),
            conditions: {
                users: {
                    includeUsers: ["All"], excludeUsers: ["x"], includeGroups: ["g"], excludeGroups: ["g"], includeRoles: ["r"], excludeRoles: ["r"],
                    includeGuestsOrExternalUsers: { guestOrExternalUserTypes: "internalGuest" }, excludeGuestsOrExternalUsers: { guestOrExternalUserTypes: "internalGuest" },
                },
                applications: { includeApplications: ["All"], excludeApplications: ["a"], includeUserActions: ["u"], includeAuthenticationContextClassReferences: ["c1"] },
                clientAppTypes: ["all"], platforms: { includePlatforms: ["all"] }, locations: { includeLocations: ["All"] }, signInRiskLevels: ["high"], userRiskLevels: ["high"], insiderRiskLevels: "elevated",
                devices: { includeDevices: ["All"] }, authenticationFlows: { transferMethods: "deviceCodeFlow" }, clientApplications: { includeServicePrincipals: ["s"] }, servicePrincipalRiskLevels: ["high"],
            },
        };
        assert.deepEqual(conditionalAccessPolicyFromGraph(everything).unsupportedConditions, []);
    });

    it("takes no condition the pack evaluates for one it does not, in a stack policy", () => {
        const everything = stackPolicyWith((o) => {
            o.conditions = {
                users: { includedUsers: ["All"], excludedUsers: ["x"], includedGroups: ["g"], excludedGroups: ["g"], includedRoles: ["r"], excludedRoles: ["r"], includedGuestsOrExternalUsers: [{ guestOrExternalUserTypes: ["internalGuest"] }], excludedGuestsOrExternalUsers: [{ guestOrExternalUserTypes: ["internalGuest"] }] },
                applications: { includedApplications: ["All"], excludedApplications: ["a"], includedUserActions: ["u"] },
                clientAppTypes: ["all"], platforms: [{ includedPlatforms: ["all"] }], locations: [{ includedLocations: ["All"] }], signInRiskLevels: ["high"], userRiskLevels: ["high"], insiderRiskLevels: "elevated",
                devices: [{ filter: [] }], authenticationFlowTransferMethods: "deviceCodeFlow", clientApplications: [{ includedServicePrincipals: ["s"] }], servicePrincipalRiskLevels: ["high"],
            };
        });
        assert.deepEqual(everything.unsupportedConditions, []);
    });

    it("names the legacy device states as conditions it does not evaluate, and ignores an empty device filter", () => {
        const policy = tenantPolicy({ conditions: { devices: { includeDeviceStates: ["All"], excludeDeviceStates: ["Compliant"], deviceFilter: { mode: "", rule: null } } } });
        assert.deepEqual(policy.unsupportedConditions, ["device condition 'includeDeviceStates'", "device condition 'excludeDeviceStates'"]);
    });

    it("reads a comma-separated list with spaces, and ignores conditions that are false or empty", () => {
        const policy = tenantPolicy({ conditions: { clientAppTypes: "browser, mobileAppsAndDesktopClients,", somethingNew: false, somethingEmpty: "", somethingNull: { "@odata.type": "x", value: null } } });
        assert.deepEqual(policy.conditions.clientAppTypes, { values: ["browser", "mobileappsanddesktopclients"] });
        assert.deepEqual(policy.unsupportedConditions, []);
    });

    it("reads Graph's grant operator in any case, and OR when it is left out", () => {
        assert.equal(tenantPolicy({ grantControls: { operator: "and" as never, builtInControls: ["mfa"] } }).grant?.operator, "AND");
        assert.equal(conditionalAccessPolicyFromGraph({ ...graphPolicy(), grantControls: { builtInControls: ["mfa"] } }).grant?.operator, "OR");
    });

    it("reads a Graph guest selection without kinds as none, and enumerated tenants in lower case", () => {
        assert.equal(tenantPolicy({ users: { includeGuestsOrExternalUsers: { guestOrExternalUserTypes: "", externalTenants: null } } }).include.guests, undefined);
        const enumerated = tenantPolicy({ users: { includeGuestsOrExternalUsers: { guestOrExternalUserTypes: "b2bCollaborationGuest", externalTenants: { membershipKind: "enumerated", members: ["TENANT-A"] } as never } } });
        assert.deepEqual(enumerated.include.guests, { kinds: new Set(["b2bcollaborationguest"]), tenants: new Set(["tenant-a"]) });
    });

    it("reads a stack policy's name, state and grant when the outputs leave them out or in another case", () => {
        const bare = stackPolicyWith((o) => {
            delete o.displayName;
            delete o.state;
            o.grantControls.operator = "and";
        });
        assert.equal(bare.displayName, "require-mfa");
        assert.equal(bare.state, "missing");
        assert.equal(bare.grant?.operator, "AND");
        assert.equal(stackPolicyWith((o) => delete o.grantControls.operator).grant?.operator, "OR");
        assert.equal(stackPolicyWith((o) => (o.grantControls = null)).grant, null);
        assert.equal(stackPolicyWith((o) => delete o.grantControls).grant, null);
        assert.equal(stackPolicyWith((o) => (o.grantControls.authenticationStrengthPolicyId = "")).grant?.strength, undefined);
    });

    it("takes an unknown strength id for unknown when several stack strengths stand behind grantControls", () => {
        const urns = ["urn:strength:a", "urn:strength:b"];
        const resource = withOutputs(conditionalAccessPolicy({ name: "require-mfa", authenticationStrengthPolicyId: "x" }), (o) => (o.grantControls.authenticationStrengthPolicyId = UNKNOWN));
        const policy = conditionalAccessPolicyFromStack({ ...snapshotOf(resource), propertyDependencies: { grantControls: urns } }, { ...noReferences, strengthUrns: new Set(urns) });
        assert.deepEqual(policy.grant?.strength, { id: "unknown" });
    });

    it("does not take a stack policy for a workload identity policy while its client applications are unknown", () => {
        assert.equal(stackPolicyWith((o) => (o.conditions.clientApplications = UNKNOWN)).notForPeople, undefined);
        assert.equal(stackPolicyWith((o) => (o.conditions.clientApplications = [{ includedServicePrincipals: ["s"] }])).notForPeople, "targets workload identities, not people");
    });
});

describe("conditionalAccessPolicyFromGraph and FromStack: ids, labels and grants", () => {
    it("reads a Graph strength's id in lower case and keeps only the combinations that are strings", () => {
        const policy = tenantPolicy({ grantControls: { builtInControls: [], authenticationStrength: { id: CUSTOM_STRENGTH_ID.toUpperCase(), displayName: 7, allowedCombinations: ["fido2", 5] } as never } });
        assert.deepEqual(policy.grant?.strength, { id: CUSTOM_STRENGTH_ID.toLowerCase(), allowedCombinations: ["fido2"] });
    });

    it("names a user or application condition newer than the pack by where it sits", () => {
        const policy = tenantPolicy({ users: { includeAgents: ["all"] } as never, applications: { includeSomethingNew: ["x"] } as never });
        assert.deepEqual(policy.unsupportedConditions, ["user condition 'includeAgents'", "application condition 'includeSomethingNew'"]);
    });

    it("does not count MFA or a custom control from Graph, and names the control", () => {
        assertNotCovered(verdictOf(tenantPolicy({ grantControls: { operator: "OR", builtInControls: ["mfa"], customAuthenticationFactors: ["Duo", 3] } as never })), /^'Require MFA' lets users satisfy it with duo instead of MFA$/);
    });

    it("takes only the stack's groups for group candidates and only its roles for role candidates", () => {
        const newAdmins = group({ name: "admins", displayName: "Admins", preview: true });
        const newGa = directoryRole({ name: "ga", displayName: "Global Administrator", preview: true });
        const newUser = user({ name: "bob", preview: true });
        const resource = conditionalAccessPolicy({ name: "p", includedUsers: [newUser], excludedGroups: [newAdmins], excludedRoles: [newGa], preview: true });
        const policy = stackPolicyOf(resource, { userUrns: new Set([newUser.urn]), groupUrns: new Set([newAdmins.urn]), roleTemplateIdsByUrn: new Map([[newGa.urn, GLOBAL_ADMINISTRATOR]]) });
        assert.deepEqual(policy.include.users.unknown?.candidates, [newUser.urn]);
        assert.deepEqual(policy.exclude.groups.unknown?.candidates, [newAdmins.urn]);
        assert.deepEqual(policy.exclude.roles.unknown?.candidates, [GLOBAL_ADMINISTRATOR]);
    });

    it("does not take a stack policy on service principal risk for one on people, unless that risk is unknown", () => {
        assert.equal(stackPolicyWith((o) => (o.conditions.servicePrincipalRiskLevels = ["high"])).notForPeople, "applies to service principal risk, not to people");
        assert.equal(stackPolicyWith((o) => (o.conditions.servicePrincipalRiskLevels = UNKNOWN)).notForPeople, undefined);
    });
});

describe("isMeantToRequireMfa", () => {
    it("is true for a grant that names MFA or a strength, and false for a block, other controls or no grant", () => {
        assert.equal(isMeantToRequireMfa(tenantPolicy()), true);
        assert.equal(isMeantToRequireMfa(tenantPolicy({ grantControls: { builtInControls: [], authenticationStrength: BUILT_IN_AUTHENTICATION_STRENGTHS.phishingResistantMfa } })), true);
        assert.equal(isMeantToRequireMfa(tenantPolicy({ grantControls: { builtInControls: ["block"] } })), false);
        assert.equal(isMeantToRequireMfa(tenantPolicy({ grantControls: { builtInControls: ["compliantDevice"] } })), false);
        assert.equal(isMeantToRequireMfa(tenantPolicy({ grantControls: null })), false);
    });
});

function causesOfUnknown(verdict: CoverageVerdict): string[] {
    assert.equal(verdict.kind, "unknown", `expected unknown, got ${JSON.stringify(verdict)}`);
    return verdict.kind === "unknown" ? verdict.causes : [];
}

function literally(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
