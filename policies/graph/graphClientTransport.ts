import type { TokenCredential } from "@azure/core-auth";
import type { Context, Middleware } from "@microsoft/microsoft-graph-client";
import { GraphConnection } from "./connection";
import { GraphRequest, GraphResponse, GraphTransport, GraphTransportError } from "./types";

/**
 * The real transport: `@microsoft/microsoft-graph-client` with an `@azure/identity` credential.
 * The client's middleware is cut to authentication + HTTP: retries are the pack's own (per
 * sub-request, within one time budget), and the client's retry handler would retry only the
 * outer `$batch` with a budget of its own.
 *
 * Both libraries load on first use, not at pack start: a preview with no user to ask pays nothing.
 */
export function createGraphClientTransport(connection: GraphConnection, makeCredential: () => Promise<TokenCredential>): GraphTransport {
    type Client = import("@microsoft/microsoft-graph-client").Client;
    let client: Promise<Client> | undefined;

    const createClient = async (): Promise<Client> => {
        const graph = await import("@microsoft/microsoft-graph-client");
        const { TokenCredentialAuthenticationProvider } = await import("@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials");
        const credential = await makeCredential();
        const authentication = new graph.AuthenticationHandler(
            new TokenCredentialAuthenticationProvider(credential, { scopes: [connection.tokenScope] }),
        );
        authentication.setNext(fetchKeepingSystemErrors);
        return graph.Client.initWithMiddleware({
            baseUrl: connection.graphBaseUrl,
            // The client attaches the token only to hosts it knows as Graph; a loopback endpoint
            // (tests, air-gapped proxies) was already checked by resolveGraphConnection.
            customHosts: new Set([new URL(connection.graphBaseUrl).hostname]),
            middleware: authentication,
        });
    };

    return {
        async send(request: GraphRequest): Promise<GraphResponse> {
            const { ResponseType } = await import("@microsoft/microsoft-graph-client");
            client ??= createClient();
            let api;
            try {
                api = (await client)
                    .api(request.path)
                    .version(request.version)
                    .responseType(ResponseType.RAW)
                    .option("signal", AbortSignal.timeout(request.timeoutMs));
            } catch (error) {
                client = undefined;
                throw credentialError(error);
            }
            let response: Response;
            try {
                response = request.method === "POST" ? await api.post(request.body) : await api.get();
            } catch (error) {
                throw classifyError(error, request);
            }
            return readResponse(response);
        },
        refreshCredential() {
            // A new client gets a new credential, whose token cache is empty.
            client = undefined;
        },
    };
}

/**
 * The client's HTTPMessageHandler, but a network failure keeps its system code (ECONNREFUSED,
 * ENOTFOUND…): the client rethrows fetch's error as a GraphError without its `cause`.
 */
const fetchKeepingSystemErrors: Middleware = {
    async execute(context: Context): Promise<void> {
        try {
            context.response = await fetch(context.request, context.options as RequestInit);
        } catch (error) {
            const code = errorChain(error)
                .map((e) => String((e as { code?: unknown }).code))
                .find((c) => /^E[A-Z]+$/.test(c) || c.startsWith("UND_ERR"));
            const kept = new Error(code ? `${describeError(error)} (${code})` : describeError(error));
            kept.name = (error as Error)?.name ?? "Error";
            throw kept;
        }
    },
};

async function readResponse(response: Response): Promise<GraphResponse> {
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => (headers[key.toLowerCase()] = value));
    const text = await response.text().catch((error) => {
        throw new GraphTransportError("network", `the connection broke while reading Graph's answer (${describeError(error)})`);
    });
    if (text === "") return { status: response.status, headers, body: undefined };
    try {
        return { status: response.status, headers, body: JSON.parse(text) };
    } catch {
        throw new GraphTransportError("malformed", `Graph answered HTTP ${response.status} with a body that is not JSON`);
    }
}

/** Sorts a thrown error into credential / timeout / network, without echoing anything secret. */
function classifyError(error: unknown, request: GraphRequest): GraphTransportError {
    const names = errorChain(error).map((e) => String((e as { name?: unknown; code?: unknown }).name ?? (e as { code?: unknown }).code));
    const codes = errorChain(error).map((e) => String((e as { code?: unknown }).code));
    if (names.some((n) => /Credential|Authentication|AggregateAuthentication/.test(n)) || codes.some((c) => /Credential|Authentication/.test(c))) {
        return credentialError(error);
    }
    if (names.includes("TimeoutError") || names.includes("AbortError") || codes.includes("TimeoutError") || codes.includes("AbortError")) {
        const limit = request.timeoutMs < 1000 ? `${request.timeoutMs} ms` : `${Math.round(request.timeoutMs / 1000)} s`;
        return new GraphTransportError("timeout", `Graph did not answer within ${limit}`);
    }
    const systemCode = codes.find((c) => /^E[A-Z]+$/.test(c) || c.startsWith("UND_ERR")) ?? /\((E[A-Z]+|UND_ERR\w+)\)/.exec(String((error as Error)?.message))?.[1];
    return new GraphTransportError("network", `could not reach Graph${systemCode ? ` (${systemCode})` : ""}: ${describeError(error)}`);
}

function errorChain(error: unknown): unknown[] {
    const chain: unknown[] = [];
    for (let current = error; current && chain.length < 6; current = (current as { cause?: unknown }).cause) chain.push(current);
    return chain;
}

/**
 * A credential that gave no token, with its real cause: a chained credential's first line only says
 * it failed, so the first line of each credential it tried is kept (a few, each short).
 */
function credentialError(error: unknown): GraphTransportError {
    const setup = errorChain(error).find((e) => (e as { name?: unknown }).name === "CredentialSetupError");
    if (setup) return new GraphTransportError("credential", (setup as Error).message, true);
    const inner = (error as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length > 0) {
        const causes = [...new Set(inner.map(describeError))];
        return new GraphTransportError("credential", `${causes.slice(0, 4).join("; ")}${causes.length > 4 ? `; and ${causes.length - 4} more` : ""}`);
    }
    return new GraphTransportError("credential", describeError(error));
}

/** The first line of an error message, short: identity errors can be long, and never need more. */
export function describeError(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    const firstLine = message.split("\n").find((line) => line.trim() !== "") ?? "unknown error";
    return firstLine.length > 300 ? `${firstLine.slice(0, 300)}…` : firstLine;
}
