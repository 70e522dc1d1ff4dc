import * as assert from "node:assert/strict";
import { GraphEmulator } from "../emulator/graphEmulator";
import { conditionalAccessPolicy, group, guidFrom } from "../fixtures/resources";
import { emulatorPerSuite, runPack } from "./packUnderTest";

const POLICY = "entra-conditional-access-mfa-enforced";

/** Analyze-time warnings on one Conditional Access policy resource, through the engine protocol. */
describe("entra-conditional-access-mfa-enforced, through the engine protocol", function () {
    this.timeout(60_000);
    let emulator!: GraphEmulator;
    emulatorPerSuite((started) => (emulator = started));

    async function warningsFor(resource: ReturnType<typeof conditionalAccessPolicy>, config?: Record<string, unknown>) {
        const run = await runPack(emulator, [resource], config ? { config: { [POLICY]: config } } : {});
        const warnings = run.analyze.filter((d) => d.policyName === POLICY);
        assert.ok(warnings.every((d) => d.urn === resource.urn && d.enforcementLevel === "advisory"));
        return warnings.map((d) => d.message);
    }

    it("says nothing of an enabled policy that requires MFA and excludes nobody", async () => {
        assert.deepEqual(await warningsFor(conditionalAccessPolicy({ name: "mfa", displayName: "Require MFA" })), []);
    });

    for (const [state, said] of [["enabledForReportingButNotEnforced", "is report-only"], ["disabled", "is disabled"]] as const) {
        it(`warns that a policy requiring MFA ${said} enforces nothing`, async () => {
            const messages = await warningsFor(conditionalAccessPolicy({ name: "mfa", displayName: "Require MFA", state }));
            assert.equal(messages.length, 1);
            assert.match(messages[0], new RegExp(`'Require MFA' requires MFA but ${said}`));
        });
    }

    it("says nothing of a disabled policy that does not require MFA", async () => {
        assert.deepEqual(await warningsFor(conditionalAccessPolicy({ name: "device", state: "disabled", builtInControls: ["compliantDevice"] })), []);
    });

    it("warns of an exclusion with no recorded reason, and accepts one listed in allowedExclusions", async () => {
        const breakGlass = group({ name: "break-glass" });
        const excluding = conditionalAccessPolicy({ name: "mfa", displayName: "Require MFA", excludedGroups: [breakGlass] });
        const groupId = String(breakGlass.outputs.objectId);
        const [message] = await warningsFor(excluding);
        assert.match(message, new RegExp(`excludes ${groupId} from MFA with no reason recorded`));
        assert.deepEqual(await warningsFor(excluding, { allowedExclusions: [{ id: groupId.toUpperCase(), reason: "Emergency access" }] }), []);
    });

    it("cannot judge, and so does not warn of, an exclusion of a group created by the same preview", async () => {
        const newGroup = group({ name: "new-group", preview: true });
        const excluding = conditionalAccessPolicy({ name: "mfa", displayName: "Require MFA", excludedGroups: [newGroup], preview: true });
        assert.deepEqual(await warningsFor(excluding), []);
    });

    it("warns of excluded users too", async () => {
        const userId = guidFrom("user:contractor");
        const [message] = await warningsFor(conditionalAccessPolicy({ name: "mfa", displayName: "Require MFA", excludedUsers: [userId] }));
        assert.match(message, new RegExp(`excludes ${userId}`));
    });
});
