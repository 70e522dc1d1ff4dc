import { UnknownValueError } from "@pulumi/policy";
import { MfaPolicyConfig } from "../config";
import { MfaEvidence } from "../graph/mfaEvidence";
import { buildInventory } from "../inventory/buildInventory";
import { copyPropertyBag } from "../inventory/propertyValues";
import { READ_PROPERTIES, resourceKindOf } from "../inventory/resourceTypes";
import { StackResourceSnapshot } from "../inventory/types";
import { RoleCatalog } from "../roles/catalog";
import { evaluateUsers } from "./evaluate";

/** What one `Analyze` call says of a resource: its inputs, behind the SDK's unknown-checking proxy. */
export interface AnalyzedResource {
    urn: string;
    type: string;
    name: string;
    props: Record<string, unknown>;
}

export interface PrefetchDependencies {
    evidence: MfaEvidence;
    catalog: RoleCatalog;
    now: () => Date;
}

/** How long new identity resources may keep arriving before the inventory is evaluated again. */
export const PREFETCH_DEBOUNCE_MS = 100;

/**
 * Gathers Graph evidence while the engine is still sending `Analyze` calls, so that `AnalyzeStack`
 * finds the answers in `graphMfaEvidence`'s cache instead of waiting for them at the end of the
 * preview. It only warms that cache: its own verdicts are thrown away, and `AnalyzeStack`
 * evaluates exactly as it would without it. It asks what `AnalyzeStack` would ask of the stack
 * seen so far, profiles of outside principals included (only Graph tells a user id from a group id).
 *
 * `Analyze` sees inputs, so users the stack creates are known by name only (their object id is an
 * output); only principals whose object ids are already in the inputs (role assignments, group
 * members) are asked about per user. Nothing is ever asked about an unknown value: the inventory
 * leaves unknown ids out.
 */
export class EvidencePrefetch {
    private readonly snapshots = new Map<string, StackResourceSnapshot>();
    private deadline?: number;
    private timer?: NodeJS.Timeout;
    private running?: Promise<void>;
    private rerun = false;
    /** How long the last evaluation took: the next waits at least as long, so prefetching takes at most half the pack's time from Analyze. */
    private lastEvaluationMs = 0;
    private config?: MfaPolicyConfig;
    private stopped = false;

    constructor(
        private readonly dependencies: PrefetchDependencies,
        private readonly debounceMs = PREFETCH_DEBOUNCE_MS,
    ) {}

    /** Records one analyzed resource and schedules a prefetch; returns at once and never throws. */
    observe(resource: AnalyzedResource, config: MfaPolicyConfig): void {
        try {
            const kind = resourceKindOf(resource.type);
            if (!kind || this.stopped) return;
            const props = copyPropertyBag(resource.props, (error) => error instanceof UnknownValueError, READ_PROPERTIES[kind]);
            this.snapshots.set(resource.urn, { urn: resource.urn, type: resource.type, name: resource.name, props, propertyDependencies: {} });
            this.config = config;
            if (this.deadline === undefined) {
                // AnalyzeStack gives each evidence source at least this share of its budget, and starts later:
                // so no question asked here outlasts the one AnalyzeStack would ask, which can then ask again.
                const shareMs = (config.verificationBudgetSeconds * 1000) / Math.max(1, config.acceptedEvidence.length);
                this.deadline = this.dependencies.now().getTime() + shareMs;
                this.askTenantWide(config);
            }
            this.schedule();
        } catch {
            // A prefetch is an optimisation: whatever goes wrong here, AnalyzeStack asks for itself.
        }
    }

    /**
     * Called when `AnalyzeStack` starts: it asks for whatever is still missing itself, so a scheduled
     * evaluation would only take the CPU it needs. Requests already sent go on; their answers are shared.
     */
    stop(): void {
        this.stopped = true;
        this.rerun = false;
        if (this.timer) clearTimeout(this.timer);
        this.timer = undefined;
    }

    /** Resolves once no prefetch is scheduled or running (for tests and benchmarks). */
    async settled(): Promise<void> {
        while (this.timer || this.running) {
            await (this.running ?? new Promise((resolve) => setTimeout(resolve, this.debounceMs)));
        }
    }

    private askTenantWide(config: MfaPolicyConfig): void {
        // No later than the first share evaluateUsers gives a source of the same budget, so the
        // evaluations below find these questions asked rather than asking them again.
        const now = this.dependencies.now().getTime();
        const request = { cloud: config.cloud, deadline: now + (this.deadline! - now) / Math.max(1, config.acceptedEvidence.length) };
        const { evidence } = this.dependencies;
        if (config.acceptedEvidence.includes("conditionalAccess")) evidence.conditionalAccessPolicies(request).catch(() => undefined);
        if (config.acceptedEvidence.includes("securityDefaults")) evidence.securityDefaultsEnabled(request).catch(() => undefined);
    }

    private schedule(): void {
        if (this.running) {
            this.rerun = true;
            return;
        }
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => {
            this.timer = undefined;
            this.running = this.evaluate().finally(() => {
                this.running = undefined;
                if (this.rerun && !this.stopped) {
                    this.rerun = false;
                    this.schedule();
                }
            });
        }, Math.max(this.debounceMs, this.lastEvaluationMs));
        // A pending prefetch must never keep the pack's process alive.
        this.timer.unref();
    }

    private async evaluate(): Promise<void> {
        const config = this.config!;
        if (this.dependencies.now().getTime() >= this.deadline!) return;
        const startedAt = Date.now();
        try {
            const inventory = buildInventory([...this.snapshots.values()], this.dependencies.catalog);
            const context = { config, evidence: this.dependencies.evidence, now: this.dependencies.now(), deadline: this.deadline };
            await evaluateUsers(inventory, context, new Set(["non-privileged", "privileged"] as const));
        } catch {
            // Only the cache matters; AnalyzeStack asks again for whatever failed.
        }
        this.lastEvaluationMs = Date.now() - startedAt;
    }

}
