/**
 * Run as a child process by graphEmulator.spec.ts with the emulator's `env()`, because
 * `NODE_EXTRA_CA_CERTS` is read only when a process starts. It drives the real clients the pack
 * uses against the emulator and prints one JSON line describing what happened (never the token).
 *
 *   node clientProbe.js identity <userId>        DefaultAzureCredential + fetch
 *   node clientProbe.js graphClient <userId> <customHost>   microsoft-graph-client
 */
import { DefaultAzureCredential } from "@azure/identity";
import { Client } from "@microsoft/microsoft-graph-client";
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

async function probeGraphClient(graphEndpoint: string, userId: string, customHost: string): Promise<ProbeOutcome> {
    const credential = new DefaultAzureCredential({ disableInstanceDiscovery: true });
    const authProvider = new TokenCredentialAuthenticationProvider(credential, { scopes: [`${graphEndpoint}/.default`] });
    const client = Client.initWithMiddleware({
        authProvider,
        baseUrl: graphEndpoint,
        defaultVersion: "beta",
        customHosts: new Set([customHost]),
    });
    try {
        const body: unknown = await client.api(`/users/${encodeURIComponent(userId)}/authentication/requirements`).get();
        return { status: 200, body };
    } catch (error) {
        const graphError = error as { name: string; statusCode?: number; code?: string; message: string };
        return { error: { name: graphError.name, statusCode: graphError.statusCode, code: graphError.code, message: graphError.message } };
    }
}

async function main(): Promise<void> {
    const [mode, userId, customHost] = process.argv.slice(2);
    const graphEndpoint = process.env.ENTRA_MFA_GUARD_GRAPH_ENDPOINT;
    if (graphEndpoint === undefined || userId === undefined) throw new Error("usage: clientProbe <identity|graphClient> <userId> [customHost]; needs the emulator's env()");
    const outcome = mode === "identity" ? await probeIdentity(graphEndpoint, userId) : await probeGraphClient(graphEndpoint, userId, customHost ?? "");
    process.stdout.write(`${JSON.stringify(outcome)}\n`);
}

main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
});
