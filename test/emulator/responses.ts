import { randomUUID } from "node:crypto";

/** An answer the emulator is about to send: always a JSON body. */
export interface EmulatorResponse {
    status: number;
    headers: Record<string, string>;
    body: unknown;
}

/** Graph's content type for JSON (OData minimal metadata). */
export const GRAPH_JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

const GRAPH_ERROR_CODES: Record<number, string> = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "Authorization_RequestDenied",
    404: "Request_ResourceNotFound",
    405: "Request_BadRequest",
    429: "TooManyRequests",
    500: "UnknownError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
};

const GRAPH_ERROR_MESSAGES: Record<string, string> = {
    InvalidAuthenticationToken: "Access token validation failure. Invalid audience.",
    Authorization_RequestDenied: "Insufficient privileges to complete the operation.",
    Request_ResourceNotFound: "Resource does not exist or one of its queried reference-property objects are not present.",
    TooManyRequests: "Too many requests.",
};

/**
 * A Graph error in the documented shape, `innerError` included
 * (https://learn.microsoft.com/graph/errors#json-representation).
 */
export function graphError(
    status: number,
    options: { code?: string; message?: string; retryAfterSeconds?: number | null; requestId?: string } = {},
): EmulatorResponse {
    const code = options.code ?? GRAPH_ERROR_CODES[status] ?? "UnknownError";
    const requestId = options.requestId ?? randomUUID();
    const headers: Record<string, string> = { "Content-Type": GRAPH_JSON, "request-id": requestId };
    const retryAfterSeconds = options.retryAfterSeconds === undefined && status === 429 ? 1 : options.retryAfterSeconds;
    if (typeof retryAfterSeconds === "number") headers["Retry-After"] = String(retryAfterSeconds);
    if (status === 401) headers["WWW-Authenticate"] = 'Bearer realm="", error="invalid_token"';
    return {
        status,
        headers,
        body: {
            error: {
                code,
                message: options.message ?? GRAPH_ERROR_MESSAGES[code] ?? `The service answered ${status}.`,
                innerError: { date: new Date().toISOString().replace(/\.\d{3}Z$/, ""), "request-id": requestId, "client-request-id": requestId },
            },
        },
    };
}

/** AADSTS numbers of the token-service errors the emulator raises on its own. */
const AADSTS_CODES: Record<string, number> = {
    invalid_client: 7000215,
    unauthorized_client: 700016,
    invalid_tenant: 90002,
    invalid_scope: 1002012,
    unsupported_grant_type: 70003,
};

const OAUTH_ERRORS_BY_STATUS: Record<number, string> = {
    400: "invalid_request",
    401: "invalid_client",
    429: "temporarily_unavailable",
};

/**
 * An Entra token-service error: OAuth 2.0 `error` plus Entra's `error_codes`, trace and
 * correlation ids (https://learn.microsoft.com/entra/identity-platform/reference-error-codes).
 */
export function oauthError(
    status: number,
    options: { error?: string; description?: string; retryAfterSeconds?: number | null; correlationId?: string } = {},
): EmulatorResponse {
    const error = options.error ?? OAUTH_ERRORS_BY_STATUS[status] ?? (status >= 500 ? "temporarily_unavailable" : "invalid_request");
    const aadsts = AADSTS_CODES[error];
    const traceId = randomUUID();
    const correlationId = options.correlationId ?? randomUUID();
    const timestamp = new Date().toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "Z");
    const description = `${aadsts === undefined ? "" : `AADSTS${aadsts}: `}${options.description ?? `The emulated token service answered ${status}.`}`;
    const headers: Record<string, string> = { "Content-Type": "application/json; charset=utf-8" };
    if (typeof options.retryAfterSeconds === "number") headers["Retry-After"] = String(options.retryAfterSeconds);
    return {
        status,
        headers,
        body: {
            error,
            error_description: `${description}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
            error_codes: aadsts === undefined ? [] : [aadsts],
            timestamp,
            trace_id: traceId,
            correlation_id: correlationId,
        },
    };
}

export function json(status: number, body: unknown, contentType = GRAPH_JSON): EmulatorResponse {
    return { status, headers: { "Content-Type": contentType }, body };
}
