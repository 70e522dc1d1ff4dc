import * as assert from "assert";

import { Diagnostic } from "./analyzerWire";
import { formatDiagnostics } from "./formatDiagnostics";

function advisoryOf(overrides: Partial<Diagnostic> = {}): Diagnostic {
    return {
        policyName: "dependency-report",
        policyPackName: "bare-pack",
        policyPackVersion: "0.0.1",
        description: "Reports dependencies.",
        message: "Reports dependencies.\nfirst line\nsecond line\n",
        enforcementLevel: "advisory",
        ...overrides,
    };
}

describe("formatDiagnostics", () => {
    it("marks a pack with only advisories with a warning and shows a URN-less violation against the stack", () => {
        assert.strictEqual(
            formatDiagnostics([advisoryOf()]),
            [
                "Policies:",
                "    ⚠️ bare-pack@v0.0.1",
                "        - [advisory]  dependency-report  (pulumi:pulumi:Stack: identity-dev)",
                "          Reports dependencies.",
                "          first line",
                "          second line",
            ].join("\n"),
        );
    });

    it("lists a pack that reported nothing as passed, sorted among the others by name and version", () => {
        const formatted = formatDiagnostics([advisoryOf({ urn: "urn:pulumi:dev::identity::test:index:Parent$test:index:Child::kid" })], {
            packs: [{ name: "quiet-pack", version: "2.0.0", localPath: "packs/quiet" }],
        });

        assert.deepStrictEqual(formatted.split("\n").slice(0, 4), [
            "Policies:",
            "    ⚠️ bare-pack@v0.0.1",
            "        - [advisory]  dependency-report  (test:index:Child: kid)",
            "          Reports dependencies.",
        ]);
        assert.strictEqual(formatted.split("\n").at(-1), "    ✅ quiet-pack@v2.0.0 (local: packs/quiet)");
    });
});
