import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { GraphConnection } from "./connection";

/**
 * The credential the pack signs in with, from the environment only (never policy config, which
 * is not secret). Pulumi ESC's azure-login provider and the Pulumi Azure providers speak `ARM_*`
 * (https://www.pulumi.com/docs/esc/providers/login/azure-login/), which `@azure/identity` does not
 * read; those are honoured first, then `DefaultAzureCredential`: environment (`AZURE_*`), workload
 * identity (`AZURE_FEDERATED_TOKEN_FILE`), managed identity, then developer sign-ins like `az login`.
 */
export async function credentialFor(connection: GraphConnection, env: NodeJS.ProcessEnv): Promise<TokenCredential> {
    return sharingTokenRequests(await chooseCredential(connection, env));
}

/** A credential set up wrong in the environment; its message says what to fix. */
export class CredentialSetupError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CredentialSetupError";
    }
}

/**
 * What `@azure/identity` accepts as a tenant (its `checkTenantId`): a GUID or a domain. Anything else
 * makes `DefaultAzureCredential` drop its environment credential without a word and fail later
 * with "ChainedTokenCredential authentication failed", so it is caught here with its real cause.
 */
const TENANT_ID = /^[0-9A-Za-z.-]+$/;

async function chooseCredential(connection: GraphConnection, env: NodeJS.ProcessEnv): Promise<TokenCredential> {
    for (const name of ["AZURE_TENANT_ID", "ARM_TENANT_ID"] as const) {
        const value = env[name];
        if (value && !TENANT_ID.test(value)) {
            throw new CredentialSetupError(`${name} is '${value}', which is not a tenant id: set it to the tenant's id (a GUID) or a verified domain such as contoso.onmicrosoft.com`);
        }
    }
    const identity = await import("@azure/identity");
    const options = { authorityHost: connection.authorityHost, disableInstanceDiscovery: connection.disableInstanceDiscovery };
    const tenantId = env.AZURE_TENANT_ID || env.ARM_TENANT_ID;
    const clientId = env.AZURE_CLIENT_ID || env.ARM_CLIENT_ID;
    const oidcToken = env.ARM_OIDC_TOKEN;
    if (oidcToken && tenantId && clientId && env.ARM_USE_OIDC !== "false") {
        // Workload identity federation with a token handed over in the environment (ESC, CI).
        return new identity.ClientAssertionCredential(tenantId, clientId, async () => oidcToken, options);
    }
    if (env.ARM_CLIENT_SECRET && tenantId && clientId && !env.AZURE_CLIENT_SECRET) {
        return new identity.ClientSecretCredential(tenantId, clientId, env.ARM_CLIENT_SECRET, options);
    }
    return new identity.DefaultAzureCredential(options);
}

/**
 * Batches start in parallel, each asking for a token before any is cached; one request to the
 * token service serves them all.
 */
export function sharingTokenRequests(credential: TokenCredential): TokenCredential {
    const inFlight = new Map<string, Promise<AccessToken | null>>();
    return {
        getToken(scopes: string | string[], options?: GetTokenOptions) {
            const key = [scopes].flat().join(" ");
            let request = inFlight.get(key);
            if (!request) {
                request = credential.getToken(scopes, options).finally(() => inFlight.delete(key));
                inFlight.set(key, request);
            }
            return request;
        },
    };
}
