import * as assert from "node:assert/strict";
import { GraphEmulator } from "../emulator/graphEmulator";
import { AZURE_ROLE, roleAssignment, stack, user } from "../fixtures/resources";
import { emulatorPerSuite, MFA_POLICY, PRIVILEGED_POLICY, runPack, sharedCauses, tenantUser, unverifiedUserDiagnostics } from "./packUnderTest";

/** A sign-in that fails for every user is said once, with its real cause and its fix; each user refers to it. */
describe("sign-in errors, through the engine protocol", function () {
    this.timeout(60_000);
    let emulator!: GraphEmulator;
    emulatorPerSuite((started) => (emulator = started));

    function twoUsers() {
        const reader = user({ name: "reader" });
        const owner = user({ name: "owner" });
        for (const u of [reader, owner]) emulator.upsertUser(tenantUser(u, "disabled"));
        return [stack(), reader, owner, roleAssignment({ name: "reader", principal: reader, role: AZURE_ROLE.Reader }), roleAssignment({ name: "owner", principal: owner, role: AZURE_ROLE.Owner })];
    }

    it("names a malformed AZURE_TENANT_ID as the cause, once, instead of 'ChainedTokenCredential authentication failed'", async () => {
        const run = await runPack(emulator, twoUsers(), { env: { AZURE_TENANT_ID: "garbage!!" } });
        assert.deepEqual([...run.of(MFA_POLICY), ...run.of(PRIVILEGED_POLICY)], []);
        const causes = sharedCauses(run);
        assert.equal(causes.length, 1, causes.join("\n"));
        assert.match(causes[0], /Could not verify MFA for 2 users \(cause 1\):\n  could not sign in: AZURE_TENANT_ID is 'garbage!!', which is not a tenant id: set it to the tenant's id \(a GUID\) or a verified domain/);
        assert.ok(!run.output.includes("ChainedTokenCredential"), "the chained credential's summary hides the cause");
        assert.ok(!/set AZURE_TENANT_ID and/.test(run.output), "advice to set a variable that is set");
        // Each user's own line refers to the cause in a few words rather than repeating it.
        for (const diagnostic of run.of("entra-mfa-unverified-users").filter((d) => /MFA not verified/.test(d.message))) {
            assert.match(diagnostic.message, /- cause 1 above \(could not sign in: AZURE_TENANT_ID is 'garbage!!'/);
            assert.ok(diagnostic.message.length < 400, diagnostic.message);
        }
        assert.equal(unverifiedUserDiagnostics(run).length, 2);
        assert.equal(emulator.tokensIssued, 0);
    });
});
