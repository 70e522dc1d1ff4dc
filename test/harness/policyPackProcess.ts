// Starts a policy pack the way the Pulumi CLI does and talks to it over `pulumirpc.Analyzer`, so tests see
// exactly what `pulumi preview` would. Engine side:
// https://github.com/pulumi/pulumi/blob/master/sdk/go/common/resource/plugin/analyzer_plugin.go
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { performance } from "perf_hooks";
import * as readline from "readline";

import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";

import {
    AnalyzerInfo,
    decodeAnalyzerInfo,
    decodeDiagnostics,
    Diagnostic,
    encodeAnalyzeRequest,
    encodeAnalyzeStackRequest,
    encodePolicyConfig,
} from "./analyzerWire";
import { PolicyPackConfig, reconcilePolicyPackConfig, ResolvedPolicyPackConfig } from "./policyPackConfig";
import { StackResource } from "./stackResource";

/** The stack a policy pack runs for: the engine passes it in the environment and in `ConfigureStack`. */
export interface StackContext {
    organization: string;
    project: string;
    stack: string;
    /** `true` for `pulumi preview`, `false` for `pulumi up`. */
    dryRun: boolean;
    /** Stack config as `project:key` -> value, as `PULUMI_CONFIG` carries it. */
    config: Record<string, string>;
    /** Stack tags, which policies read as `args.stackTags`. */
    tags: Record<string, string>;
}

/** Matches the defaults of `urnOf` in ./stackResource. */
export const defaultStackContext: StackContext = {
    organization: "organization",
    project: "identity",
    stack: "dev",
    dryRun: true,
    config: {},
    tags: {},
};

export interface LaunchOptions {
    /** The directory holding the pack's `PulumiPolicy.yaml` and `package.json`. */
    packDir: string;
    /** Merged over `process.env` and the engine's own variables, so tests can point the pack at emulators. */
    env?: NodeJS.ProcessEnv;
    /** How long to wait for the port line before giving up; 30 s unless set. */
    startTimeoutMs?: number;
    /**
     * The stack the engine starts the pack for. `null` starts it as `pulumi policy analyze` does, before
     * any stack is known: none of the engine's stack variables, and none inherited from the test's own
     * environment either.
     */
    stack?: Partial<StackContext> | null;
}

/** A running policy pack, driven over the engine's gRPC protocol. Close it when done. */
export interface PolicyPackProcess {
    readonly packDir: string;
    readonly port: number;
    /** Milliseconds from spawn to the port line. */
    readonly startMs: number;
    /** The pack's process id, for reading its resource use from `/proc/<pid>`. */
    readonly pid: number;
    /** `undefined` when the pack was started without a stack (`stack: null`). */
    readonly stackContext: StackContext | undefined;
    /** The RPCs sent so far, by method name, in order: what a test asserts the conversation by. */
    readonly calls: readonly string[];
    /** Every line the pack printed, the port line included; for "never prints a secret" assertions. */
    readonly stdout: string[];
    readonly stderr: string[];
    analyzerInfo(): Promise<AnalyzerInfo>;
    /** `ConfigureStack`; a pack whose SDK predates it (UNIMPLEMENTED) is tolerated, as the engine does. */
    configureStack(overrides?: Partial<StackContext>): Promise<void>;
    /**
     * `Configure` with every policy's level and properties, reconciled from `config` as the engine does
     * (see `reconcilePolicyPackConfig`). Returns what was sent.
     */
    configure(config?: PolicyPackConfig): Promise<ResolvedPolicyPackConfig>;
    /** `Analyze` on the resource's inputs. `stack` supplies the provider resource when it is in the stack. */
    analyze(resource: StackResource, stack?: StackResource[]): Promise<Diagnostic[]>;
    /** `AnalyzeStack` on every resource's outputs. */
    analyzeStack(resources: StackResource[]): Promise<Diagnostic[]>;
    /** Ends the process and the channel; safe to call more than once. */
    close(): Promise<void>;
}

/** An RPC the pack answered with a gRPC error, such as a policy that threw. */
export class PolicyPackRpcError extends Error {
    constructor(
        readonly method: string,
        readonly code: grpc.status,
        readonly details: string,
    ) {
        super(`${method} failed with ${grpc.status[code]}: ${details}`);
        this.name = "PolicyPackRpcError";
    }
}

