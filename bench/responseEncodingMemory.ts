/**
 * The memory @pulumi/policy spends encoding an AnalyzeStack response of N violations, apart from
 * any pack: the response built as the SDK builds it (one AnalyzeDiagnostic per violation) and
 * serialized with google-protobuf, whose writer keeps each byte as an element of a JavaScript
 * array. Every pack that reports N violations pays it; the SDK floor pack, which reports none,
 * does not, so it counts against "peak RSS within the floor's + 60 MB".
 * `npm run build && node bin/bench/responseEncodingMemory.js [violations] [message characters]`;
 * the defaults are the 10,000-user bench stack's: 3,340 violations of 658 characters on average.
 */
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import { peakRssBytes } from "./processStats";

export function encodeViolations(violations: number, messageChars: number): Uint8Array {
    const message = "x".repeat(messageChars);
    const response = new analyzerPb.AnalyzeResponse();
    response.setDiagnosticsList(
        Array.from({ length: violations }, (_, index) => {
            const diagnostic = new analyzerPb.AnalyzeDiagnostic();
            diagnostic.setPolicyname("entra-non-privileged-user-mfa");
            diagnostic.setPolicypackname("entra-mfa-guard");
            diagnostic.setPolicypackversion("0.1.0");
            diagnostic.setDescription("Checks that every Entra ID user without a privileged role has multi-factor authentication.");
            // Unique strings, as real messages are: each names its user.
            diagnostic.setMessage(`${index} ${message}`);
            diagnostic.setUrn(`urn:pulumi:dev::identity::azuread:index/user:User::user${index}`);
            return diagnostic;
        }),
    );
    return response.serializeBinary();
}

if (require.main === module) {
    const violations = Number(process.argv[2] ?? 3_340);
    const messageChars = Number(process.argv[3] ?? 658);
    const heapBefore = process.memoryUsage().heapUsed;
    const before = peakRssBytes(process.pid);
    const bytes = encodeViolations(violations, messageChars);
    const after = peakRssBytes(process.pid);
    // Heap allocated while encoding, garbage included: what a pack's heap, already large, must find room for.
    const allocated = process.memoryUsage().heapUsed - heapBefore;
    const mb = (value: number) => `${(value / 2 ** 20).toFixed(1)} MB`;
    console.log(
        `${violations} violations of ${messageChars} characters: ${mb(bytes.length)} encoded; heap allocated ${mb(allocated)}; ` +
            `peak RSS ${mb(before)} → ${mb(after)} (+${mb(after - before)}, in a fresh process whose heap also grows to its first size)`,
    );
}
