import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { conditionalAccessPolicyFromGraph } from "../../policies/evidence/conditionalAccess";
import { conditionalAccessCoverage, UserFacts } from "../../policies/evidence/coverage";
import { memberFacts } from "../policies/evidence/userFactsFixture";

/** The corpus sits in the sources; compiled tests run from bin/test/corpus. */
const CORPUS = path.resolve(__dirname, "..", "..", "..", "test", "corpus", "conditionalAccess");

type Expected = "covered" | "not-covered" | "unknown";
interface CorpusCase {
    name: string;
    policies: string[];
    enable: boolean;
    applications?: string[];
    expected: Record<"member" | "admin" | "guest", Expected>;
    why: Record<"member" | "admin" | "guest", string>;
}

const GLOBAL_ADMINISTRATOR = "62e90394-69f5-4237-9190-012177145e10";

/** The corpus's three users (see its README): every fact read, none in any group a policy names. */
const USERS: Record<"member" | "admin" | "guest", UserFacts> = {
    member: memberFacts({}),
    admin: memberFacts({ roleTemplateIds: new Set([GLOBAL_ADMINISTRATOR]) }),
    guest: memberFacts({ objectId: "11111111-2222-3333-4444-555555555555", guestKind: "b2bCollaborationGuest" }),
};

function policyFile(name: string): unknown {
    return JSON.parse(readFileSync(path.join(CORPUS, name), "utf8"));
}

/**
 * Real Conditional Access policies from public baselines and Microsoft's docs, read unchanged
 * (beta exports keep every OData annotation), each case with the verdict Microsoft's documented
 * semantics give for a member, an admin and a guest (test/corpus/conditionalAccess/README.md).
 */
describe("Conditional Access coverage on real exported policies (test/corpus/conditionalAccess)", () => {
    const { cases } = JSON.parse(readFileSync(path.join(CORPUS, "cases.json"), "utf8")) as { cases: CorpusCase[] };

    it("has the cases the corpus promises", () => {
        assert.ok(cases.length >= 15, `${cases.length} cases`);
        assert.ok(cases.filter((c) => c.policies.length > 1).length >= 3);
    });

    for (const corpusCase of cases) {
        it(corpusCase.name, () => {
            const policies = corpusCase.policies.map((file) => {
                const raw = policyFile(file) as Record<string, unknown>;
                return conditionalAccessPolicyFromGraph(corpusCase.enable ? { ...raw, state: "enabled" } : raw);
            });
            const coverage = conditionalAccessCoverage(policies, { acceptedApplications: corpusCase.applications ?? ["All"] });
            const actual = Object.fromEntries((["member", "admin", "guest"] as const).map((who) => [who, coverage(USERS[who]).kind]));
            assert.deepEqual(actual, corpusCase.expected, `why: ${JSON.stringify(corpusCase.why, null, 2)}\nverdicts: ${JSON.stringify((["member", "admin", "guest"] as const).map((who) => coverage(USERS[who])), null, 2)}`);
        });
    }
});
