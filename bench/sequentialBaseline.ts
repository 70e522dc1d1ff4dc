/**
 * The naive way to check users, as the seed's audit did with `az rest`: one
 * `GET /beta/users/{id}/authentication/requirements` per user, each waiting for the one before.
 * It is kinder to itself than the `az` loop: one token, one kept-alive TLS connection, no process
 * start per user, so what it measures is a lower bound for that loop.
 */
import * as https from "node:https";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";

import { GraphEmulator } from "../test/emulator/graphEmulator";

export interface SequentialBaselineRun {
    /** The loop alone; the token is fetched before, as `az` has one cached. */
    wallMs: number;
    /** Per user, the per-user MFA state Graph sent, or `undefined` when it sent none. */
    states: Map<string, string | undefined>;
}

interface HttpReply {
    status: number;
    retryAfter: string | undefined;
    body: string;
}

/** Asks the emulator about each user in turn; a 429 is waited out (Retry-After) and asked again. */
export async function runSequentialBaseline(emulator: GraphEmulator, objectIds: readonly string[]): Promise<SequentialBaselineRun> {
    const agent = new https.Agent({ ca: emulator.caCertPem, keepAlive: true, maxSockets: 1 });
    try {
        const accessToken = await clientCredentialsToken(agent, emulator);
        const states = new Map<string, string | undefined>();
        const start = performance.now();
        for (const objectId of objectIds) {
            const url = `${emulator.url}/beta/users/${encodeURIComponent(objectId)}/authentication/requirements`;
            for (;;) {
                const reply = await send(agent, "GET", url, { Authorization: `Bearer ${accessToken}` });
                if (reply.status === 429) {
                    await sleep(Number(reply.retryAfter ?? "1") * 1000);
                    continue;
                }
                if (reply.status !== 200) throw new Error(`the baseline's GET for ${objectId} got HTTP ${reply.status}`);
                states.set(objectId, (JSON.parse(reply.body) as { perUserMfaState?: string }).perUserMfaState);
                break;
            }
        }
        return { wallMs: performance.now() - start, states };
    } finally {
        agent.destroy();
    }
}

/** The client-credentials grant (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow). */
async function clientCredentialsToken(agent: https.Agent, emulator: GraphEmulator): Promise<string> {
    const form = new URLSearchParams({
        grant_type: "client_credentials",
        client_id: emulator.clientId,
        client_secret: emulator.clientSecret,
        scope: `${emulator.url}/.default`,
    });
    const reply = await send(agent, "POST", `${emulator.url}/${emulator.tenantId}/oauth2/v2.0/token`, { "Content-Type": "application/x-www-form-urlencoded" }, form.toString());
    if (reply.status !== 200) throw new Error(`the baseline got no token: HTTP ${reply.status}`);
    return (JSON.parse(reply.body) as { access_token: string }).access_token;
}

function send(agent: https.Agent, method: string, url: string, headers: Record<string, string>, body?: string): Promise<HttpReply> {
    return new Promise<HttpReply>((resolve, reject) => {
        const request = https.request(url, { method, agent, headers }, (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () => {
                const retryAfter = response.headers["retry-after"];
                resolve({ status: response.statusCode ?? 0, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, body: Buffer.concat(chunks).toString("utf8") });
            });
            response.on("error", reject);
        });
        request.on("error", reject);
        request.end(body);
    });
}
