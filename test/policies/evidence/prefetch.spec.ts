import * as assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../../policies/config";
import { AnalyzedResource, EvidencePrefetch } from "../../../policies/evidence/prefetch";
import { EvidenceRequest, MfaEvidence } from "../../../policies/graph/mfaEvidence";
import { builtInRoleCatalog } from "../../../policies/roles/catalog";

const NOW = new Date("2026-12-01T12:00:00Z");
const OWNER = "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Evidence that records every question and answers "not verified", or throws when told to. */
function recordingEvidence(fail = false): MfaEvidence & { asked: string[]; requests: EvidenceRequest[] } {
    const asked: string[] = [];
    const requests: EvidenceRequest[] = [];
    const answer = (what: string) => async (ids: readonly string[], request: EvidenceRequest) => {
        asked.push(`${what}:${[...ids].join(",")}`);
        requests.push(request);
        if (fail) throw new Error("Graph exploded");
        return new Map(ids.map((id) => [id, { kind: "unverified", reason: "recorded" } as never]));
    };
    const tenant = (what: string) => async (request: EvidenceRequest) => {
        asked.push(what);
        requests.push(request);
        if (fail) throw new Error("Graph exploded");
        return { kind: "value", value: what === "conditionalAccess" ? [] : false } as never;
    };
    return {
        asked,
        requests,
        perUserMfaStates: answer("perUser"),
        mfaCapable: answer("registration"),
        memberships: answer("memberships"),
        groupMemberships: answer("groupMemberships"),
        groupUsers: answer("groupUsers"),
        userProfiles: answer("profiles"),
        authenticationStrengths: answer("strengths"),
        roleEligibilities: answer("eligibilities"),
        conditionalAccessPolicies: tenant("conditionalAccess"),
        securityDefaultsEnabled: tenant("securityDefaults"),
    };
}

function ownerAssignment(name: string, principalId: string): AnalyzedResource {
    return { urn: `urn:pulumi:dev::p::azure-native:authorization:RoleAssignment::${name}`, type: "azure-native:authorization:RoleAssignment", name, props: { principalId, principalType: "User", roleDefinitionId: OWNER, scope: "/subscriptions/00000000-0000-0000-0000-000000000001" } };
}

function prefetchWith(evidence: MfaEvidence): EvidencePrefetch {
    return new EvidencePrefetch({ evidence, catalog: builtInRoleCatalog, now: () => NOW }, 5);
}

describe("EvidencePrefetch", () => {
    it("asks nothing for resources the inventory does not read", async () => {
        const evidence = recordingEvidence();
        const prefetch = prefetchWith(evidence);
        prefetch.observe({ urn: "urn:pulumi:dev::p::azure-native:storage:StorageAccount::data", type: "azure-native:storage:StorageAccount", name: "data", props: { kind: "StorageV2" } }, DEFAULT_CONFIG);
        await prefetch.settled();
        assert.deepEqual(evidence.asked, []);
    });

    it("reads tenant-wide evidence at the first identity resource, within the share of the budget AnalyzeStack gives each source", async () => {
        const evidence = recordingEvidence();
        const prefetch = prefetchWith(evidence);
        prefetch.observe(ownerAssignment("a", "id-a"), { ...DEFAULT_CONFIG, verificationBudgetSeconds: 30 });
        assert.deepEqual(evidence.asked, ["conditionalAccess", "securityDefaults"]);
        await prefetch.settled();
        assert.ok(evidence.requests.length > 2);
        // Three accepted sources by default: AnalyzeStack gives each at least 10 s of its 30 s, and an
        // evaluation of those 10 s gives its first source a third of them.
        assert.deepEqual(evidence.requests.slice(0, 2).map((request) => request.deadline), [NOW.getTime() + 10_000 / 3, NOW.getTime() + 10_000 / 3]);
        assert.ok(evidence.requests.every((request) => request.deadline <= NOW.getTime() + 10_000));
    });

    it("gathers the principals of resources analyzed in quick succession into one question each, never asking about an unknown id", async () => {
        const evidence = recordingEvidence();
        const prefetch = prefetchWith(evidence);
        for (const [name, id] of [["a", "id-a"], ["b", "id-b"], ["new", UNKNOWN]]) prefetch.observe(ownerAssignment(name, id), DEFAULT_CONFIG);
        await prefetch.settled();
        assert.deepEqual(evidence.asked.filter((q) => q.startsWith("perUser")), ["perUser:id-a,id-b"]);
        assert.deepEqual(evidence.asked.filter((q) => q.startsWith("profiles")), ["profiles:id-a,id-b"]);
        assert.ok(evidence.asked.every((q) => !q.includes(UNKNOWN)), evidence.asked.join("\n"));
    });

    it("evaluates nothing more once AnalyzeStack has started, and ignores later resources", async () => {
        const evidence = recordingEvidence();
        const prefetch = prefetchWith(evidence);
        prefetch.observe(ownerAssignment("a", "id-a"), DEFAULT_CONFIG);
        prefetch.stop();
        prefetch.observe(ownerAssignment("b", "id-b"), DEFAULT_CONFIG);
        await prefetch.settled();
        assert.deepEqual(evidence.asked, ["conditionalAccess", "securityDefaults"]);
    });

    it("swallows every failure of the evidence it gathers", async () => {
        const evidence = recordingEvidence(true);
        const prefetch = prefetchWith(evidence);
        prefetch.observe(ownerAssignment("a", "id-a"), DEFAULT_CONFIG);
        await prefetch.settled();
        assert.ok(evidence.asked.includes("conditionalAccess"));
    });
});
