import { PolicyResource, unknownCheckingProxy } from "@pulumi/policy";
import { copyPropertyBag } from "../../policies/inventory/propertyValues";
import { StackResourceSnapshot } from "../../policies/inventory/types";
import { SECRET_SIGNATURE, SECRET_SIGNATURE_KEY, StackResource } from "../harness/stackResource";

/** What `AnalyzeStack` hands a policy for a fixture: its outputs, secrets unwrapped as the SDK does. */
export function snapshotOf(resource: StackResource): StackResourceSnapshot {
    return {
        urn: resource.urn,
        type: resource.type,
        name: resource.name,
        props: copyPropertyBag(unwrapSecrets(resource.outputs)),
        propertyDependencies: resource.propertyDependencies ?? {},
    };
}

/**
 * The resource as the SDK hands it to a stack policy in-process: outputs with secrets unwrapped,
 * behind its unknown-checking proxy, dependencies as resource objects (only their URNs are read).
 */
export function policyResourceOf(resource: StackResource): PolicyResource {
    const props = unknownCheckingProxy(unwrapSecrets(resource.outputs) as Record<string, unknown>);
    const toResources = (urns: string[]) => urns.map((urn) => ({ urn }) as PolicyResource);
    return {
        urn: resource.urn,
        type: resource.type,
        name: resource.name,
        props,
        opts: {} as PolicyResource["opts"],
        dependencies: toResources(resource.dependencies ?? []),
        propertyDependencies: Object.fromEntries(Object.entries(resource.propertyDependencies ?? {}).map(([property, urns]) => [property, toResources(urns)])),
        isType: () => false,
        asType: () => undefined,
    };
}

export function snapshotsOf(resources: StackResource[]): StackResourceSnapshot[] {
    return resources.map(snapshotOf);
}

function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (typeof value !== "object" || value === null) return value;
    const record = value as Record<string, unknown>;
    if (record[SECRET_SIGNATURE_KEY] === SECRET_SIGNATURE) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, unwrapSecrets(inner)]));
}