// The engine raises gRPC's 4 MB default for analyzers (rpcutil.GrpcChannelOptions); a large stack's
// AnalyzeStack request would not fit otherwise.
const maxMessageBytes = 400 * 1024 * 1024;
const defaultStartTimeoutMs = 30_000;
const closeGraceMs = 5_000;

// A test that fails before its `after` hook must not leave packs running behind mocha.
const runningPacks = new Set<ChildProcess>();
process.once("exit", () => {
    for (const child of runningPacks) {
        child.kill("SIGKILL");
    }
});

/**
 * Starts the pack in `packDir` as the CLI does — `node <@pulumi/pulumi>/cmd/run-policy-pack <engine> .`
 * with the pack directory as working directory — and connects once it prints its port. Rejects, with
 * everything the pack printed, if the first stdout line is not a port or the pack exits first.
 *
 * For example:
 * ```ts
 * const pack = await launchPolicyPack({ packDir: "test/harness/bare-pack" });
 * try { console.log(await pack.analyzerInfo()); } finally { await pack.close(); }
 * ```
 */
export async function launchPolicyPack(options: LaunchOptions): Promise<PolicyPackProcess> {
    const packDir = path.resolve(options.packDir);
    const stackContext: StackContext | undefined = options.stack === null ? undefined : { ...defaultStackContext, ...options.stack };
    // The CLI's shim resolves run-policy-pack from the pack's own dependencies; falling back to the harness's
    // lets tests start throwaway packs in a temporary directory.
    const runPolicyPack = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [packDir, __dirname] });
    // The pack ignores the engine address; nothing listens there.
    const engineAddress = "127.0.0.1:0";

    const startedAt = performance.now();
    const child = spawn(process.execPath, [runPolicyPack, engineAddress, "."], {
        cwd: packDir,
        env: { ...inheritedEnvironment(stackContext), ...options.env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    runningPacks.add(child);
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    void exited.then(() => runningPacks.delete(child));

    const stdout: string[] = [];
    const stderr: string[] = [];
    readline.createInterface({ input: child.stderr }).on("line", (line) => stderr.push(line));
    const stdoutLines = readline.createInterface({ input: child.stdout });
    stdoutLines.on("line", (line) => stdout.push(line));

    let port: number;
    try {
        port = await waitForPort(child, stdoutLines, exited, options.startTimeoutMs ?? defaultStartTimeoutMs);
    } catch (error) {
        child.kill("SIGKILL");
        await exited;
        const printed = [`stdout:`, ...stdout.map(indent), `stderr:`, ...stderr.map(indent)].join("\n");
        throw new Error(`policy pack at ${packDir} failed to start: ${(error as Error).message}\n${printed}`);
    }
    const startMs = performance.now() - startedAt;

    const client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
        "grpc.max_receive_message_length": maxMessageBytes,
        "grpc.max_send_message_length": maxMessageBytes,
    });
    return new RunningPolicyPack(packDir, port, startMs, stackContext, stdout, stderr, child, exited, client);
}

/** The engine's stack variables, in the spellings it sets; the Node.js SDK reads the PULUMI_NODEJS_ ones (constructEnv). */
const STACK_VARIABLES = ["PULUMI_NODEJS_", "PULUMI_"].flatMap((prefix) => ["ORGANIZATION", "PROJECT", "STACK", "DRY_RUN"].map((name) => `${prefix}${name}`));

/** Whether `name` is one of the variables the engine sets only when it starts a pack for a stack. */
export function isStackVariable(name: string): boolean {
    return STACK_VARIABLES.includes(name) || name === "PULUMI_CONFIG";
}

function inheritedEnvironment(context: StackContext | undefined): NodeJS.ProcessEnv {
    if (context !== undefined) {
        return { ...process.env, ...engineEnvironment(context) };
    }
    // A test run from inside `pulumi` (or a CI job that exports these) must not leak a stack into the pack.
    return Object.fromEntries(Object.entries(process.env).filter(([name]) => !isStackVariable(name)));
}

function engineEnvironment(context: StackContext): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const prefix of ["PULUMI_NODEJS_", "PULUMI_"]) {
        env[`${prefix}ORGANIZATION`] = context.organization;
        env[`${prefix}PROJECT`] = context.project;
        env[`${prefix}STACK`] = context.stack;
        env[`${prefix}DRY_RUN`] = String(context.dryRun);
    }
    if (Object.keys(context.config).length > 0) {
        env.PULUMI_CONFIG = JSON.stringify(context.config);
    }
    return env;
}

