import * as assert from "node:assert/strict";
import { unknownCheckingProxy } from "@pulumi/policy";
import { DEFAULT_CONFIG } from "../../../policies/config";
import { AnalyzedResource, EvidencePrefetch } from "../../../policies/evidence/prefetch";
import { MfaEvidence } from "../../../policies/graph/mfaEvidence";
import { builtInRoleCatalog } from "../../../policies/roles/catalog";
import { UNKNOWN } from "../../harness/stackResource";
import { recordingEvidence } from "./recordingEvidence";

const NOW = new Date("2026-12-01T12:00:00Z");
const OWNER = "/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635";

function ownerAssignment(name: string, principalId: string): AnalyzedResource {
    return { urn: `urn:pulumi:dev::p::azure-native:authorization:RoleAssignment::${name}`, type: "azure-native:authorization:RoleAssignment", name, props: { principalId, principalType: "User", roleDefinitionId: OWNER, scope: "/subscriptions/00000000-0000-0000-0000-000000000001" } };
}

function stackUser(name: string): AnalyzedResource {
    return { urn: `urn:pulumi:dev::p::azuread:index/user:User::${name}`, type: "azuread:index/user:User", name, props: { userPrincipalName: `${name}@contoso.com`, accountEnabled: true } };
}

/** Evidence in which Graph knows alice@contoso.com by `objectId`. */
function evidenceWithAliceAs(objectId: string) {
    return recordingEvidence(false, { userIds: { "alice@contoso.com": { kind: "value", value: objectId } } });
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

    it("reads tenant-wide evidence once, not again for each resource analyzed after the first", async () => {
        const evidence = recordingEvidence();
        const prefetch = prefetchWith(evidence);
        prefetch.observe(ownerAssignment("a", "id-a"), DEFAULT_CONFIG);
        prefetch.observe(ownerAssignment("b", "id-b"), DEFAULT_CONFIG);
        prefetch.observe(stackUser("alice"), DEFAULT_CONFIG);
        // Before any evaluation (they wait for the debounce): only what the first resource started.
        assert.deepEqual(evidence.asked, ["conditionalAccess", "securityDefaults"]);
        await prefetch.settled();
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

    it("tells each stop whether it had observed a resource the inventory reads, so AnalyzeStack knows its leftovers are on the heap", async () => {
        const prefetch = prefetchWith(recordingEvidence());
        prefetch.observe({ urn: "urn:pulumi:dev::p::azure-native:storage:StorageAccount::data", type: "azure-native:storage:StorageAccount", name: "data", props: {} }, DEFAULT_CONFIG);
        assert.equal(prefetchWith(recordingEvidence()).stop(), false, "nothing observed");
        assert.equal(prefetch.stop(), false, "only a resource the inventory does not read");

        const observing = prefetchWith(recordingEvidence());
        observing.observe(ownerAssignment("a", "id-a"), DEFAULT_CONFIG);
        await observing.settled();
        assert.equal(observing.stop(), true);
        assert.equal(observing.stop(), true, "and again for the next stack policy");
    });

    describe("users known by name", () => {
        it("turns their names into object ids and asks about them as AnalyzeStack will, the assignments naming them the stack's own", async () => {
            const evidence = evidenceWithAliceAs("id-alice");
            const prefetch = prefetchWith(evidence);
            prefetch.observe(stackUser("alice"), DEFAULT_CONFIG);
            prefetch.observe(ownerAssignment("alice-owner", "id-alice"), DEFAULT_CONFIG);
            await prefetch.settled();
            assert.deepEqual(evidence.asked.filter((q) => q.startsWith("userIds")), ["userIds:alice@contoso.com"]);
            assert.ok(evidence.asked.includes("perUser:id-alice"), evidence.asked.join("\n"));
            // A stack user is read from its inputs: Graph is not asked who the assignment's principal is.
            assert.deepEqual(evidence.asked.filter((q) => q.startsWith("profiles")), []);
        });

        it("asks nothing more about a name no user has: the deployment creates that user", async () => {
            const evidence = recordingEvidence(false, { userIds: { "newcomer@contoso.com": { kind: "not-found" } } });
            const prefetch = prefetchWith(evidence);
            prefetch.observe(stackUser("newcomer"), DEFAULT_CONFIG);
            prefetch.observe(ownerAssignment("a", "id-a"), DEFAULT_CONFIG);
            await prefetch.settled();
            prefetch.observe(stackUser("other"), DEFAULT_CONFIG);
            await prefetch.settled();
            assert.deepEqual(evidence.asked.filter((q) => q.startsWith("userIds")), ["userIds:newcomer@contoso.com", "userIds:other@contoso.com"]);
            // Each evaluation still asks about the principals it knows, never about the new user.
            assert.deepEqual(evidence.asked.filter((q) => q.startsWith("perUser")), ["perUser:id-a", "perUser:id-a"]);
        });

        it("asks by name only for users whose name is known and whose object id is not, within the prefetch's deadline", async () => {
            const evidence = recordingEvidence(false, { userIds: { "carol@contoso.com": { kind: "value", value: "id-carol" } } });
            const prefetch = prefetchWith(evidence);
            const user = (name: string, props: Record<string, unknown>): AnalyzedResource => ({ ...stackUser(name), props: unknownCheckingProxy(props) });
            // The name itself unknown during preview: nothing to ask, and nothing else may break on it.
            prefetch.observe(user("dave", { userPrincipalName: UNKNOWN, accountEnabled: true }), DEFAULT_CONFIG);
            // Another input unknown: the name is still asked.
            prefetch.observe(user("carol", { userPrincipalName: "carol@contoso.com", accountEnabled: UNKNOWN }), DEFAULT_CONFIG);
            // The object id already known: no name to resolve.
            prefetch.observe(user("erin", { userPrincipalName: "erin@contoso.com", objectId: "id-erin" }), DEFAULT_CONFIG);
            await prefetch.settled();

            const byName = evidence.asked.findIndex((q) => q.startsWith("userIds"));
            assert.deepEqual(evidence.asked.filter((q) => q.startsWith("userIds")), ["userIds:carol@contoso.com"]);
            // The prefetch's deadline: the share of the budget AnalyzeStack gives one source (120 s / 3).
            assert.equal(evidence.requests[byName].deadline, NOW.getTime() + 40_000);
            assert.deepEqual(evidence.asked.filter((q) => q.startsWith("perUser")), ["perUser:id-carol,id-erin"]);
        });

        it("asks a name once, however many resources name it, and asks nothing by name when no name is new", async () => {
            const evidence = evidenceWithAliceAs("id-alice");
            const prefetch = prefetchWith(evidence);
            prefetch.observe(stackUser("alice"), DEFAULT_CONFIG);
            await prefetch.settled();
            prefetch.observe({ ...stackUser("alice"), urn: `${stackUser("alice").urn}-again` }, DEFAULT_CONFIG);
            prefetch.observe(ownerAssignment("b", "id-b"), DEFAULT_CONFIG);
            await prefetch.settled();
            assert.deepEqual(evidence.asked.filter((q) => q.startsWith("userIds")), ["userIds:alice@contoso.com"]);
        });

        it("answers the advisory from names already resolved, without asking again", async () => {
            const evidence = evidenceWithAliceAs("ID-ALICE");
            const prefetch = prefetchWith(evidence);
            prefetch.observe(stackUser("alice"), DEFAULT_CONFIG);
            await prefetch.settled();
            const alice = await prefetch.stackUser("id-alice", { deadline: Date.now() + 5_000 });
            assert.equal(alice?.urn, stackUser("alice").urn);
            assert.deepEqual(evidence.asked.filter((q) => q.startsWith("userIds")), ["userIds:alice@contoso.com"]);
        });

        it("does not ask names for the advisory once its deadline has passed", async () => {
            const evidence = evidenceWithAliceAs("id-alice");
            const prefetch = prefetchWith(evidence);
            prefetch.observe(stackUser("alice"), DEFAULT_CONFIG);
            assert.equal(await prefetch.stackUser("id-alice", { deadline: Date.now() - 1 }), undefined);
            assert.deepEqual(evidence.asked.filter((q) => q.startsWith("userIds")), []);
            await prefetch.settled();
        });

        it("asks a name again at the next evaluation when Graph gave no answer for it", async () => {
            let calls = 0;
            const evidence = recordingEvidence(false, {
                userIds: { "alice@contoso.com": () => (++calls === 1 ? { kind: "unverified", reason: "HTTP 503" } : { kind: "value", value: "id-alice" }) },
            });
            const prefetch = prefetchWith(evidence);
            prefetch.observe(stackUser("alice"), DEFAULT_CONFIG);
            await prefetch.settled();
            prefetch.observe(stackUser("bob"), DEFAULT_CONFIG);
            await prefetch.settled();
            assert.deepEqual(evidence.asked.filter((q) => q.startsWith("userIds")), ["userIds:alice@contoso.com", "userIds:alice@contoso.com,bob@contoso.com"]);
            assert.ok(evidence.asked.includes("perUser:id-alice"), evidence.asked.join("\n"));
        });

        it("gives the advisory the stack's user for an object id, with that id, and nothing for an id no user resource has", async () => {
            const evidence = evidenceWithAliceAs("ID-ALICE");
            const prefetch = prefetchWith(evidence);
            prefetch.observe(stackUser("alice"), DEFAULT_CONFIG);
            const request = { deadline: Date.now() + 5_000 };
            const alice = await prefetch.stackUser("id-alice", request);
            assert.equal(alice?.urn, stackUser("alice").urn);
            assert.deepEqual(alice?.props, { userPrincipalName: "alice@contoso.com", accountEnabled: true, objectId: "id-alice" });
            assert.equal(await prefetch.stackUser("id-outsider", request), undefined);
            await prefetch.settled();
        });
    });

    it("reads only the tenant-wide evidence the settings accept", async () => {
        const evidence = recordingEvidence();
        const prefetch = prefetchWith(evidence);
        prefetch.observe(ownerAssignment("a", "id-a"), { ...DEFAULT_CONFIG, acceptedEvidence: ["perUserMfa"] });
        await prefetch.settled();
        assert.deepEqual(evidence.asked, ["profiles:id-a", "perUser:id-a"]);
    });

    it("keeps gathering for resources analyzed long after the first, each evaluation within a share counted from its own start", async () => {
        const evidence = recordingEvidence();
        let now = NOW.getTime();
        const prefetch = new EvidencePrefetch({ evidence, catalog: builtInRoleCatalog, now: () => new Date(now) }, 5);
        prefetch.observe(ownerAssignment("a", "id-a"), DEFAULT_CONFIG);
        await prefetch.settled();
        // Minutes later, as a program that registers its resources slowly: past the first evaluation's share.
        now = NOW.getTime() + 300_000;
        prefetch.observe(ownerAssignment("b", "id-b"), DEFAULT_CONFIG);
        await prefetch.settled();
        const perUser = evidence.asked.flatMap((q, index) => (q.startsWith("perUser") ? [[q, evidence.requests[index].deadline]] : []));
        // The share of the default 120 s budget one of three sources gets, from each evaluation's start.
        assert.deepEqual(perUser.map(([q]) => q), ["perUser:id-a", "perUser:id-a,id-b"]);
        assert.ok((perUser[1][1] as number) > now && (perUser[1][1] as number) <= now + 40_000, `deadline ${perUser[1][1]}`);
    });

    it("asks every question as one that takes a failure already in as its answer, so no evaluation sends a failed one again", async () => {
        const evidence = recordingEvidence();
        const prefetch = prefetchWith(evidence);
        prefetch.observe(stackUser("alice"), DEFAULT_CONFIG);
        prefetch.observe(ownerAssignment("a", "id-a"), DEFAULT_CONFIG);
        await prefetch.settled();
        assert.ok(evidence.asked.includes("userIds:alice@contoso.com") && evidence.asked.includes("perUser:id-a"), evidence.asked.join("\n"));
        assert.deepEqual(
            evidence.requests.map((request) => request.acceptFailures),
            evidence.requests.map(() => true),
        );
    });

    it("evaluates while resources keep arriving, rather than after the last one", async () => {
        const evidence = recordingEvidence();
        const prefetch = prefetchWith(evidence);
        // Resources arrive with gaps far shorter than the 5 ms between evaluations, for 150 ms.
        let askedBeforeLast = false;
        const until = Date.now() + 150;
        for (let index = 0; Date.now() < until; index++) {
            prefetch.observe(ownerAssignment(`a${index}`, `id-${index}`), DEFAULT_CONFIG);
            await new Promise((resolve) => setImmediate(resolve));
            askedBeforeLast ||= evidence.asked.some((q) => q.startsWith("perUser"));
        }
        await prefetch.settled();
        assert.ok(askedBeforeLast, "no evaluation ran before the last resource arrived");
    });

    it("asks nothing more once AnalyzeStack starts, even from an evaluation already waiting on Graph", async () => {
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        const evidence = evidenceWithAliceAs("id-alice");
        const userIds = evidence.userIdsByPrincipalName;
        evidence.userIdsByPrincipalName = async (names, request) => {
            await held;
            return userIds(names, request);
        };
        const prefetch = prefetchWith(evidence);
        prefetch.observe(stackUser("alice"), DEFAULT_CONFIG);
        prefetch.observe(ownerAssignment("alice-owner", "id-alice"), DEFAULT_CONFIG);
        await new Promise((resolve) => setTimeout(resolve, 50));
        prefetch.stop();
        release();
        await prefetch.settled();
        assert.deepEqual(evidence.asked.filter((q) => q.startsWith("perUser") || q.startsWith("profiles")), []);
    });

    it("swallows every failure of the evidence it gathers", async () => {
        const evidence = recordingEvidence(true);
        const prefetch = prefetchWith(evidence);
        prefetch.observe(ownerAssignment("a", "id-a"), DEFAULT_CONFIG);
        await prefetch.settled();
        assert.ok(evidence.asked.includes("conditionalAccess"));
    });
});
