import * as assert from "node:assert/strict";
import { ConditionalAccessPolicy, conditionalAccessPolicyFromGraph, conditionalAccessPolicyFromStack, StackReferences } from "../../../policies/evidence/conditionalAccess";
import { AuthenticationStrengthFacts, conditionalAccessCoverage, CoverageVerdict, UserFacts } from "../../../policies/evidence/coverage";
import { Unknown, unknownBecause } from "../../../policies/evidence/truth";
import { completeConditionalAccessPolicy, ConditionalAccessPolicy as GraphConditionalAccessPolicy, EmulatedConditionalAccessPolicy } from "../../emulator/conditionalAccess";
import { conditionalAccessPolicy, ConditionalAccessPolicyArgs, ENTRA_ROLE_TEMPLATE, guidFrom } from "../../fixtures/resources";
import { StackResource } from "../../harness/stackResource";
import { snapshotOf } from "../snapshots";
import { memberFacts } from "./userFactsFixture";

/** Users, policies and verdict assertions the Conditional Access coverage specs build their cases from. */

export const ALICE_ID = guidFrom("user:alice");
export const BOB_ID = guidFrom("user:bob");
export const BREAK_GLASS_GROUP_ID = guidFrom("group:break-glass");
export const ADMINS_GROUP_ID = guidFrom("group:admins");
export const GLOBAL_ADMINISTRATOR = ENTRA_ROLE_TEMPLATE["Global Administrator"];
export const GLOBAL_READER = ENTRA_ROLE_TEMPLATE["Global Reader"];
export const HR_APP_ID = guidFrom("app:hr");
/** Microsoft Intune Enrollment, which tenants often exclude from "all apps" policies. */
export const INTUNE_ENROLLMENT_APP_ID = "d4ebce55-015a-49b5-a083-c84d1797ae8c";
export const CUSTOM_STRENGTH_ID = guidFrom("authenticationStrength:custom");
export const COUNTRIES_LOCATION_ID = guidFrom("namedLocation:blocked-countries");
/** The pack's default `conditionalAccessApplications`. */
export const ALL_APPLICATIONS = ["All"];
export const MEMBERSHIPS_DENIED = unknownBecause("the user's group and role memberships could not be read: Graph denied access (HTTP 403)");

/** Alice, an internal member whose groups and roles were all read and who is in none. */
export function alice(change: Partial<UserFacts> = {}): UserFacts {
    return memberFacts({ objectId: ALICE_ID, ...change });
}

export const guest = (change: Partial<UserFacts> = {}) => alice({ objectId: guidFrom("user:guest"), guestKind: "b2bCollaborationGuest", ...change });

export type GraphConditions = NonNullable<EmulatedConditionalAccessPolicy["conditions"]>;

export interface TenantPolicyChange {
    displayName?: string;
    state?: EmulatedConditionalAccessPolicy["state"];
    users?: GraphConditions["users"];
    applications?: GraphConditions["applications"];
    conditions?: Record<string, unknown>;
    grantControls?: EmulatedConditionalAccessPolicy["grantControls"];
}

/**
 * A tenant policy as `GET /beta/identity/conditionalAccess/policies` returns it
 * (https://learn.microsoft.com/graph/api/resources/conditionalaccesspolicy): "Require MFA", enabled,
 * for all users and all apps, granting access with MFA; `change` replaces one part.
 */
export function graphPolicy(change: TenantPolicyChange = {}): GraphConditionalAccessPolicy {
    const completed = completeConditionalAccessPolicy({
        id: guidFrom(`tenantPolicy:${change.displayName ?? "require-mfa"}`),
        displayName: change.displayName ?? "Require MFA",
        state: change.state ?? "enabled",
        conditions: {
            ...(change.conditions as object),
            users: { includeUsers: ["All"], ...change.users },
            applications: { includeApplications: ["All"], ...change.applications },
        },
        grantControls: change.grantControls === undefined ? { builtInControls: ["mfa"] } : change.grantControls,
    });
    // Conditions the emulator's v1.0 shape does not model (beta-only, newer than the pack) go in as given.
    return { ...completed, conditions: { ...completed.conditions, ...change.conditions } } as GraphConditionalAccessPolicy;
}

export const tenantPolicy = (change: TenantPolicyChange = {}) => conditionalAccessPolicyFromGraph(graphPolicy(change));

export const noReferences: StackReferences = { userUrns: new Set(), groupUrns: new Set(), roleTemplateIdsByUrn: new Map() };

/** A stack policy as `AnalyzeStack` hands it over; `references` are the stack's users, groups and roles. */
export function stackPolicy(args: Partial<ConditionalAccessPolicyArgs> = {}, references: StackReferences = noReferences): ConditionalAccessPolicy {
    return stackPolicyOf(conditionalAccessPolicy({ name: "require-mfa", displayName: "Require MFA", ...args }), references);
}

export function stackPolicyOf(resource: StackResource, references: StackReferences = noReferences): ConditionalAccessPolicy {
    return conditionalAccessPolicyFromStack(snapshotOf(resource), references);
}

/** A stack policy that requires a custom strength by id. */
export function stackResourceWithStrength(): StackResource {
    return conditionalAccessPolicy({ name: "require-strength", displayName: "Require strength", authenticationStrengthPolicyId: `/policies/authenticationStrengthPolicies/${CUSTOM_STRENGTH_ID}` });
}

/** A fixture policy with one output changed, for the conditions the fixture has no argument for. */
export function withOutputs(resource: StackResource, change: (outputs: Record<string, any>) => void): StackResource {
    const outputs = structuredClone(resource.outputs);
    change(outputs);
    return { ...resource, outputs };
}

export function verdictOf(
    policies: ConditionalAccessPolicy | ConditionalAccessPolicy[],
    facts: UserFacts = alice(),
    applications: string[] = ALL_APPLICATIONS,
    strengths?: Map<string, AuthenticationStrengthFacts | Unknown>,
): CoverageVerdict {
    return conditionalAccessCoverage(Array.isArray(policies) ? policies : [policies], { acceptedApplications: applications, strengths })(facts);
}

export function assertCovered(verdict: CoverageVerdict, by?: string[]): void {
    assert.equal(verdict.kind, "covered", `expected covered, got ${JSON.stringify(verdict)}`);
    if (by && verdict.kind === "covered") assert.deepEqual(verdict.by, by);
}

/** Not covered; `lookedAt` matches the note on the first policy, `open` the contexts left open. */
export function assertNotCovered(verdict: CoverageVerdict, lookedAt?: RegExp, open?: RegExp): void {
    assert.equal(verdict.kind, "not-covered", `expected not covered, got ${JSON.stringify(verdict)}`);
    if (verdict.kind !== "not-covered") return;
    if (lookedAt) assert.match(verdict.lookedAt[0] ?? "", lookedAt);
    if (open) assert.match(verdict.open, open);
}

export function assertUnknown(verdict: CoverageVerdict, cause: RegExp): void {
    assert.equal(verdict.kind, "unknown", `expected unknown, got ${JSON.stringify(verdict)}`);
    if (verdict.kind === "unknown") assert.ok(verdict.causes.some((c) => cause.test(c)), `no cause matches ${cause}: ${JSON.stringify(verdict.causes)}`);
}
