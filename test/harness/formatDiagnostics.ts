// Renders violations as the "Policies:" block at the end of `pulumi preview`: ProgressDisplay.printPolicies
// and renderDiffPolicyViolationEvent in pulumi/pulumi pkg/backend/display (progress.go, diff.go).
import { Diagnostic, typeAndNameOfUrn } from "./analyzerWire";
import { urnOf } from "./stackResource";

/** A pack that ran, listed even when it reported nothing. */
export interface PackLabel {
    name: string;
    version: string;
    /** The `--policy-pack` path, shown as `(local: path)`. */
    localPath?: string;
}

export interface FormatOptions {
    packs?: PackLabel[];
    /** Where violations that name no resource are shown, as the CLI shows them against the stack. */
    stackUrn?: string;
}

const indentPack = "    ";
const indentViolation = "        ";

/**
 * For example:
 * ```
 * Policies:
 *     ❌ bare-pack@v0.0.1 (local: test/harness/bare-pack)
 *         - [mandatory]  secret-length  (test:index:Secretive: app)
 *           Reports how long a resource's password is, never the password itself.
 *           password has 12 characters
 * ```
 */
export function formatDiagnostics(diagnostics: Diagnostic[], options: FormatOptions = {}): string {
    const stackUrn = options.stackUrn ?? urnOf("pulumi:pulumi:Stack", "identity-dev");
    const packs = new Map<string, { localPath?: string; violations: Diagnostic[] }>();
    const packKey = (name: string, version: string) => `${name}@v${version}`;
    for (const pack of options.packs ?? []) {
        packs.set(packKey(pack.name, pack.version), { localPath: pack.localPath, violations: [] });
    }
    for (const diagnostic of diagnostics) {
        const key = packKey(diagnostic.policyPackName, diagnostic.policyPackVersion);
        const pack = packs.get(key) ?? { violations: [] };
        pack.violations.push(diagnostic);
        packs.set(key, pack);
    }

    const lines = ["Policies:"];
    for (const key of [...packs.keys()].sort()) {
        const { localPath, violations } = packs.get(key)!;
        const status = violations.some((violation) => violation.enforcementLevel === "mandatory")
            ? "❌"
            : violations.length > 0
              ? "⚠️"
              : "✅";
        lines.push(`${indentPack}${status} ${key}${localPath === undefined ? "" : ` (local: ${localPath})`}`);
        const sorted = [...violations].sort(
            (a, b) =>
                compareBytes(a.enforcementLevel, b.enforcementLevel) ||
                compareBytes(a.policyName, b.policyName) ||
                compareBytes(a.urn ?? stackUrn, b.urn ?? stackUrn),
        );
        for (const violation of sorted) {
            const { type, name } = typeAndNameOfUrn(violation.urn ?? stackUrn);
            lines.push(`${indentViolation}- [${violation.enforcementLevel}]  ${violation.policyName}  (${type}: ${name})`);
            for (const messageLine of violation.message.replace(/\n+$/, "").split("\n")) {
                lines.push(`${indentViolation}  ${messageLine}`);
            }
        }
    }
    return lines.join("\n");
}

/** Go's strings.Compare, which the CLI sorts with; `localeCompare` would order case differently. */
function compareBytes(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}
