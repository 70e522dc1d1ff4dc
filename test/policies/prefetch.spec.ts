import * as assert from "node:assert/strict";
import { GraphEmulator } from "../emulator/graphEmulator";
import { AZURE_ROLE, group, roleAssignment, stack, user } from "../fixtures/resources";
import { Diagnostic, StackResource, UNKNOWN } from "../harness";
import { PRIVILEGED_ASSIGNMENT_MFA_COVERAGE } from "../../policies/config";
import { askedUrls, emulatorPerSuite, MFA_POLICY, PRIVILEGED_POLICY, runPack, tenantUser } from "./packUnderTest";

/** The Graph sub-request URLs received so far, once the pack has asked for every URL `until` wants (or 10 s). */
async function urlsOnceAsked(emulator: GraphEmulator, until: (urls: string[]) => boolean): Promise<string[]> {
    const giveUpAt = Date.now() + 10_000;
    while (!until(askedUrls(emulator)) && Date.now() < giveUpAt) await new Promise((resolve) => setTimeout(resolve, 25));
    return askedUrls(emulator);
}

function requirementsUrl(resource: StackResource): string {
    return `/users/${String(resource.outputs.objectId)}/authentication/requirements`;
}

function byUrnAndPolicy(diagnostics: Diagnostic[]): string[] {
    return diagnostics.map((d) => `${d.policyName} ${d.urn ?? ""} ${d.message}`).sort();
}

