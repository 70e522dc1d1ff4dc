import { PolicyResource, UnknownValueError } from "@pulumi/policy";
import { DEFAULT_CONFIG, MfaPolicyConfig } from "./config";
import { evaluateNonPrivilegedUsers, StackEvaluation } from "./evaluate";
import { MfaEvidence } from "./graph/mfaEvidence";
import { buildInventory } from "./inventory/buildInventory";
import { copyPropertyBag, UNKNOWN } from "./inventory/propertyValues";
import { resourceKindOf } from "./inventory/resourceTypes";
import { StackResourceSnapshot } from "./inventory/types";
import { RoleCatalog } from "./roles/catalog";

/** What the policies need from outside; `index.ts` passes the real ones, tests pass fakes. */
export interface PolicyDependencies {
    evidence: MfaEvidence;
    catalog: RoleCatalog;
    now: () => Date;
    env: NodeJS.ProcessEnv;
}

/** An evaluation, or the error that stopped it (reported as unverified, never as a violation). */
export type EvaluationResult = { evaluation: StackEvaluation } | { failure: string };

/**
 * Evaluates a stack once for all the pack's policies. Each policy gets its own copy of the
 * resources from the SDK, so the evaluation is shared by a fingerprint of the identity resources;
 * the MFA policy evaluates with its config, and the policy that reports unverified users reuses
 * that evaluation (or, when the MFA policy is disabled, makes one with the defaults).
 */
export class StackEvaluator {
    private last?: { fingerprint: string; result: Promise<EvaluationResult> };

    constructor(private readonly dependencies: PolicyDependencies) {}

    evaluate(resources: readonly PolicyResource[], config?: MfaPolicyConfig): Promise<EvaluationResult> {
        let snapshots: StackResourceSnapshot[];
        try {
            snapshots = snapshotIdentityResources(resources);
        } catch (error) {
            return Promise.resolve({ failure: `the stack's resources could not be read (${messageOf(error)})` });
        }
        const fingerprint = fingerprintOf(snapshots);
        if (this.last?.fingerprint === fingerprint && config === undefined) {
            return this.last.result;
        }
        const result = this.run(snapshots, config ?? DEFAULT_CONFIG);
        this.last = { fingerprint, result };
        return result;
    }

    private async run(snapshots: StackResourceSnapshot[], config: MfaPolicyConfig): Promise<EvaluationResult> {
        try {
            const inventory = buildInventory(snapshots, this.dependencies.catalog);
            const evaluation = await evaluateNonPrivilegedUsers(inventory, { config, evidence: this.dependencies.evidence, now: this.dependencies.now() });
            return { evaluation };
        } catch (error) {
            return { failure: `the pack failed while evaluating the stack (${messageOf(error)})` };
        }
    }
}

/** Copies the resources the inventory reads out of the SDK's unknown-checking proxies. */
export function snapshotIdentityResources(resources: readonly PolicyResource[]): StackResourceSnapshot[] {
    return resources
        .filter((resource) => resourceKindOf(resource.type) !== undefined)
        .map((resource) => ({
            urn: resource.urn,
            type: resource.type,
            name: resource.name,
            props: copyPropertyBag(resource.props, (error) => error instanceof UnknownValueError),
            propertyDependencies: Object.fromEntries(
                Object.entries(resource.propertyDependencies ?? {}).map(([property, dependencies]) => [property, dependencies.map((d) => d.urn)]),
            ),
        }));
}

function fingerprintOf(snapshots: StackResourceSnapshot[]): string {
    return JSON.stringify(snapshots, (_key, value) => (value === UNKNOWN ? "\u0000unknown" : value));
}

function messageOf(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}