function waitForPort(child: ChildProcess, stdoutLines: readline.Interface, exited: Promise<void>, timeoutMs: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no port line within ${timeoutMs} ms`)), timeoutMs);
        const settle = () => clearTimeout(timer);
        stdoutLines.once("line", (line) => {
            settle();
            // Anything printed before the port breaks the start: the CLI reads only this line.
            if (/^\d+$/.test(line.trim())) {
                resolve(Number(line.trim()));
            } else {
                reject(new Error(`the first stdout line must be the gRPC port, but it was ${JSON.stringify(line)}`));
            }
        });
        void exited.then(() => {
            settle();
            reject(new Error(`exited with code ${child.exitCode ?? child.signalCode} before printing its port`));
        });
    });
}

function indent(line: string): string {
    return `    ${line}`;
}

type UnaryCallback<T> = (error: grpc.ServiceError | null, response: T) => void;

class RunningPolicyPack implements PolicyPackProcess {
    private closing: Promise<void> | undefined;
    readonly calls: string[] = [];

    constructor(
        readonly packDir: string,
        readonly port: number,
        readonly startMs: number,
        readonly stackContext: StackContext | undefined,
        readonly stdout: string[],
        readonly stderr: string[],
        private readonly child: ChildProcess,
        private readonly exited: Promise<void>,
        private readonly client: AnalyzerClient,
    ) {}

    get pid(): number {
        // Set once spawn succeeded, which the port line proves.
        return this.child.pid!;
    }

    async analyzerInfo(): Promise<AnalyzerInfo> {
        const info = await this.call<analyzerPb.AnalyzerInfo>("GetAnalyzerInfo", (done) => this.client.getAnalyzerInfo(new Empty(), done));
        return decodeAnalyzerInfo(info);
    }

    async configureStack(overrides: Partial<StackContext> = {}): Promise<void> {
        const context = { ...defaultStackContext, ...this.stackContext, ...overrides };
        const request = new analyzerPb.AnalyzerStackConfigureRequest()
            .setOrganization(context.organization)
            .setProject(context.project)
            .setStack(context.stack)
            .setDryRun(context.dryRun);
        for (const [key, value] of Object.entries(context.config)) {
            request.getConfigMap().set(key, value);
        }
        for (const [key, value] of Object.entries(context.tags)) {
            request.getTagsMap().set(key, value);
        }
        try {
            await this.call("ConfigureStack", (done) => this.client.configureStack(request, done));
        } catch (error) {
            if (!(error instanceof PolicyPackRpcError && error.code === grpc.status.UNIMPLEMENTED)) {
                throw error;
            }
        }
    }

    async configure(config: PolicyPackConfig = {}): Promise<ResolvedPolicyPackConfig> {
        const resolved = reconcilePolicyPackConfig(await this.analyzerInfo(), config);
        const request = new analyzerPb.ConfigureAnalyzerRequest();
        for (const [policyName, entry] of Object.entries(resolved)) {
            request.getPolicyconfigMap().set(policyName, encodePolicyConfig(entry));
        }
        await this.call("Configure", (done) => this.client.configure(request, done));
        return resolved;
    }

    async analyze(resource: StackResource, stack: StackResource[] = []): Promise<Diagnostic[]> {
        const request = encodeAnalyzeRequest(resource, stack);
        const response = await this.call<analyzerPb.AnalyzeResponse>("Analyze", (done) => this.client.analyze(request, done));
        return decodeDiagnostics(response);
    }

    async analyzeStack(resources: StackResource[]): Promise<Diagnostic[]> {
        const request = encodeAnalyzeStackRequest(resources);
        const response = await this.call<analyzerPb.AnalyzeResponse>("AnalyzeStack", (done) => this.client.analyzeStack(request, done));
        return decodeDiagnostics(response);
    }

    close(): Promise<void> {
        this.closing ??= this.shutDown();
        return this.closing;
    }

    private async shutDown(): Promise<void> {
        this.client.close();
        if (this.child.exitCode === null && this.child.signalCode === null) {
            this.child.kill("SIGTERM");
            const forceKill = setTimeout(() => this.child.kill("SIGKILL"), closeGraceMs);
            await this.exited;
            clearTimeout(forceKill);
        }
    }

    private call<T>(method: string, start: (done: UnaryCallback<T>) => void): Promise<T> {
        this.calls.push(method);
        return new Promise<T>((resolve, reject) => {
            start((error, response) => {
                if (error) {
                    reject(new PolicyPackRpcError(method, error.code, error.details));
                } else {
                    resolve(response);
                }
            });
        });
    }
}
