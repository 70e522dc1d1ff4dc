import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";

// Compiled specs run from bin/test/corpus/, the data stays in the source tree.
const corpusDir = path.resolve(__dirname, "../../../test/corpus/conditionalAccess");
const casesFile = "cases.json";

const policyFiles = fs.readdirSync(corpusDir).filter((name) => name.endsWith(".json") && name !== casesFile).sort();
const readJson = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(corpusDir, name), "utf8"));

const policyStates = ["enabled", "disabled", "enabledForReportingButNotEnforced"];
const verdicts = ["covered", "not-covered", "unknown"];
const corpusUsers = ["member", "admin", "guest"];

const policySchema = {
    type: "object",
    required: ["displayName", "state", "conditions", "grantControls"],
    properties: {
        displayName: { type: "string", minLength: 1 },
        state: { enum: policyStates },
        conditions: { type: "object", required: ["users", "applications"] },
        grantControls: { type: ["object", "null"] },
    },
};

const perUser = (value: object) => ({
    type: "object",
    required: corpusUsers,
    additionalProperties: false,
    properties: Object.fromEntries(corpusUsers.map((user) => [user, value])),
});

const casesSchema = {
    type: "object",
    required: ["cases"],
    properties: {
        cases: {
            type: "array",
            minItems: 1,
            items: {
                type: "object",
                required: ["name", "policies", "enable", "expected", "why"],
                additionalProperties: false,
                properties: {
                    name: { type: "string", minLength: 1 },
                    policies: { type: "array", minItems: 1, uniqueItems: true, items: { type: "string" } },
                    enable: { type: "boolean" },
                    applications: { type: "array", minItems: 1, items: { type: "string", minLength: 1 } },
                    expected: perUser({ enum: verdicts }),
                    why: perUser({ type: "string", minLength: 1 }),
                },
            },
        },
    },
};

interface CorpusCase {
    name: string;
    policies: string[];
    enable: boolean;
    applications?: string[];
    expected: Record<string, string>;
    why: Record<string, string>;
}

/** A beta export annotates objects with `@odata.type` and properties with `<name>@odata.type`. */
function hasBetaAnnotations(policy: Record<string, unknown>): boolean {
    const conditions = policy.conditions as Record<string, unknown>;
    const annotatesProperties = JSON.stringify(policy).match(/"[A-Za-z]+@odata\.type":/g) ?? [];
    return typeof conditions["@odata.type"] === "string" && annotatesProperties.length > 0;
}

describe("Conditional Access corpus", () => {
    const ajv = new Ajv({ allErrors: true });

    it("holds at least 15 policy files", () => {
        assert.ok(policyFiles.length >= 15, `only ${policyFiles.length} policy files`);
    });

    it("has every policy file parse as a conditionalAccessPolicy with an allowed state", () => {
        const validate = ajv.compile(policySchema);
        for (const name of policyFiles) {
            const policy = readJson(name);
            assert.ok(validate(policy), `${name}: ${ajv.errorsText(validate.errors)}`);
        }
    });

    it("keeps the OData annotations of a beta export in at least 4 files", () => {
        const annotated = policyFiles.filter((name) => hasBetaAnnotations(readJson(name) as Record<string, unknown>));
        assert.ok(annotated.length >= 4, `annotated files: ${annotated.join(", ") || "none"}`);
    });

    describe(casesFile, () => {
        const corpus = readJson(casesFile) as { cases: CorpusCase[] };

        it("matches the case schema: three users, a known verdict and a reason each", () => {
            const validate = ajv.compile(casesSchema);
            assert.ok(validate(corpus), ajv.errorsText(validate.errors));
        });

        it("names only policy files that exist", () => {
            const missing = corpus.cases.flatMap((c) => c.policies.filter((file) => !policyFiles.includes(file)).map((file) => `${c.name}: ${file}`));
            assert.deepEqual(missing, []);
        });

        it("gives every policy file a case of its own", () => {
            const alone = new Set(corpus.cases.filter((c) => c.policies.length === 1).map((c) => c.policies[0]));
            assert.deepEqual(policyFiles.filter((file) => !alone.has(file)), []);
        });

        it("has at least 3 multi-policy cases", () => {
            const combined = corpus.cases.filter((c) => c.policies.length > 1);
            assert.ok(combined.length >= 3, `only ${combined.length} multi-policy cases`);
        });

        it("gives every case a distinct name", () => {
            const names = corpus.cases.map((c) => c.name);
            assert.deepEqual(names.filter((name, index) => names.indexOf(name) !== index), []);
        });
    });

    it("has the README give the provenance of every policy file", () => {
        const readme = fs.readFileSync(path.join(corpusDir, "README.md"), "utf8");
        assert.deepEqual(policyFiles.filter((file) => !readme.includes(file)), []);
    });
});
