// Reads a `pulumi stack export` file (an `apitype.UntypedDeployment` holding a `DeploymentV3`) into the
// resources `pulumi policy analyze --file` sends to a policy pack. Field names are the JSON tags of
// `ResourceV3` in https://github.com/pulumi/pulumi/blob/master/sdk/go/common/apitype/core.go.
import { typeAndNameOfUrn } from "./analyzerWire";
import { SECRET_SIGNATURE, SECRET_SIGNATURE_KEY, secret, StackResource } from "./stackResource";

/** One resource of a deployment's snapshot, as `pulumi stack export` writes it. */
export interface ExportedResource {
    urn: string;
    type: string;
    custom?: boolean;
    id?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    parent?: string;
    dependencies?: string[];
    propertyDependencies?: Record<string, string[]>;
    provider?: string;
    /** Replaced and waiting to be deleted: the engine no longer counts it as part of the stack. */
    delete?: boolean;
    /** Deleted ahead of its replacement (delete-before-replace); still in the snapshot until then. */
    pendingReplacement?: boolean;
    /** Read with `.get()` or imported as external: the stack does not manage it. */
    external?: boolean;
}

export interface StackExport {
    version: number;
    deployment: {
        manifest?: Record<string, unknown>;
        secrets_providers?: { type: string; state?: unknown };
        resources?: ExportedResource[];
    };
}

/**
 * What the engine does with the export's secrets: decrypt them (plaintext ones need nothing; ciphertext
 * ones need `decrypt`), or, when it cannot, send every secret as the secret-wrapped string `"[secret]"`.
 */
export type SecretHandling = { decrypt?: (ciphertext: string) => string } | "undecryptable";

/** The value every secret is sent as when the export's secrets could not be decrypted. */
export const UNDECRYPTABLE_SECRET = "[secret]";

/** The resources of an export, split into those the engine analyzes and the URNs of those it skips. */
export interface ExportedStack {
    analyzed: StackResource[];
    /** Resources waiting to be deleted; `pulumi policy analyze` leaves them out of every call. */
    skipped: ExportedResource[];
    /** Resources read with `.get()`: analyzed by `policy analyze`, never sent during `pulumi preview`. */
    external: string[];
}

/** Parses and checks the envelope of a `pulumi stack export` document. */
export function parseStackExport(text: string): StackExport {
    const parsed = JSON.parse(text) as Partial<StackExport>;
    if (parsed.version !== 3 || typeof parsed.deployment !== "object" || parsed.deployment === null) {
        throw new Error(`not a version 3 stack export (version ${JSON.stringify(parsed.version)})`);
    }
    return parsed as StackExport;
}

/**
 * The resources `pulumi policy analyze --file` analyzes, in snapshot order, in the engine's wire encoding:
 * resources marked `delete` are skipped; read (external) ones are kept; secrets become wire envelopes.
 *
 * For example:
 * ```ts
 * const { analyzed } = resourcesOfExport(parseStackExport(readFileSync("state.json", "utf8")), "undecryptable");
 * ```
 */
export function resourcesOfExport(exported: StackExport, secrets: SecretHandling): ExportedStack {
    const analyzed: StackResource[] = [];
    const skipped: ExportedResource[] = [];
    const external: string[] = [];
    for (const resource of exported.deployment.resources ?? []) {
        if (resource.delete === true) {
            skipped.push(resource);
            continue;
        }
        if (resource.external === true) external.push(resource.urn);
        analyzed.push({
            urn: resource.urn,
            type: resource.type,
            name: typeAndNameOfUrn(resource.urn).name,
            inputs: wireProperties(resource.inputs ?? {}, secrets),
            outputs: wireProperties(resource.outputs ?? {}, secrets),
            parent: resource.parent,
            dependencies: resource.dependencies ?? [],
            propertyDependencies: resource.propertyDependencies ?? {},
            provider: resource.provider,
        });
    }
    return { analyzed, skipped, external };
}

function wireProperties(properties: Record<string, unknown>, secrets: SecretHandling): Record<string, unknown> {
    return Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, wireValue(value, secrets)]));
}

/** A stored value in the wire encoding: a stored secret (`ciphertext` or `plaintext`) becomes `secret(value)`. */
function wireValue(value: unknown, secrets: SecretHandling): unknown {
    if (Array.isArray(value)) return value.map((element) => wireValue(element, secrets));
    if (typeof value !== "object" || value === null) return value;
    const stored = value as Record<string, unknown>;
    if (stored[SECRET_SIGNATURE_KEY] !== SECRET_SIGNATURE) return wireProperties(stored, secrets);
    if (secrets === "undecryptable") return secret(UNDECRYPTABLE_SECRET);
    // The stored plaintext is the value's own JSON (apitype SecretV1), which may hold further secrets.
    return secret(wireValue(JSON.parse(plaintextOf(stored, secrets)), secrets));
}

function plaintextOf(stored: Record<string, unknown>, secrets: { decrypt?: (ciphertext: string) => string }): string {
    if (typeof stored.plaintext === "string") return stored.plaintext;
    if (typeof stored.ciphertext !== "string") throw new Error("a stored secret has neither plaintext nor ciphertext");
    if (secrets.decrypt === undefined) throw new Error("the export holds encrypted secrets; pass `decrypt`, or analyze them as undecryptable");
    return secrets.decrypt(stored.ciphertext);
}
