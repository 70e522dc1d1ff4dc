import type { TokenCredential } from "@azure/core-auth";
import { BatchRunner } from "./batch";
import { CloudName } from "./clouds";
import { GraphConnection, GraphConnectionError, resolveGraphConnection } from "./connection";
import { GRAPH_DEFAULTS, GraphOptions } from "./defaults";
import { createGraphClientTransport } from "./graphClientTransport";
import { PerUserMfaAnswer, readPerUserMfaStates } from "./perUserMfa";
import { GraphTransport } from "./types";

/** The MFA evidence the policies ask for. Injected into the policies; tests pass a fake. */
export interface MfaEvidence {
    perUserMfaStates(objectIds: readonly string[], request: EvidenceRequest): Promise<Map<string, PerUserMfaAnswer>>;
}

export interface EvidenceRequest {
    cloud?: CloudName;
    /** Epoch ms by which every answer must be in. */
    deadline: number;
}

export interface GraphMfaEvidenceOptions {
    env?: NodeJS.ProcessEnv;
    graph?: Partial<GraphOptions>;
    /** Builds the transport for a connection; the default is the Graph client with `DefaultAzureCredential`. */
    transportFor?: (connection: GraphConnection) => GraphTransport;
}

/**
 * MFA evidence from Microsoft Graph. Each user is asked once per process (one process serves
 * one `pulumi preview` or `up`); answers, failures included, are kept for the run.
 */
export function graphMfaEvidence(options: GraphMfaEvidenceOptions = {}): MfaEvidence {
    const env = options.env ?? process.env;
    const graphOptions = { ...GRAPH_DEFAULTS, ...options.graph };
    const transportFor = options.transportFor ?? ((connection) => createGraphClientTransport(connection, () => defaultCredential(connection)));
    const transports = new Map<string, GraphTransport>();
    const answers = new Map<string, Promise<PerUserMfaAnswer>>();

    return {
        async perUserMfaStates(objectIds, request) {
            let connection: GraphConnection;
            try {
                connection = resolveGraphConnection(env, request.cloud);
            } catch (error) {
                if (!(error instanceof GraphConnectionError)) throw error;
                return new Map(objectIds.map((id) => [id, { kind: "unverified", reason: error.message }]));
            }
            const key = (id: string) => `${connection.graphBaseUrl}|${id.toLowerCase()}`;
            const toAsk = [...new Map(objectIds.map((id) => [key(id), id])).entries()]
                .filter(([cacheKey]) => !answers.has(cacheKey))
                .map(([, id]) => id);
            if (toAsk.length > 0) {
                let transport = transports.get(connection.graphBaseUrl);
                if (!transport) {
                    transport = transportFor(connection);
                    transports.set(connection.graphBaseUrl, transport);
                }
                const runner = new BatchRunner(transport, { ...graphOptions, version: "beta", deadline: request.deadline });
                const asked = readPerUserMfaStates(runner, toAsk);
                for (const id of toAsk) answers.set(key(id), asked.then((map) => map.get(id)!));
            }
            return new Map(await Promise.all(objectIds.map(async (id) => [id, await answers.get(key(id))!] as const)));
        },
    };
}

async function defaultCredential(connection: GraphConnection): Promise<TokenCredential> {
    const { DefaultAzureCredential } = await import("@azure/identity");
    // Environment, workload identity (OIDC), managed identity, then developer sign-ins such as `az login`.
    return new DefaultAzureCredential({
        authorityHost: connection.authorityHost,
        disableInstanceDiscovery: connection.disableInstanceDiscovery,
    });
}
