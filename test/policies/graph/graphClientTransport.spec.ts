import * as assert from "node:assert/strict";
import * as http from "node:http";
import { AddressInfo } from "node:net";
import type { TokenCredential } from "@azure/core-auth";
import { GraphConnection } from "../../../policies/graph/connection";
import { createGraphClientTransport, describeError } from "../../../policies/graph/graphClientTransport";
import { GraphRequest, GraphTransport, GraphTransportError } from "../../../policies/graph/types";

interface SeenRequest {
    method: string;
    url: string;
    body: string;
}

type Answer = (response: http.ServerResponse) => void;

/**
 * A plain-HTTP loopback server. The Graph client attaches tokens to https URLs only, so these
 * tests cover how the transport reads answers and sorts failures, not authentication; the
 * emulator's tests (test/emulator) drive the token path over TLS.
 */
async function startServer(answers: Record<string, Answer>) {
    const seen: SeenRequest[] = [];
    const server = http.createServer((request, response) => {
        let body = "";
        request.on("data", (chunk) => (body += chunk));
        request.on("end", () => {
            seen.push({ method: request.method ?? "", url: request.url ?? "", body });
            const answer = answers[request.url ?? ""];
            if (answer) answer(response);
            else response.writeHead(404).end();
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const close = () => {
        server.closeAllConnections();
        return new Promise<void>((resolve) => server.close(() => resolve()));
    };
    return { baseUrl, seen, close };
}

function connectionTo(graphBaseUrl: string): GraphConnection {
    return { cloud: "public", graphBaseUrl, tokenScope: `${graphBaseUrl}/.default`, authorityHost: "https://login.microsoftonline.com", disableInstanceDiscovery: false };
}

const staticCredential: TokenCredential = { getToken: async () => ({ token: "not-a-real-token", expiresOnTimestamp: Date.now() + 3_600_000 }) };

function get(path: string, timeoutMs = 5000): GraphRequest {
    return { method: "GET", version: "beta", path, timeoutMs };
}

async function failureOf(sending: Promise<unknown>): Promise<GraphTransportError> {
    try {
        await sending;
    } catch (error) {
        assert.ok(error instanceof GraphTransportError, `expected a GraphTransportError, got ${String(error)}`);
        return error;
    }
    assert.fail("the request did not fail");
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => (response) =>
    response.writeHead(status, { "Content-Type": "application/json", ...headers }).end(JSON.stringify(body));

describe("createGraphClientTransport", () => {
    let server: Awaited<ReturnType<typeof startServer>>;
    let credentialsMade: number;
    let transport: GraphTransport;
    const hanging: http.ServerResponse[] = [];

    beforeEach(async () => {
        server = await startServer({
            "/beta/users/alice%40contoso.com/authentication/requirements": json(200, { perUserMfaState: "enabled" }),
            "/v1.0/organization": json(200, { value: [] }),
            "/beta/$batch": json(200, { responses: [{ id: "1", status: 200, body: {} }] }),
            "/beta/throttled": json(429, { error: { code: "TooManyRequests" } }, { "Retry-After": "7" }),
            "/beta/no-content": (response) => response.writeHead(204).end(),
            "/beta/html": (response) => response.writeHead(502, { "Content-Type": "text/html" }).end("<html>Bad Gateway</html>"),
            "/beta/hang": (response) => hanging.push(response),
        });
        credentialsMade = 0;
        transport = createGraphClientTransport(connectionTo(server.baseUrl), async () => {
            credentialsMade++;
            return staticCredential;
        });
    });

    afterEach(async () => {
        hanging.splice(0).forEach((response) => response.destroy());
        await server.close();
    });

    it("gives the status, lower-cased headers and parsed body of a GET", async () => {
        const response = await transport.send(get("/users/alice%40contoso.com/authentication/requirements"));

        assert.equal(response.status, 200);
        assert.equal(response.headers["content-type"], "application/json");
        assert.deepEqual(response.body, { perUserMfaState: "enabled" });
        assert.deepEqual(server.seen, [{ method: "GET", url: "/beta/users/alice%40contoso.com/authentication/requirements", body: "" }]);
    });

    it("sends the version it is given", async () => {
        await transport.send({ ...get("/organization"), version: "v1.0" });

        assert.deepEqual(
            server.seen.map((seen) => seen.url),
            ["/v1.0/organization"],
        );
    });

    it("POSTs the $batch body as JSON", async () => {
        const body = { requests: [{ id: "1", method: "GET", url: "/users/u1/authentication/requirements" }] };

        const response = await transport.send({ method: "POST", version: "beta", path: "/$batch", body, timeoutMs: 5000 });

        assert.equal(response.status, 200);
        assert.deepEqual(
            server.seen.map((seen) => [seen.method, seen.url, JSON.parse(seen.body)]),
            [["POST", "/beta/$batch", body]],
        );
    });

    it("gives an error status as an answer, with its Retry-After, not as a failure", async () => {
        const response = await transport.send(get("/throttled"));

        assert.equal(response.status, 429);
        assert.equal(response.headers["retry-after"], "7");
        assert.deepEqual(response.body, { error: { code: "TooManyRequests" } });
    });

    it("gives an empty body as undefined", async () => {
        const response = await transport.send(get("/no-content"));

        assert.equal(response.status, 204);
        assert.equal(response.body, undefined);
    });

    it("fails as malformed when the body is not JSON", async () => {
        const failure = await failureOf(transport.send(get("/html")));

        assert.equal(failure.kind, "malformed");
        assert.equal(failure.message, "Graph answered HTTP 502 with a body that is not JSON");
    });

    it("fails as a timeout when Graph does not answer in time", async () => {
        const failure = await failureOf(transport.send(get("/hang", 1000)));

        assert.equal(failure.kind, "timeout");
        assert.equal(failure.message, "Graph did not answer within 1 s");
    });

    it("fails as a network failure when nothing listens", async () => {
        await server.close();

        const failure = await failureOf(transport.send(get("/users/alice%40contoso.com/authentication/requirements")));

        assert.equal(failure.kind, "network");
        assert.match(failure.message, /^could not reach Graph/);
    });

    it("fails as a credential failure with the first line of the credential's error", async () => {
        const failing = createGraphClientTransport(connectionTo(server.baseUrl), async () => {
            throw new Error("DefaultAzureCredential failed to retrieve a token from the included credentials.\nAttempted credentials: ...");
        });

        const failure = await failureOf(failing.send(get("/users/alice%40contoso.com/authentication/requirements")));

        assert.equal(failure.kind, "credential");
        assert.equal(failure.message, "DefaultAzureCredential failed to retrieve a token from the included credentials.");
        assert.deepEqual(server.seen, []);
    });

    it("asks for a credential again after a credential failure", async () => {
        let calls = 0;
        const flaky = createGraphClientTransport(connectionTo(server.baseUrl), async () => {
            if (++calls === 1) throw new Error("ManagedIdentityCredential: no response from the IMDS endpoint");
            return staticCredential;
        });

        await failureOf(flaky.send(get("/users/alice%40contoso.com/authentication/requirements")));
        const response = await flaky.send(get("/users/alice%40contoso.com/authentication/requirements"));

        assert.equal(response.status, 200);
        assert.equal(calls, 2);
    });

    it("makes one credential for many requests, and a new one after refreshCredential()", async () => {
        await transport.send(get("/users/alice%40contoso.com/authentication/requirements"));
        await transport.send(get("/users/alice%40contoso.com/authentication/requirements"));
        assert.equal(credentialsMade, 1);

        transport.refreshCredential();
        await transport.send(get("/users/alice%40contoso.com/authentication/requirements"));

        assert.equal(credentialsMade, 2);
    });

    describe("regressions", () => {
        // The Graph client rethrows fetch's TypeError as a GraphError without its `cause`, so the
        // system code (ECONNREFUSED...) was lost and the message said only "fetch failed".
        it("names the system error when nothing listens", async () => {
            await server.close();

            const failure = await failureOf(transport.send(get("/users/alice%40contoso.com/authentication/requirements")));

            assert.match(failure.message, /ECONNREFUSED/);
        });

        // graphClientTransport.ts classifyError() rounds the timeout to whole seconds; near the
        // deadline BatchRunner gives timeouts under 500 ms, reported as "within 0 s".
        it("does not report a sub-second timeout as 0 s", async () => {
            const failure = await failureOf(transport.send(get("/hang", 300)));

            assert.equal(failure.kind, "timeout");
            assert.doesNotMatch(failure.message, /within 0 s/);
        });
    });
});

describe("describeError", () => {
    it("gives the first non-blank line of an error's message", () => {
        assert.equal(describeError(new Error("\n  \nAADSTS7000215: Invalid client secret provided.\nTrace ID: 1234")), "AADSTS7000215: Invalid client secret provided.");
    });

    it("cuts a long line at 300 characters", () => {
        const described = describeError(new Error("x".repeat(400)));

        assert.equal(described, `${"x".repeat(300)}…`);
    });

    it("describes values that are not errors", () => {
        assert.equal(describeError("plain string"), "plain string");
        assert.equal(describeError(42), "42");
        assert.equal(describeError(new Error("")), "unknown error");
    });
});
