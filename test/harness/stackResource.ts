/**
 * A resource as the Pulumi engine describes it to a policy pack: `inputs` go to `Analyze`
 * (before the provider runs, so output-only fields are absent) and `outputs` to `AnalyzeStack`.
 * Property bags are plain JSON in the engine's wire encoding: an unknown is the `UNKNOWN`
 * sentinel string and a secret is the envelope `secret(value)` builds.
 */
export interface StackResource {
    urn: string;
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
    parent?: string;
    dependencies?: string[];
    /** Input property name -> URNs of the resources whose outputs fed it. */
    propertyDependencies?: Record<string, string[]>;
    provider?: string;
}

/** The engine's sentinel for a value that is not known until the resource is created. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The signature key and value that mark a secret in a property bag. */
export const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

/** Wraps a value the way the engine marks a secret on the wire. */
export function secret(value: unknown): Record<string, unknown> {
    return { [SECRET_SIGNATURE_KEY]: SECRET_SIGNATURE, value };
}

/** A URN for a resource of `type` named `name`, in the project and stack the tests use. */
export function urnOf(type: string, name: string, stack = "dev", project = "identity"): string {
    return `urn:pulumi:${stack}::${project}::${type}::${name}`;
}
