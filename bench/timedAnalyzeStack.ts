import { performance } from "node:perf_hooks";

import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";

import { decodeDiagnostics, Diagnostic, encodeAnalyzeStackRequest, PolicyPackProcess, StackResource } from "../test/harness";
import { cpuTimeMs } from "./processStats";

/** One `AnalyzeStack` call as the pack served it. */
export interface AnalyzeStackTiming {
    /** From sending the encoded request to the decoded-ready response: the pack's time as the engine waits for it. */
    wallMs: number;
    /** When the call was sent (epoch ms), to place the emulator's request log inside it. */
    startedAt: number;
    /** CPU the pack's process used over the call (user + system). */
    packCpuMs: number;
    /** What building the protobuf request cost the benchmark; kept out of `wallMs`. */
    encodeMs: number;
    requestBytes: number;
}

// As the harness: the engine raises gRPC's 4 MB default for analyzers, and big stacks need it.
const maxMessageBytes = 400 * 1024 * 1024;

/**
 * The same pack, but its `analyzeStack` times the RPC alone. The harness encodes the request inside
 * the timed call, and the JavaScript protobuf encoder costs seconds for ten thousand resources where
 * the engine's Go encoder costs little, so here the request is encoded first and sent on a second
 * channel to the pack's port. Everything else goes to the harness, so `preview` drives it as usual.
 */
export function withTimedAnalyzeStack(pack: PolicyPackProcess): { pack: PolicyPackProcess; timings: AnalyzeStackTiming[]; close(): void } {
    const client = new AnalyzerClient(`127.0.0.1:${pack.port}`, grpc.credentials.createInsecure(), {
        "grpc.max_receive_message_length": maxMessageBytes,
        "grpc.max_send_message_length": maxMessageBytes,
    });
    const timings: AnalyzeStackTiming[] = [];

    const analyzeStack = async (resources: StackResource[]): Promise<Diagnostic[]> => {
        const encodeStart = performance.now();
        const request = encodeAnalyzeStackRequest(resources);
        const requestBytes = request.serializeBinary().length;
        const encodeMs = performance.now() - encodeStart;

        const cpuBefore = cpuTimeMs(pack.pid);
        const startedAt = Date.now();
        const callStart = performance.now();
        const response = await new Promise<analyzerPb.AnalyzeResponse>((resolve, reject) =>
            client.analyzeStack(request, (error, reply) => (error ? reject(new Error(`AnalyzeStack failed: ${error.details}`)) : resolve(reply))),
        );
        const wallMs = performance.now() - callStart;
        timings.push({ wallMs, startedAt, packCpuMs: cpuTimeMs(pack.pid) - cpuBefore, encodeMs, requestBytes });
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
