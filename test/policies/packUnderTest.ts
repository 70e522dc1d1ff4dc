import * as path from "node:path";
import { EmulatedUser, GraphEmulator, startGraphEmulator } from "../emulator/graphEmulator";
import { Diagnostic, launchPolicyPack, PolicyPackConfig, preview, SequenceOptions, StackResource, up } from "../harness";

/** The repository root: the pack as `pulumi preview --policy-pack <dir>` loads it (compiled `bin/`). */
export const PACK_DIR = path.resolve(__dirname, "..", "..", "..");

export const MFA_POLICY = "entra-non-privileged-user-mfa";
export const UNVERIFIED_POLICY = "entra-mfa-unverified-users";
export const PRIVILEGED_POLICY = "entra-privileged-user-mfa";

/** The emulated tenant's view of a user resource of the stack. */
export function tenantUser(resource: StackResource, perUserMfaState: string | null | undefined): EmulatedUser {
    return {
        id: String(resource.outputs.objectId ?? resource.outputs.userId),
        userPrincipalName: String(resource.outputs.userPrincipalName ?? resource.outputs.userEmailAddress),
        perUserMfaState,
    };
}

export interface PackRun {
    analyze: Diagnostic[];
    stack: Diagnostic[];
    /** Stack diagnostics of one policy. */
    of(policy: string): Diagnostic[];
    /** Everything the pack printed, for "never echoes a secret" checks. */
    output: string;
}

/**
 * Launches the built pack as the engine does, runs the whole preview (or update) sequence with
 * the emulator's connection settings, and closes the pack: each run is a fresh process, as each
 * `pulumi preview` is.
 */
export async function runPack(
    emulator: GraphEmulator | undefined,
    resources: StackResource[],
    options: {
        config?: PolicyPackConfig;
        env?: Record<string, string>;
        operation?: "preview" | "up";
        /** How the pack signs in: a client secret (AZURE_*), or a federated token as Pulumi ESC hands it over (ARM_*). */
        signIn?: "secret" | "oidc";
        /** Variations on the engine's call sequence (no Analyze, a pause before AnalyzeStack). */
        sequence?: SequenceOptions;
    } = {},
): Promise<PackRun> {
    const pack = await launchPolicyPack({
        packDir: PACK_DIR,
        env: { ...(options.signIn === "oidc" ? emulator?.oidcEnv() : emulator?.env()), ...options.env },
        stack: { dryRun: options.operation !== "up" },
    });
    try {
        const run = await (options.operation === "up" ? up : preview)(pack, resources, options.config, options.sequence);
        const all = [...run.analyze, ...run.stack];
        return {
            ...run,
            of: (policy) => run.stack.filter((d) => d.policyName === policy),
            output: [...pack.stdout, ...pack.stderr, ...all.map((d) => JSON.stringify(d))].join("\n"),
        };
    } finally {
        await pack.close();
    }
}

/** The Graph sub-request URLs the emulator received, in order. */
export function askedUrls(emulator: GraphEmulator): string[] {
    return emulator.requests.flatMap((request) => (request.subRequests ?? []).map((sub) => sub.url));
}

/**
 * One emulator for the enclosing `describe`, its tenant emptied before each test; `use` receives
 * it once started. For example: `let emulator!: GraphEmulator; emulatorPerSuite((e) => (emulator = e));`
 */
export function emulatorPerSuite(use: (emulator: GraphEmulator) => void): void {
    let emulator: GraphEmulator | undefined;
    before(async () => {
        emulator = await startGraphEmulator();
        use(emulator);
    });
    after(async () => {
        await emulator?.close();
    });
    beforeEach(() => emptyTenant(emulator!));
}

/** No users, groups, Conditional Access policies or faults; security defaults off. */
export function emptyTenant(emulator: GraphEmulator): void {
    emulator.reset();
    for (const id of [...emulator.users.keys()]) emulator.removeUser(id);
    for (const id of [...emulator.groups.keys()]) emulator.removeGroup(id);
    emulator.setConditionalAccessPolicies([]);
    emulator.setSecurityDefaults(false);
}

/**
 * The unverified policy's per-user diagnostics, each shared cause they refer to ("cause 2 above")
 * written out in full, so a test can match the cause on the user's own diagnostic.
 */
export function unverifiedUserDiagnostics(run: PackRun): Diagnostic[] {
    const diagnostics = run.of(UNVERIFIED_POLICY);
    const causes = new Map<string, string>();
    for (const diagnostic of diagnostics) {
        const shared = /Could not verify MFA for \d+ users \(cause (\d+)\):\n\s+([^\n]+)/.exec(diagnostic.message);
        if (shared) causes.set(shared[1], shared[2]);
    }
    return diagnostics
        .filter((d) => /MFA not verified/.test(d.message))
        .map((d) => ({ ...d, message: d.message.replace(/cause (\d+) above \([^\n]*\)/g, (reference, number: string) => causes.get(number) ?? reference) }));
}

/** The causes the unverified policy stated once for several users. */
export function sharedCauses(run: PackRun): string[] {
    return run.of(UNVERIFIED_POLICY).filter((d) => /Could not verify MFA for \d+ users/.test(d.message)).map((d) => d.message);
}
