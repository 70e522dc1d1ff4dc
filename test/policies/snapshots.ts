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
