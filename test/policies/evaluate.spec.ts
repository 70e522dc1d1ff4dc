import * as assert from "node:assert/strict";
import { DEFAULT_CONFIG, MfaPolicyConfig } from "../../policies/config";
import { evaluateNonPrivilegedUsers, isExpired, UserVerdict } from "../../policies/evaluate";
import { EvidenceRequest, MfaEvidence } from "../../policies/graph/mfaEvidence";
import { PerUserMfaAnswer } from "../../policies/graph/perUserMfa";
import { HeldRole, Inventory, InventoryUser } from "../../policies/inventory/types";

const NOW = new Date("2026-11-24T12:00:00Z");

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
        ...extra,
    };
}

const owner: HeldRole = { name: "Owner", reference: "owner", system: "azure-rbac", assignmentUrn: "urn:a" };

/** Evidence that answers from a table and records what it was asked. */
function scriptedEvidence(answers: Record<string, PerUserMfaAnswer>): MfaEvidence & { asked: { ids: string[]; request: EvidenceRequest }[] } {
    const asked: { ids: string[]; request: EvidenceRequest }[] = [];
    return {
        asked,
        async perUserMfaStates(ids, request) {
            asked.push({ ids: [...ids], request });
            return new Map(ids.map((id) => [id, answers[id] ?? { kind: "unverified", reason: "not scripted" }]));
        },
    };
}

async function evaluate(users: InventoryUser[], evidence: MfaEvidence, config: Partial<MfaPolicyConfig> = {}): Promise<UserVerdict[]> {
    const inventory: Inventory = { users, problems: [] };
    return (await evaluateNonPrivilegedUsers(inventory, { config: { ...DEFAULT_CONFIG, ...config }, evidence, now: NOW })).verdicts;
}

const kinds = (verdicts: UserVerdict[]) => verdicts.map((v) => [v.user.displayName, v.kind]);

describe("evaluateNonPrivilegedUsers", () => {
    it("passes enabled and enforced, fails disabled, null and missing, and asks once for all of them", async () => {
        const evidence = scriptedEvidence({
            "id-a": { kind: "state", state: "enabled" },
            "id-b": { kind: "state", state: "enforced" },
            "id-c": { kind: "state", state: "disabled" },
            "id-d": { kind: "state", state: null },
            "id-e": { kind: "state", state: undefined },
            "id-f": { kind: "state", state: "unknownFutureValue" },
        });
        const verdicts = await evaluate(["a", "b", "c", "d", "e", "f"].map((n) => inventoryUser(n)), evidence);
        assert.deepEqual(kinds(verdicts), [
            ["a@contoso.com", "compliant"],
            ["b@contoso.com", "compliant"],
            ["c@contoso.com", "noncompliant"],
            ["d@contoso.com", "noncompliant"],
            ["e@contoso.com", "noncompliant"],
            ["f@contoso.com", "noncompliant"],
        ]);
        assert.equal(evidence.asked.length, 1);
        assert.deepEqual(evidence.asked[0].ids, ["id-a", "id-b", "id-c", "id-d", "id-e", "id-f"]);
        assert.equal(evidence.asked[0].request.deadline, NOW.getTime() + 120_000);
    });

    it("never asks about privileged users", async () => {
        const evidence = scriptedEvidence({});
        const verdicts = await evaluate([inventoryUser("boss", { roles: [owner] })], evidence);
        assert.deepEqual(kinds(verdicts), [["boss@contoso.com", "out-of-scope"]]);
        assert.deepEqual(evidence.asked, []);
    });

    it("turns a Graph failure into unverified, never into a pass or a fail", async () => {
        const verdicts = await evaluate([inventoryUser("a")], scriptedEvidence({ "id-a": { kind: "unverified", reason: "HTTP 403" } }));
        assert.equal(verdicts[0].kind, "unverified");
        assert.equal((verdicts[0] as Extract<UserVerdict, { kind: "unverified" }>).reason, "HTTP 403");
    });

    it("turns evidence that throws into unverified for every user", async () => {
        const throwing: MfaEvidence = { perUserMfaStates: async () => { throw new Error("socket hang up"); } };
        const verdicts = await evaluate([inventoryUser("a"), inventoryUser("b")], throwing);
        assert.deepEqual(verdicts.map((v) => v.kind), ["unverified", "unverified"]);
        assert.match((verdicts[0] as Extract<UserVerdict, { kind: "unverified" }>).reason, /socket hang up/);
    });

    it("fails a user created by this deployment without asking Graph", async () => {
        const evidence = scriptedEvidence({});
        const verdicts = await evaluate([inventoryUser("new", { objectId: undefined, isNew: true })], evidence);
        assert.equal(verdicts[0].kind, "noncompliant");
        assert.equal((verdicts[0] as Extract<UserVerdict, { kind: "noncompliant" }>).newAccount, true);
        assert.deepEqual(evidence.asked, []);
    });

    it("calls a user whose object id could not be read unverified", async () => {
        const verdicts = await evaluate([inventoryUser("odd", { objectId: undefined })], scriptedEvidence({}));
        assert.equal(verdicts[0].kind, "unverified");
    });

    it("leaves guests and disabled accounts out only when configured to", async () => {
        const users = [inventoryUser("guest", { isGuest: true }), inventoryUser("off", { accountEnabled: false })];
        const evidence = scriptedEvidence({ "id-guest": { kind: "state", state: "disabled" }, "id-off": { kind: "state", state: "disabled" } });
        assert.deepEqual((await evaluate(users, evidence)).map((v) => v.kind), ["noncompliant", "out-of-scope"]);
        assert.deepEqual((await evaluate(users, evidence, { includeGuests: false, includeDisabledAccounts: true })).map((v) => v.kind), ["out-of-scope", "noncompliant"]);
    });

    it("exempts by UPN or object id, case-insensitively, until the end of the expiry day", async () => {
        const evidence = scriptedEvidence({ "id-b": { kind: "state", state: "disabled" } });
        const verdicts = await evaluate([inventoryUser("a"), inventoryUser("b")], evidence, {
            exemptions: [
                { user: "A@CONTOSO.COM", reason: "break glass" },
                { user: "id-b", reason: "migration", expires: "2026-11-23" },
            ],
        });
        assert.deepEqual(verdicts.map((v) => v.kind), ["exempt", "noncompliant"]);
        assert.equal(verdicts[1].expiredExemption?.reason, "migration");
    });
});

describe("isExpired", () => {
    it("counts the whole expiry day, in UTC", () => {
        assert.equal(isExpired({ user: "x", reason: "r", expires: "2026-11-24" }, NOW), false);
        assert.equal(isExpired({ user: "x", reason: "r", expires: "2026-11-23" }, NOW), true);
        assert.equal(isExpired({ user: "x", reason: "r" }, NOW), false);
    });

    it("treats an unreadable date as expired rather than as forever", () => {
        assert.equal(isExpired({ user: "x", reason: "r", expires: "2026-13-45" }, NOW), true);
    });
});
