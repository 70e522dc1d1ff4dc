import * as assert from "node:assert/strict";
import { GraphEmulator } from "../emulator/graphEmulator";
import {
    AZURE_ROLE,
    classicAssignment,
    directoryRoleAssignment,
    ENTRA_ROLE_TEMPLATE,
    group,
    guidFrom,
    roleAssignment,
    roleDefinition,
    stack,
    storageAccount,
    user,
} from "../fixtures/resources";
import { launchPolicyPack, preview, StackResource } from "../harness";
import { askedUrls, emulatorPerSuite, MFA_POLICY, PACK_DIR, PRIVILEGED_POLICY, runPack, tenantUser, UNVERIFIED_POLICY } from "./packUnderTest";

/** Runs through the engine protocol against the Graph emulator: the pack as `pulumi preview` runs it. */
describe("entra-non-privileged-user-mfa, through the engine protocol", function () {
    this.timeout(60_000);
    let emulator!: GraphEmulator;
    emulatorPerSuite((started) => (emulator = started));

    function inTenant(resource: StackResource, state: string | null | undefined): StackResource {
        emulator.upsertUser(tenantUser(resource, state));
        return resource;
    }

    const flaggedUpns = (messages: string[]) =>
        messages.map((m) => /User '([^']+)'/.exec(m)?.[1]).sort();

    it("describes itself to Pulumi Cloud on the SDK's metadata fields", async () => {
        const { launchPolicyPack } = await import("../harness");
        const { PACK_DIR } = await import("./packUnderTest");
        const pack = await launchPolicyPack({ packDir: PACK_DIR });
        try {
            const info = await pack.analyzerInfo();
            const policy = info.policies.find((p) => p.name === MFA_POLICY)!;
            assert.equal(policy.enforcementLevel, "mandatory");
            assert.equal(policy.severity, "high");
            assert.equal(policy.framework?.reference, "2.1.3");
            assert.match(policy.remediationSteps ?? "", /perUserMfaState/);
            assert.ok(policy.url?.startsWith("https://learn.microsoft.com/"));
            assert.ok(policy.tags?.includes("conformity-activedirectory-002"));
            assert.deepEqual(Object.keys(policy.configSchema?.properties ?? {}).sort(), [
                "acceptedEvidence", "cloud", "conditionalAccessApplications", "exemptions", "includeDisabledAccounts", "includeGuests", "privilegedRolePatterns", "useEntraPrivilegedLabel", "verificationBudgetSeconds",
            ]);
            assert.equal(info.policies.find((p) => p.name === UNVERIFIED_POLICY)?.enforcementLevel, "advisory");
        } finally {
            await pack.close();
        }
    });

    it("runs the seed's audit: privileged users pass untouched, non-privileged users need enabled or enforced", async () => {
        const users = {
            owner: inTenant(user({ name: "owner" }), "disabled"),
            contributor: inTenant(user({ name: "contributor" }), "disabled"),
            uaa: inTenant(user({ name: "uaa" }), "disabled"),
            reader: inTenant(user({ name: "reader" }), "disabled"),
            lakeDev: inTenant(user({ name: "lakedev" }), "disabled"),
            enabled: inTenant(user({ name: "enabled" }), "enabled"),
            enforced: inTenant(user({ name: "enforced" }), "enforced"),
            nullState: inTenant(user({ name: "nullstate" }), null),
            missingState: inTenant(user({ name: "missingstate" }), undefined),
        };
        const assignments = [
            roleAssignment({ name: "owner", principal: users.owner, role: AZURE_ROLE.Owner }),
            roleAssignment({ name: "contributor", principal: users.contributor, role: AZURE_ROLE.Contributor }),
            roleAssignment({ name: "uaa", principal: users.uaa, role: AZURE_ROLE["User Access Administrator"] }),
            roleAssignment({ name: "reader", principal: users.reader, role: AZURE_ROLE.Reader }),
            roleAssignment({ name: "lakedev", principal: users.lakeDev, role: AZURE_ROLE["Data Lake Analytics Developer"] }),
            roleAssignment({ name: "enabled", principal: users.enabled, role: AZURE_ROLE.Reader }),
        ];
        const run = await runPack(emulator, [stack(), ...Object.values(users), ...assignments]);

        const violations = run.of(MFA_POLICY);
        assert.deepEqual(flaggedUpns(violations.map((d) => d.message)), [
            "lakedev@contoso.onmicrosoft.com",
            "missingstate@contoso.onmicrosoft.com",
            "nullstate@contoso.onmicrosoft.com",
            "reader@contoso.onmicrosoft.com",
        ]);
        assert.ok(violations.every((d) => d.enforcementLevel === "mandatory"));
        const reader = violations.find((d) => d.urn === users.reader.urn)!;
        const readerId = String(users.reader.outputs.objectId);
        assert.match(reader.message, new RegExp(`Object id: ${readerId}`));
        assert.match(reader.message, /per-user MFA state is 'disabled'/);
        assert.match(reader.message, /'Reader'/);
        assert.ok(
            reader.message.includes(
                `az rest --method PATCH --uri 'https://graph.microsoft.com/beta/users/${readerId}/authentication/requirements' --body '{"perUserMfaState":"enabled"}'`,
            ),
            reader.message,
        );
        assert.match(violations.find((d) => d.urn === users.nullState.urn)!.message, /state is null/);
        assert.match(violations.find((d) => d.urn === users.missingState.urn)!.message, /state is missing/);
        assert.deepEqual(run.of(UNVERIFIED_POLICY), []);

        // Privileged users are the other rule's: reported by it, each asked about once.
        assert.deepEqual(run.of(PRIVILEGED_POLICY).map((d) => d.urn).sort(), [users.owner.urn, users.contributor.urn, users.uaa.urn].sort());
        assert.match(run.of(PRIVILEGED_POLICY).find((d) => d.urn === users.owner.urn)!.message, /privileged: holds 'Owner'/);
        // Tenant-wide evidence once, and each user's per-user state once, whichever policy asked first.
        const asked = askedUrls(emulator);
        for (const tenantWide of ["/identity/conditionalAccess/policies", "/policies/identitySecurityDefaultsEnforcementPolicy"]) {
            assert.equal(asked.filter((url) => url === tenantWide).length, 1, `${tenantWide}: ${asked.join(", ")}`);
        }
        assert.equal(asked.filter((url) => url.endsWith("/authentication/requirements")).length, 9);
        assert.equal(new Set(asked).size, asked.length);
    });

    it("gives roles through groups: a group's Owner is privileged, a group's Reader is checked", async () => {
        const admin = inTenant(user({ name: "admin" }), "disabled");
        const viewer = inTenant(user({ name: "viewer" }), "disabled");
        const admins = group({ name: "admins", members: [admin] });
        const viewers = group({ name: "viewers", members: [viewer] });
        const run = await runPack(emulator, [
            admin, viewer, admins, viewers,
            roleAssignment({ name: "admins-owner", principal: admins, principalType: "Group", role: AZURE_ROLE.Owner }),
            roleAssignment({ name: "viewers-reader", principal: viewers, principalType: "Group", role: AZURE_ROLE.Reader }),
        ]);
        const violations = run.of(MFA_POLICY);
        assert.equal(violations.length, 1);
        assert.equal(violations[0].urn, viewer.urn);
        assert.match(violations[0].message, /'Reader' through group 'viewers'/);
    });

    it("names custom roles from the stack's role definitions", async () => {
        const operator = inTenant(user({ name: "operator" }), "disabled");
        const auditor = inTenant(user({ name: "auditor" }), "disabled");
        const opsContributor = roleDefinition({ name: "ops", roleName: "Ops Contributor" });
        const auditReader = roleDefinition({ name: "audit", roleName: "Audit Reader" });
        const run = await runPack(emulator, [
            operator, auditor, opsContributor, auditReader,
            roleAssignment({ name: "operator", principal: operator, role: opsContributor }),
            roleAssignment({ name: "auditor", principal: auditor, role: auditReader }),
        ]);
        const violations = run.of(MFA_POLICY);
        assert.deepEqual(violations.map((d) => d.urn), [auditor.urn]);
        assert.match(violations[0].message, /'Audit Reader'/);
    });

    it("reads classic-provider assignments", async () => {
        const classicOwner = inTenant(user({ name: "classic-owner" }), "disabled");
        const classicDev = inTenant(user({ name: "classic-dev" }), "disabled");
        const run = await runPack(emulator, [
            classicOwner, classicDev,
            classicAssignment({ name: "owner", principal: classicOwner, roleDefinitionName: "Owner" }),
            classicAssignment({ name: "dev", principal: classicDev, role: AZURE_ROLE["Data Lake Analytics Developer"] }),
        ]);
        assert.deepEqual(run.of(MFA_POLICY).map((d) => d.urn), [classicDev.urn]);
    });

    it("treats Entra administrator roles as privileged and Global Reader as not", async () => {
        const globalAdmin = inTenant(user({ name: "ga" }), "disabled");
        const globalReader = inTenant(user({ name: "gr" }), "disabled");
        const run = await runPack(emulator, [
            globalAdmin, globalReader,
            directoryRoleAssignment({ name: "ga", roleId: ENTRA_ROLE_TEMPLATE["Global Administrator"], principal: globalAdmin }),
            directoryRoleAssignment({ name: "gr", roleId: ENTRA_ROLE_TEMPLATE["Global Reader"], principal: globalReader }),
        ]);
        const violations = run.of(MFA_POLICY);
        assert.deepEqual(violations.map((d) => d.urn), [globalReader.urn]);
        assert.match(violations[0].message, /'Global Reader'/);
    });

    it("checks users outside the stack that a stack assignment points at, on the assignment", async () => {
        const outsiderId = guidFrom("user:outsider");
        emulator.upsertUser({ id: outsiderId, userPrincipalName: "outsider@contoso.onmicrosoft.com", perUserMfaState: "disabled" });
        const assignment = roleAssignment({ name: "outsider-reader", principal: outsiderId, role: AZURE_ROLE.Reader });
        const run = await runPack(emulator, [assignment]);
        const violations = run.of(MFA_POLICY);
        assert.equal(violations.length, 1);
        assert.equal(violations[0].urn, assignment.urn);
        assert.match(violations[0].message, new RegExp(`User 'outsider@contoso.onmicrosoft.com' has no MFA[\\s\\S]*Object id: ${outsiderId}`));
    });

    it("reports a user created by this preview by name, asking Graph only about the tenant", async () => {
        const newcomer = user({ name: "newcomer", preview: true });
        const assignment = roleAssignment({ name: "newcomer-reader", principal: newcomer, role: AZURE_ROLE.Reader, preview: true });
        const run = await runPack(emulator, [stack({ preview: true }), newcomer, assignment]);
        const violations = run.of(MFA_POLICY);
        assert.equal(violations.length, 1);
        assert.equal(violations[0].urn, newcomer.urn);
        assert.match(violations[0].message, /User 'newcomer@contoso.onmicrosoft.com' \(created by this deployment\) will have no MFA/);
        assert.match(violations[0].message, /Fix, once the deployment has created it: az rest/);
        assert.ok(!run.output.includes("can't run policy"), run.output);
        // Its name is known during the preview, and Graph finds no user by it; its object id is not, and nothing is asked with it.
        const nameLookup = `/users?$filter=${encodeURIComponent("userPrincipalName in ('newcomer@contoso.onmicrosoft.com')")}&$select=id,userPrincipalName&$top=15`;
        assert.deepEqual(askedUrls(emulator).map(decodeURIComponent), ["/identity/conditionalAccess/policies", "/policies/identitySecurityDefaultsEnforcementPolicy", decodeURIComponent(nameLookup)]);
    });

    it("calls no user compliant or non-compliant when Graph denies access (403), and says which permission is missing", async () => {
        const reader = inTenant(user({ name: "reader" }), "enabled");
        emulator.faults.inject({ kind: "status", status: 403, path: "/authentication/requirements" });
        const run = await runPack(emulator, [reader]);
        assert.deepEqual(run.of(MFA_POLICY), []);
        const unverified = run.of(UNVERIFIED_POLICY);
        assert.equal(unverified.length, 1);
        assert.equal(unverified[0].enforcementLevel, "advisory");
        assert.equal(unverified[0].urn, reader.urn);
        assert.match(unverified[0].message, /User 'reader@contoso.onmicrosoft.com': MFA not verified/);
        assert.match(unverified[0].message, /HTTP 403/);
        assert.match(unverified[0].message, /Policy\.Read\.All/);
    });

    it("blocks on unverified users when the unverified policy is made mandatory", async () => {
        const reader = inTenant(user({ name: "reader" }), "enabled");
        emulator.faults.inject({ kind: "status", status: 403, path: "/authentication/requirements" });
        const run = await runPack(emulator, [reader], { config: { [UNVERIFIED_POLICY]: "mandatory" } });
        assert.deepEqual(run.of(UNVERIFIED_POLICY).map((d) => d.enforcementLevel), ["mandatory"]);
    });

    it("waits out throttling per sub-request and still decides every user", async () => {
        const users = Array.from({ length: 5 }, (_, i) => inTenant(user({ name: `throttled${i}` }), i % 2 === 0 ? "disabled" : "enabled"));
        const throttle = emulator.faults.inject({ kind: "status", status: 429, retryAfterSeconds: 1, path: "/authentication/requirements", times: 3 });
        const run = await runPack(emulator, users);
        assert.equal(throttle.hits, 3);
        assert.deepEqual(run.of(MFA_POLICY).map((d) => d.urn).sort(), [users[0].urn, users[2].urn, users[4].urn].sort());
        assert.deepEqual(run.of(UNVERIFIED_POLICY), []);
    });

    it("never sends a request to a Graph endpoint outside the allowlist", async () => {
        const reader = inTenant(user({ name: "reader" }), "disabled");
        const run = await runPack(emulator, [reader], { env: { ENTRA_MFA_GUARD_GRAPH_ENDPOINT: "https://graph.example.com" } });
        assert.deepEqual(run.of(MFA_POLICY), []);
        assert.match(run.of(UNVERIFIED_POLICY)[0]?.message ?? "", /ENTRA_MFA_GUARD_GRAPH_ENDPOINT is refused/);
        assert.deepEqual(emulator.requests, []);
    });

    it("reports a credential that gets no token as unverified, never printing the secret", async () => {
        const reader = inTenant(user({ name: "reader" }), "disabled");
        const run = await runPack(emulator, [reader], { env: { AZURE_CLIENT_SECRET: "wrong-secret-7c1f" } });
        assert.deepEqual(run.of(MFA_POLICY), []);
        assert.match(run.of(UNVERIFIED_POLICY)[0]?.message ?? "", /no Azure credential gave a token/);
        assert.ok(!run.output.includes("wrong-secret-7c1f"));
        assert.ok(!run.output.includes(emulator.clientSecret));
    });

    it("signs in with the federated token Pulumi ESC's azure-login hands over (ARM_OIDC_TOKEN), no secret needed", async () => {
        const reader = inTenant(user({ name: "reader" }), "disabled");
        const run = await runPack(emulator, [reader], { signIn: "oidc" });
        assert.deepEqual(run.of(MFA_POLICY).map((d) => d.urn), [reader.urn]);
        assert.deepEqual(run.of(UNVERIFIED_POLICY), []);
        assert.equal(emulator.tokensIssued, 1);
        assert.ok(!run.output.includes(emulator.federatedToken));
    });

    it("reports a federated token the tenant does not trust as unverified", async () => {
        const reader = inTenant(user({ name: "reader" }), "disabled");
        const run = await runPack(emulator, [reader], { signIn: "oidc", env: { ARM_OIDC_TOKEN: "untrusted-token-51f0" } });
        assert.deepEqual(run.of(MFA_POLICY), []);
        assert.match(run.of(UNVERIFIED_POLICY)[0]?.message ?? "", /no Azure credential gave a token/);
        assert.ok(!run.output.includes("untrusted-token-51f0"));
    });

    it("never echoes a secret property value or a token", async () => {
        const reader = inTenant(user({ name: "reader", password: "Sup3r-Secret-Pa55" }), "disabled");
        const run = await runPack(emulator, [reader]);
        assert.equal(run.of(MFA_POLICY).length, 1);
        assert.ok(!run.output.includes("Sup3r-Secret-Pa55"));
        assert.ok(!run.output.includes(emulator.clientSecret));
        assert.ok(!/eyJ[\w-]+\.|Bearer /.test(run.output));
    });

    it("ignores resource types it does not read", async () => {
        const run = await runPack(emulator, [stack(), storageAccount({ name: "logs" })]);
        assert.deepEqual([...run.analyze, ...run.stack], []);
        assert.deepEqual(emulator.requests, []);
    });

    it("honours exemptions with a reason, and says when one has expired", async () => {
        const breakGlass = inTenant(user({ name: "breakglass" }), "disabled");
        const lapsed = inTenant(user({ name: "lapsed" }), "disabled");
        const run = await runPack(emulator, [breakGlass, lapsed], {
            config: {
                [MFA_POLICY]: {
                    exemptions: [
                        { user: "breakglass@contoso.onmicrosoft.com", reason: "Emergency access account" },
                        { user: String(lapsed.outputs.objectId), reason: "Migration", expires: "2020-01-31" },
                    ],
                },
            },
        });
        const violations = run.of(MFA_POLICY);
        assert.deepEqual(violations.map((d) => d.urn), [lapsed.urn]);
        assert.match(violations[0].message, /exemption \('Migration'\) expired on 2020-01-31/);
    });

    it("warns instead of blocking when configured advisory", async () => {
        const reader = inTenant(user({ name: "reader" }), "disabled");
        const run = await runPack(emulator, [reader], { config: { all: "advisory" } });
        assert.deepEqual(run.of(MFA_POLICY).map((d) => d.enforcementLevel), ["advisory"]);
    });

    it("decides a second AnalyzeStack in the same process afresh, even with as many resources as the first", async () => {
        const alice = inTenant(user({ name: "alice" }), "disabled");
        const bob = inTenant(user({ name: "bob" }), "disabled");
        const pack = await launchPolicyPack({ packDir: PACK_DIR, env: emulator.env() });
        try {
            const first = await preview(pack, [stack(), alice]);
            const second = await pack.analyzeStack([stack(), bob]);
            assert.deepEqual(first.stack.filter((d) => d.policyName === MFA_POLICY).map((d) => d.urn), [alice.urn]);
            assert.deepEqual(second.filter((d) => d.policyName === MFA_POLICY).map((d) => d.urn), [bob.urn]);
        } finally {
            await pack.close();
        }
    });

    it("asks Graph in batches of 20: 5 per-user requests for a 100-user stack, after one for each tenant-wide source", async () => {
        const users = Array.from({ length: 100 }, (_, i) => inTenant(user({ name: `u${i}` }), "enabled"));
        // AnalyzeStack alone, as `pulumi up --skip-preview` or an engine without Analyze calls sends it: during a
        // preview the questions go out as the resources arrive instead (test/policies/prefetch.spec.ts).
        const run = await runPack(emulator, users, { sequence: { skipAnalyze: true } });
        assert.deepEqual(run.of(MFA_POLICY), []);
        const graphRequests = emulator.requests.filter((r) => r.endpoint === "graph" || r.endpoint === "batch");
        assert.equal(graphRequests.length, 7);
        assert.ok(graphRequests.every((r) => r.isBatch));
        assert.deepEqual(graphRequests.map((r) => r.subRequests?.length), [1, 1, 20, 20, 20, 20, 20]);
        assert.equal(askedUrls(emulator).filter((url) => url.endsWith("/authentication/requirements")).length, 100);
    });
});
