import { performance } from "node:perf_hooks";

import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";

import { decodeDiagnostics, Diagnostic, encodeAnalyzeStackRequest, PolicyPackProcess, StackResource } from "../test/harness";
import { cpuTimeMs } from "./processStats";

/** One `AnalyzeStack` call as the pack served it. */
export interface AnalyzeStackTiming {
    /** From sending the serialized request to the response's last byte: the pack's time as the engine waits for it. */
    wallMs: number;
    /** When the call was sent (epoch ms), to place the emulator's request log inside it. */
    startedAt: number;
    /** CPU the pack's process used over the call (user + system). */
    packCpuMs: number;
    /** What building and serializing the protobuf request cost the benchmark; kept out of `wallMs`. */
    encodeMs: number;
    requestBytes: number;
}

// As the harness: the engine raises gRPC's 4 MB default for analyzers, and big stacks need it.
const maxMessageBytes = 400 * 1024 * 1024;

/** The RPC's path, as `AnalyzerClient.analyzeStack` sends it. */
const ANALYZE_STACK_METHOD = "/pulumirpc.Analyzer/AnalyzeStack";
const passBytes = (bytes: Buffer): Buffer => bytes;

/**
 * The same pack, but its `analyzeStack` times the RPC alone. The JavaScript protobuf encoder costs
 * seconds for ten thousand resources (building the request ~2-3 s, serializing it another ~2.5-3.5 s
 * at 10,000 users) where the engine's Go encoder costs little. So the request is built and
 * serialized to bytes first, and those bytes go on a second channel to the pack's port; the
 * response's bytes are decoded after the clock stops. Handing grpc-js the request object instead
 * would have it call `serializeBinary()` inside the timed call: the benchmark's own encoding would
 * count as the pack's time. Everything else goes to the harness, so `preview` drives it as usual.
 */
export function withTimedAnalyzeStack(pack: PolicyPackProcess): { pack: PolicyPackProcess; timings: AnalyzeStackTiming[]; close(): void } {
    const client = new AnalyzerClient(`127.0.0.1:${pack.port}`, grpc.credentials.createInsecure(), {
        "grpc.max_receive_message_length": maxMessageBytes,
        "grpc.max_send_message_length": maxMessageBytes,
    });
    const timings: AnalyzeStackTiming[] = [];

    const analyzeStack = async (resources: StackResource[]): Promise<Diagnostic[]> => {
        const encodeStart = performance.now();
        const requestBytes = Buffer.from(encodeAnalyzeStackRequest(resources).serializeBinary());
        const encodeMs = performance.now() - encodeStart;

        const cpuBefore = cpuTimeMs(pack.pid);
        const startedAt = Date.now();
        const callStart = performance.now();
        const responseBytes = await new Promise<Buffer>((resolve, reject) =>
            client.makeUnaryRequest(ANALYZE_STACK_METHOD, passBytes, passBytes, requestBytes, (error, reply) =>
                error || !reply ? reject(new Error(`AnalyzeStack failed: ${error?.details ?? "no reply"}`)) : resolve(reply),
            ),
        );
        const wallMs = performance.now() - callStart;
        timings.push({ wallMs, startedAt, packCpuMs: cpuTimeMs(pack.pid) - cpuBefore, encodeMs, requestBytes: requestBytes.length });
        const response = analyzerPb.AnalyzeResponse.deserializeBinary(responseBytes);
        return decodeDiagnostics(response);
    };

    const timed = new Proxy(pack, {
        get(target, property) {
            if (property === "analyzeStack") return analyzeStack;
            const value: unknown = Reflect.get(target, property, target);
            return typeof value === "function" ? value.bind(target) : value;
        },
    });
    return { pack: timed, timings, close: () => client.close() };
}