/** Runs through the engine protocol: evidence gathered at `Analyze`, before `AnalyzeStack` arrives. */
describe("evidence gathered while the preview runs", function () {
    this.timeout(60_000);
    let emulator!: GraphEmulator;
    emulatorPerSuite((started) => (emulator = started));

    function inTenant(resource: StackResource, state: string | null | undefined): StackResource {
        emulator.upsertUser(tenantUser(resource, state));
        return resource;
    }

    it("reads tenant-wide evidence and the per-user state of existing users, known by object id or by name, before AnalyzeStack, and not again after", async () => {
        const alice = inTenant(user({ name: "alice" }), "enabled");
        const bob = inTenant(user({ name: "bob" }), "disabled");
        const loner = inTenant(user({ name: "loner" }), "enabled");
        // Created by this deployment: its name is known, its object id is not, and Graph finds no user by the name.
        const newcomer = user({ name: "newcomer", preview: true });
        // A group of existing users carries their object ids in its inputs; `loner` is known by name only.
        const team = group({ name: "team", members: [alice, bob] });
        let beforeStack: string[] = [];
        const run = await runPack(emulator, [stack({ preview: true }), alice, bob, loner, newcomer, team], {
            sequence: {
                beforeAnalyzeStack: async () => {
                    beforeStack = await urlsOnceAsked(emulator, (urls) => urls.filter((url) => url.endsWith("/authentication/requirements")).length >= 3);
                },
            },
        });
        assert.ok(beforeStack.some((url) => url.includes("/identity/conditionalAccess/policies")), beforeStack.join("\n"));
        assert.ok(beforeStack.some((url) => url.includes("/policies/identitySecurityDefaultsEnforcementPolicy")), beforeStack.join("\n"));
        // Users are known to Analyze by name: Graph turns the names into object ids, fifteen a request.
        const nameLookups = beforeStack.filter((url) => url.startsWith("/users?")).map((url) => decodeURIComponent(url));
        assert.ok(nameLookups.length >= 1, beforeStack.join("\n"));
        for (const name of [alice, bob, loner, newcomer].map((u) => String(u.inputs.userPrincipalName))) {
            assert.ok(nameLookups.some((url) => url.includes(`'${name}'`)), `${name} was not looked up:\n${nameLookups.join("\n")}`);
        }
        assert.deepEqual(beforeStack.filter((url) => url.endsWith("/authentication/requirements")).sort(), [requirementsUrl(alice), requirementsUrl(bob), requirementsUrl(loner)].sort());
        // AnalyzeStack finds every answer cached; the user Graph did not find is new, and asked nothing about.
        const all = askedUrls(emulator);
        assert.deepEqual(all.filter((url) => url.endsWith("/authentication/requirements")).sort(), [requirementsUrl(alice), requirementsUrl(bob), requirementsUrl(loner)].sort());
        assert.equal(all.filter((url) => url.includes("/identity/conditionalAccess/policies")).length, 1);
        assert.equal(all.filter((url) => url.includes("/policies/identitySecurityDefaultsEnforcementPolicy")).length, 1);
        // A new user has no MFA until a tenant-wide policy covers it: the rule says so without asking Graph.
        assert.deepEqual(run.of(MFA_POLICY).map((d) => d.urn).sort(), [bob.urn, newcomer.urn].sort());
    });

    it("keeps gathering for resources analyzed after the first round's share of the budget has passed", async () => {
        const early = inTenant(user({ name: "early" }), "enabled");
        const late = inTenant(user({ name: "late" }), "enabled");
        // A 3 s budget gives each of the three sources, and so each prefetch round, 1 s. The users are
        // analyzed at 1.5 s and 3 s: a prefetch that counted its share from the first one stopped at 2.5 s.
        const settings = { verificationBudgetSeconds: 3 };
        let beforeStack: string[] = [];
        await runPack(emulator, [stack({ preview: true }), early, late], {
            config: { [PRIVILEGED_ASSIGNMENT_MFA_COVERAGE]: settings, [MFA_POLICY]: settings, [PRIVILEGED_POLICY]: settings },
            sequence: {
                analyzeSpanMs: 4_500,
                beforeAnalyzeStack: async () => {
                    beforeStack = await urlsOnceAsked(emulator, (urls) => urls.includes(requirementsUrl(late)));
                },
            },
        });
        assert.ok(beforeStack.includes(requirementsUrl(early)), beforeStack.join("\n"));
        assert.ok(beforeStack.includes(requirementsUrl(late)), beforeStack.join("\n"));
    });

    it("never asks Graph about a value unknown during the preview", async () => {
        const newcomer = user({ name: "newcomer", preview: true });
        const newGroup = group({ name: "new-team", members: [newcomer], preview: true });
        const owner = roleAssignment({ name: "newcomer-owner", principal: newcomer, role: AZURE_ROLE.Owner, preview: true });
        const groupOwner = roleAssignment({ name: "team-owner", principal: newGroup, role: AZURE_ROLE.Owner, preview: true });
        assert.equal(owner.inputs.principalId, UNKNOWN, "the fixture must hand the assignment an unknown principal");
        let beforeStack: string[] = [];
        await runPack(emulator, [stack({ preview: true }), newcomer, newGroup, owner, groupOwner], {
            sequence: {
                beforeAnalyzeStack: async () => {
                    // Both kinds of request: the name lookup waits for the first evaluation, the tenant-wide reads do not.
                    beforeStack = await urlsOnceAsked(emulator, (urls) => urls.some((url) => url.includes("identitySecurityDefaultsEnforcementPolicy")) && urls.some((url) => url.startsWith("/users?")));
                },
            },
        });
        // The tenant-wide reads went out at Analyze, and the newcomer's name (known, unlike its id) was looked up; nothing else.
        assert.deepEqual(beforeStack.map((url) => url.split("?")[0]).sort(), ["/identity/conditionalAccess/policies", "/policies/identitySecurityDefaultsEnforcementPolicy", "/users"]);
        assert.ok(decodeURIComponent(beforeStack.find((url) => url.startsWith("/users?"))!).includes(`'${String(newcomer.inputs.userPrincipalName)}'`));
        const all = askedUrls(emulator);
        assert.ok(all.length > 0);
        assert.deepEqual(all.filter((url) => url.includes(UNKNOWN)), []);
        assert.deepEqual(all.filter((url) => url.startsWith("/users/") || url.startsWith("/groups/")), []);
    });

    it("gives the same verdicts whether or not the engine sent Analyze calls first", async () => {
        const enabled = inTenant(user({ name: "enabled" }), "enabled");
        const disabled = inTenant(user({ name: "disabled" }), "disabled");
        const admin = inTenant(user({ name: "admin" }), "disabled");
        const teamAdmin = inTenant(user({ name: "team-admin" }), "disabled");
        const admins = group({ name: "admins", members: [teamAdmin] });
        const newcomer = user({ name: "newcomer", preview: true });
        const outsiderId = "6f0f2a52-1f0e-4c1b-9a53-3b1f5e2c7d11";
        emulator.upsertUser({ id: outsiderId, userPrincipalName: "outsider@contoso.com", perUserMfaState: "disabled" });
        const resources = [
            stack({ preview: true }),
            enabled,
            disabled,
            admin,
            teamAdmin,
            admins,
            newcomer,
            roleAssignment({ name: "admin-owner", principal: admin, role: AZURE_ROLE.Owner }),
            roleAssignment({ name: "admins-owner", principal: admins, role: AZURE_ROLE.Owner, principalType: "Group" }),
            roleAssignment({ name: "newcomer-reader", principal: newcomer, role: AZURE_ROLE.Reader, preview: true }),
            roleAssignment({ name: "outsider-owner", principal: outsiderId, role: AZURE_ROLE.Owner }),
        ];
        const withAnalyze = await runPack(emulator, resources);
        const stackOnly = await runPack(emulator, resources, { sequence: { skipAnalyze: true } });
        assert.deepEqual(stackOnly.analyze, []);
        assert.ok(withAnalyze.of(PRIVILEGED_POLICY).length >= 3, JSON.stringify(withAnalyze.stack, null, 1));
        assert.deepEqual(byUrnAndPolicy(withAnalyze.stack), byUrnAndPolicy(stackOnly.stack));
    });

    describe("one pass for both rules", () => {
        function mixedStack(size: number, privileged: number): StackResource[] {
            const users = Array.from({ length: size }, (_, i) => inTenant(user({ name: `u${i}` }), i % 7 === 0 ? "disabled" : "enabled"));
            const owners = users.slice(0, privileged).map((u, i) => roleAssignment({ name: `owner-${i}`, principal: u, role: AZURE_ROLE.Owner }));
            return [stack(), ...users, ...owners];
        }

        it("decides a 100-user stack, 10 of them privileged, with 7 Graph requests: one per tenant-wide source and 5 batches of 20 for both rules", async () => {
            const run = await runPack(emulator, mixedStack(100, 10), { sequence: { skipAnalyze: true } });
            assert.equal(run.of(PRIVILEGED_POLICY).length, 2);
            assert.equal(run.of(MFA_POLICY).length, 13);
            const graphRequests = emulator.requests.filter((r) => r.endpoint === "graph" || r.endpoint === "batch");
            assert.deepEqual(graphRequests.map((r) => r.subRequests?.length), [1, 1, 20, 20, 20, 20, 20]);
            assert.equal(askedUrls(emulator).filter((url) => url.endsWith("/authentication/requirements")).length, 100);
        });

        it("asks about each user once in a whole preview of that stack, whoever asks first", async () => {
            const run = await runPack(emulator, mixedStack(100, 10));
            assert.equal(run.of(PRIVILEGED_POLICY).length, 2);
            assert.equal(run.of(MFA_POLICY).length, 13);
            const asked = askedUrls(emulator).filter((url) => url.endsWith("/authentication/requirements"));
            assert.equal(asked.length, 100);
            assert.equal(new Set(asked).size, 100);
        });
    });
});
