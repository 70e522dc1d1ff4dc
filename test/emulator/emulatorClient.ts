/** Test-side helpers for talking to the emulator: raw HTTPS calls, tokens, batches, and the child-process probe. */
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as https from "node:https";
import * as path from "node:path";
import type { ProbeOutcome } from "./clientProbe";
import { GraphEmulator } from "./graphEmulator";

export interface EmulatorReply {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    text: string;
    json(): any;
}

/** One HTTPS request to the emulator, trusting its certificate through an Agent rather than the process-wide store. */
export function callEmulator(
    emulator: GraphEmulator,
    method: string,
    requestPath: string,
    options: { token?: string; body?: string; contentType?: string; timeoutMs?: number } = {},
): Promise<EmulatorReply> {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers["Content-Type"] = options.contentType ?? "application/json";
    return new Promise((resolve, reject) => {
        const request = https.request(`${emulator.url}${requestPath}`, {
            method,
            headers,
            agent: new https.Agent({ ca: emulator.caCertPem, keepAlive: false }),
            timeout: options.timeoutMs,
        }, (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("error", reject);
            response.on("aborted", () => reject(new Error("response aborted")));
            response.on("end", () => {
                const text = Buffer.concat(chunks).toString("utf8");
                resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json: () => JSON.parse(text) });
            });
        });
        request.on("timeout", () => request.destroy(new Error("client timeout")));
        request.on("error", reject);
        request.end(options.body);
    });
}

export async function fetchToken(emulator: GraphEmulator, overrides: Record<string, string> = {}): Promise<EmulatorReply> {
    const form = new URLSearchParams({
        grant_type: "client_credentials",
        client_id: emulator.clientId,
        client_secret: emulator.clientSecret,
        scope: `${emulator.url}/.default`,
        ...overrides,
    });
    return callEmulator(emulator, "POST", `/${emulator.tenantId}/oauth2/v2.0/token`, { body: form.toString(), contentType: "application/x-www-form-urlencoded" });
}

export async function accessToken(emulator: GraphEmulator): Promise<string> {
    const reply = await fetchToken(emulator);
    assert.equal(reply.status, 200);
    return reply.json().access_token as string;
}

export function batchBody(requests: { id: string; url: string; method?: string }[]): string {
    return JSON.stringify({ requests: requests.map((r) => ({ method: "GET", ...r })) });
}

/** Runs clientProbe.js in a fresh Node process with the emulator's environment. */
export async function runProbe(emulator: GraphEmulator, args: string[]): Promise<{ exitCode: number | null; outcome?: ProbeOutcome; stderr: string }> {
    const inheritedWithoutAzure = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("AZURE_")));
    const child = spawn(process.execPath, [path.join(__dirname, "clientProbe.js"), ...args], {
        env: { ...inheritedWithoutAzure, ...emulator.env() },
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exitCode = await new Promise<number | null>((resolve, reject) => {
        child.on("error", reject);
        child.on("close", resolve);
    });
    return { exitCode, outcome: stdout.trim() === "" ? undefined : (JSON.parse(stdout) as ProbeOutcome), stderr };
}
