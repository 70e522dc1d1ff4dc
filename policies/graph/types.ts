/** One HTTP request to Graph, relative to the service root (`/beta/...`). */
export interface GraphRequest {
    method: "GET" | "POST";
    version: "beta" | "v1.0";
    /** The path after the version, starting with `/`, e.g. `/users/{id}/authentication/requirements`. */
    path: string;
    body?: unknown;
    timeoutMs: number;
}

export interface GraphResponse {
    status: number;
    /** Lower-case header names. */
    headers: Record<string, string>;
    body: unknown;
}

export type GraphFailureKind = "credential" | "network" | "timeout" | "malformed";

/** A request that got no HTTP answer Graph could have meant, or a credential that gave no token. */
export class GraphTransportError extends Error {
    constructor(
        readonly kind: GraphFailureKind,
        message: string,
        /** The message already says what to fix (a credential set up wrong), so no generic advice is added. */
        readonly saysItsFix = false,
    ) {
        super(message);
        this.name = "GraphTransportError";
    }
}

/** Sends one request. The only layer that does I/O; everything above it is tested with a fake. */
export interface GraphTransport {
    send(request: GraphRequest): Promise<GraphResponse>;
    /** Forgets cached tokens, so the next request asks the credential again (after a 401). */
    refreshCredential(): void;
}

/** The body of a Graph error (https://learn.microsoft.com/graph/errors). */
export function graphErrorCode(body: unknown): string | undefined {
    const error = (body as { error?: { code?: unknown } } | null)?.error;
    return typeof error?.code === "string" ? error.code : undefined;
}
