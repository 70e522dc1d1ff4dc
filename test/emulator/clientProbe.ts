/**
 * Run as a child process by graphEmulator.spec.ts with the emulator's `env()`, because
 * `NODE_EXTRA_CA_CERTS` is read only when a process starts. It drives the real clients the pack
 * uses against the emulator and prints one JSON line describing what happened (never the token).
 *
 *   node clientProbe.js identity <userId>        DefaultAzureCredential + fetch
 *   node clientProbe.js graphClient <userId> <customHost>   microsoft-graph-client
 *   node clientProbe.js conditionalAccess <customHost>      microsoft-graph-client + PageIterator over v1.0 CA policies
 */
import { DefaultAzureCredential } from "@azure/identity";
import { Client, PageCollection, PageIterator } from "@microsoft/microsoft-graph-client";
import { TokenCredentialAuthenticationProvider } from "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials";

/** What the probe prints. */
export interface ProbeOutcome {
    tokenObtained?: boolean;
    tokenExpiresInSeconds?: number;
    status?: number;
    body?: unknown;
    error?: { name: string; statusCode?: number; code?: string; message: string };
}

async function probeIdentity(graphEndpoint: string, userId: string): Promise<ProbeOutcome> {
    // A loopback authority is not one Microsoft's instance discovery knows, so MSAL must skip it.
    const credential = new DefaultAzureCredential({ disableInstanceDiscovery: true });
    const token = await credential.getToken(`${graphEndpoint}/.default`);
    const response = await fetch(`${graphEndpoint}/beta/users/${encodeURIComponent(userId)}/authentication/requirements`, {
        headers: { Authorization: `Bearer ${token.token}` },
    });
    return {
        tokenObtained: token.token.length > 0,
        tokenExpiresInSeconds: Math.round((token.expiresOnTimestamp - Date.now()) / 1000),
        status: response.status,
        body: await response.json(),
    };
}

function graphClient(graphEndpoint: string, customHost: string, defaultVersion: string): Client {
    const credential = new DefaultAzureCredential({ disableInstanceDiscovery: true });
    const authProvider = new TokenCredentialAuthenticationProvider(credential, { scopes: [`${graphEndpoint}/.default`] });
    return Client.initWithMiddleware({ authProvider, baseUrl: graphEndpoint, defaultVersion, customHosts: new Set([customHost]) });
}

function describeError(error: unknown): ProbeOutcome {
    const graphError = error as { name: string; statusCode?: number; code?: string; message: string };
    return { error: { name: graphError.name, statusCode: graphError.statusCode, code: graphError.code, message: graphError.message } };
}

async function probeGraphClient(graphEndpoint: string, userId: string, customHost: string): Promise<ProbeOutcome> {
    const client = graphClient(graphEndpoint, customHost, "beta");
    try {
        const body: unknown = await client.api(`/users/${encodeURIComponent(userId)}/authentication/requirements`).get();
        return { status: 200, body };
    } catch (error) {
        return describeError(error);
    }
}

/** Lists every Conditional Access policy the way an SDK user would: first page, then PageIterator through each nextLink. */
async function probeConditionalAccess(graphEndpoint: string, customHost: string): Promise<ProbeOutcome> {
    const client = graphClient(graphEndpoint, customHost, "v1.0");
    try {
        const firstPage: PageCollection = await client.api("/identity/conditionalAccess/policies").get();
        const policies: { id: string; state: string }[] = [];
        const iterator = new PageIterator(client, firstPage, (policy: { id: string; state: string }) => {
            policies.push({ id: policy.id, state: policy.state });
            return true;
        });
        await iterator.iterate();
        return { status: 200, body: { policies } };
    } catch (error) {
        return describeError(error);
    }
}

async function main(): Promise<void> {
    const [mode, ...args] = process.argv.slice(2);
    const graphEndpoint = process.env.ENTRA_MFA_GUARD_GRAPH_ENDPOINT;
    if (graphEndpoint === undefined) throw new Error("clientProbe needs the emulator's env()");
    let outcome: ProbeOutcome;
    if (mode === "identity" && args.length === 1) outcome = await probeIdentity(graphEndpoint, args[0]);
    else if (mode === "graphClient" && args.length === 2) outcome = await probeGraphClient(graphEndpoint, args[0], args[1]);
    else if (mode === "conditionalAccess" && args.length === 1) outcome = await probeConditionalAccess(graphEndpoint, args[0]);
    else throw new Error("usage: clientProbe identity <userId> | graphClient <userId> <customHost> | conditionalAccess <customHost>");
    process.stdout.write(`${JSON.stringify(outcome)}\n`);
}

main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
});
