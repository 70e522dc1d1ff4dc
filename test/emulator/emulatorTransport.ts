import { GraphResponse, GraphTransport, GraphTransportError } from "../../policies/graph/types";
import { accessToken, callEmulator } from "./emulatorClient";
import { GraphEmulator } from "./graphEmulator";

/**
 * A `GraphTransport` straight onto the emulator, so `graphMfaEvidence` can be driven in this
 * process: the real transport trusts the emulator's certificate only through NODE_EXTRA_CA_CERTS,
 * which Node reads at start-up.
 */
export function emulatorTransport(emulator: GraphEmulator): GraphTransport {
    let token: Promise<string> | undefined;
    return {
        async send(request): Promise<GraphResponse> {
            token ??= accessToken(emulator);
            let reply;
            try {
                reply = await callEmulator(emulator, request.method, `/${request.version}${request.path}`, {
                    token: await token,
                    body: request.body === undefined ? undefined : JSON.stringify(request.body),
                    timeoutMs: request.timeoutMs,
                });
            } catch (error) {
                throw new GraphTransportError(String(error).includes("client timeout") ? "timeout" : "network", String(error));
            }
            let body: unknown;
            try {
                body = reply.text === "" ? undefined : JSON.parse(reply.text);
            } catch {
                throw new GraphTransportError("malformed", `Graph answered HTTP ${reply.status} with a body that is not JSON`);
            }
            const headers = Object.fromEntries(Object.entries(reply.headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
            return { status: reply.status, headers, body };
        },
        refreshCredential() {
            token = undefined;
        },
    };
}
