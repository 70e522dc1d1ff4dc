import type { TokenCredential } from "@azure/core-auth";
import { BatchRunner } from "./batch";
import { CloudName } from "./clouds";
import { GraphConnection, GraphConnectionError, resolveGraphConnection } from "./connection";
import { GRAPH_DEFAULTS, GraphOptions } from "./defaults";
import { createGraphClientTransport } from "./graphClientTransport";
import {
    Answer,
    Memberships,
    readConditionalAccessPolicies,
    readGroupUsers,
    readMemberships,
    readMfaCapable,
    readSecurityDefaults,
} from "./graphReads";
import { PerUserMfaAnswer, readPerUserMfaStates } from "./perUserMfa";
import { GraphRequest, GraphTransport } from "./types";

/** The MFA evidence the policies ask for. Injected into the policies; tests pass a fake. */
export interface MfaEvidence {
    perUserMfaStates(objectIds: readonly string[], request: EvidenceRequest): Promise<Map<string, PerUserMfaAnswer>>;
    /** The tenant's Conditional Access policies, as Graph returns them. */
    conditionalAccessPolicies(request: EvidenceRequest): Promise<Answer<unknown[]>>;
    securityDefaultsEnabled(request: EvidenceRequest): Promise<Answer<boolean>>;
    /** `isMfaCapable` from the authentication methods registration report. */
    mfaCapable(objectIds: readonly string[], request: EvidenceRequest): Promise<Map<string, Answer<boolean>>>;
    memberships(objectIds: readonly string[], request: EvidenceRequest): Promise<Map<string, Answer<Memberships>>>;
    groupUsers(groupIds: readonly string[], request: EvidenceRequest): Promise<Map<string, Answer<{ id: string; userPrincipalName?: string }[]>>>;
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
 * MFA evidence from Microsoft Graph. Each question is asked once per process (one process serves
 * one `pulumi preview` or `up`); answers, failures included, are kept for the run.
 */
export function graphMfaEvidence(options: GraphMfaEvidenceOptions = {}): MfaEvidence {
    const env = options.env ?? process.env;
    const graphOptions = { ...GRAPH_DEFAULTS, ...options.graph };
    const transportFor = options.transportFor ?? ((connection) => createGraphClientTransport(connection, () => defaultCredential(connection)));
    const transports = new Map<string, GraphTransport>();
    const answers = new Map<string, Promise<unknown>>();

    /** Asks `read` about the ids not asked before, once, and answers every id from the cache. */
    async function perId<T>(
        question: string,
        version: GraphRequest["version"],
        ids: readonly string[],
        request: EvidenceRequest,
        read: (runner: BatchRunner, ids: string[]) => Promise<Map<string, T>>,
        unverified: (reason: string) => T,
    ): Promise<Map<string, T>> {
        let connection: GraphConnection;
        try {
            connection = resolveGraphConnection(env, request.cloud);
        } catch (error) {
            if (!(error instanceof GraphConnectionError)) throw error;
            return new Map(ids.map((id) => [id, unverified(error.message)]));
        }
        const key = (id: string) => `${connection.graphBaseUrl}|${question}|${id.toLowerCase()}`;
        const toAsk = [...new Map(ids.map((id) => [key(id), id])).entries()].filter(([cacheKey]) => !answers.has(cacheKey)).map(([, id]) => id);
        if (toAsk.length > 0) {
            let transport = transports.get(connection.graphBaseUrl);
            if (!transport) {
                transport = transportFor(connection);
                transports.set(connection.graphBaseUrl, transport);
            }
            const runner = new BatchRunner(transport, { ...graphOptions, version, deadline: request.deadline });
            const asked = read(runner, toAsk);
            for (const id of toAsk) answers.set(key(id), asked.then((map) => map.get(id)!));
        }
        return new Map(await Promise.all(ids.map(async (id) => [id, (await answers.get(key(id))) as T] as const)));
    }

    const unverifiedAnswer = <T>(reason: string): Answer<T> => ({ kind: "unverified", reason });
    const TENANT = "tenant";

    return {
        perUserMfaStates: (ids, request) =>
            perId<PerUserMfaAnswer>("perUserMfa", "beta", ids, request, readPerUserMfaStates, (reason) => ({ kind: "unverified", reason })),
        conditionalAccessPolicies: async (request) =>
            (await perId("conditionalAccess", "v1.0", [TENANT], request, async (runner) => new Map([[TENANT, await readConditionalAccessPolicies(runner)]]), unverifiedAnswer<unknown[]>)).get(TENANT)!,
        securityDefaultsEnabled: async (request) =>
            (await perId("securityDefaults", "v1.0", [TENANT], request, async (runner) => new Map([[TENANT, await readSecurityDefaults(runner)]]), unverifiedAnswer<boolean>)).get(TENANT)!,
        mfaCapable: (ids, request) => perId("registration", "v1.0", ids, request, readMfaCapable, unverifiedAnswer<boolean>),
        memberships: (ids, request) => perId("memberships", "v1.0", ids, request, readMemberships, unverifiedAnswer<Memberships>),
        groupUsers: (ids, request) => perId("groupUsers", "v1.0", ids, request, readGroupUsers, unverifiedAnswer<{ id: string; userPrincipalName?: string }[]>),
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
