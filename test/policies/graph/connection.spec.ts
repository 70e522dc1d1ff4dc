import * as assert from "node:assert/strict";
import { CLOUD_NAMES, CLOUDS } from "../../../policies/graph/clouds";
import { GRAPH_ENDPOINT_VARIABLE, GraphConnectionError, isLoopbackUrl, resolveGraphConnection } from "../../../policies/graph/connection";

function refusal(endpoint: string): string {
    try {
        resolveGraphConnection({ [GRAPH_ENDPOINT_VARIABLE]: endpoint });
    } catch (error) {
        assert.ok(error instanceof GraphConnectionError, `expected a GraphConnectionError, got ${String(error)}`);
        return error.message;
    }
    assert.fail(`${endpoint} was accepted`);
}

describe("resolveGraphConnection", () => {
    it("uses the public cloud when nothing is set", () => {
        assert.deepEqual(resolveGraphConnection({}), {
            cloud: "public",
            graphBaseUrl: "https://graph.microsoft.com",
            tokenScope: "https://graph.microsoft.com/.default",
            authorityHost: "https://login.microsoftonline.com",
            disableInstanceDiscovery: false,
        });
    });

    it("treats a blank ARM_ENVIRONMENT as unset", () => {
        assert.equal(resolveGraphConnection({ ARM_ENVIRONMENT: "  " }).cloud, "public");
    });

    describe("ARM_ENVIRONMENT", () => {
        const expectedClouds: [value: string, cloud: keyof typeof CLOUDS][] = [
            ["public", "public"],
            ["AzureCloud", "public"],
            ["usgovernment", "usgovernment"],
            ["AzureUSGovernment", "usgovernment"],
            ["usgovernmentdod", "usgovernmentdod"],
            ["dod", "usgovernmentdod"],
            ["china", "china"],
            ["AzureChinaCloud", "china"],
            [" CHINA ", "china"],
        ];
        for (const [value, cloud] of expectedClouds) {
            it(`reads '${value}' as the ${cloud} cloud`, () => {
                const connection = resolveGraphConnection({ ARM_ENVIRONMENT: value });

                assert.equal(connection.cloud, cloud);
                assert.equal(connection.graphBaseUrl, CLOUDS[cloud].graph);
                assert.equal(connection.authorityHost, CLOUDS[cloud].authority);
            });
        }

        it("names the accepted values when it cannot read the variable", () => {
            assert.throws(
                () => resolveGraphConnection({ ARM_ENVIRONMENT: "germany" }),
                (error: unknown) =>
                    error instanceof GraphConnectionError &&
                    error.message === "ARM_ENVIRONMENT is 'germany'; expected one of public, usgovernment, usgovernmentdod, china.",
            );
        });
    });

    it("uses the national clouds' Graph and authority hosts", () => {
        assert.deepEqual(
            CLOUD_NAMES.map((cloud) => {
                const connection = resolveGraphConnection({}, cloud);
                return [cloud, connection.graphBaseUrl, connection.authorityHost];
            }),
            [
                ["public", "https://graph.microsoft.com", "https://login.microsoftonline.com"],
                ["usgovernment", "https://graph.microsoft.us", "https://login.microsoftonline.us"],
                ["usgovernmentdod", "https://dod-graph.microsoft.us", "https://login.microsoftonline.us"],
                ["china", "https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn"],
            ],
        );
    });

    it("lets the configured cloud win over ARM_ENVIRONMENT", () => {
        assert.equal(resolveGraphConnection({ ARM_ENVIRONMENT: "china" }, "usgovernment").cloud, "usgovernment");
    });

    it("ignores an unreadable ARM_ENVIRONMENT when a cloud is configured", () => {
        assert.equal(resolveGraphConnection({ ARM_ENVIRONMENT: "germany" }, "public").cloud, "public");
    });

    it("asks for a token scoped to the Graph root", () => {
        assert.equal(resolveGraphConnection({}, "china").tokenScope, "https://microsoftgraph.chinacloudapi.cn/.default");
        assert.equal(resolveGraphConnection({ [GRAPH_ENDPOINT_VARIABLE]: "https://127.0.0.1:8443" }).tokenScope, "https://127.0.0.1:8443/.default");
    });

    describe(GRAPH_ENDPOINT_VARIABLE, () => {
        for (const cloud of CLOUD_NAMES) {
            it(`accepts the ${cloud} Graph host ${CLOUDS[cloud].graph}`, () => {
                assert.equal(resolveGraphConnection({ [GRAPH_ENDPOINT_VARIABLE]: CLOUDS[cloud].graph }).graphBaseUrl, CLOUDS[cloud].graph);
            });
        }

        it("keeps the cloud's authority when it only moves Graph", () => {
            const connection = resolveGraphConnection({ [GRAPH_ENDPOINT_VARIABLE]: "https://graph.microsoft.us", ARM_ENVIRONMENT: "usgovernment" });

            assert.equal(connection.cloud, "usgovernment");
            assert.equal(connection.authorityHost, "https://login.microsoftonline.us");
        });

        const acceptedEndpoints: [endpoint: string, graphBaseUrl: string][] = [
            ["https://127.0.0.1:8443", "https://127.0.0.1:8443"],
            ["https://127.0.0.1:8443/", "https://127.0.0.1:8443"],
            ["https://127.45.6.7", "https://127.45.6.7"],
            ["https://[::1]:9", "https://[::1]:9"],
            ["https://localhost:1", "https://localhost:1"],
            [" https://GRAPH.Microsoft.com ", "https://graph.microsoft.com"],
        ];
        for (const [endpoint, graphBaseUrl] of acceptedEndpoints) {
            it(`accepts '${endpoint}' as ${graphBaseUrl}`, () => {
                assert.equal(resolveGraphConnection({ [GRAPH_ENDPOINT_VARIABLE]: endpoint }).graphBaseUrl, graphBaseUrl);
            });
        }

        it("refuses plain http, even on loopback", () => {
            assert.equal(refusal("http://127.0.0.1:8080"), `${GRAPH_ENDPOINT_VARIABLE} is refused: it must use https. No request was sent.`);
            assert.match(refusal("http://graph.microsoft.com"), /it must use https/);
        });

        for (const host of ["graph.microsoft.com.evil.io", "evil.example.com", "10.0.0.1", "169.254.169.254", "localhost.evil.io", "[::ffff:a9fe:a9fe]", "graph.microsoft.com."]) {
            it(`refuses the host ${host}`, () => {
                assert.match(refusal(`https://${host}`), /is neither a Microsoft Graph host \(graph\.microsoft\.com, graph\.microsoft\.us, dod-graph\.microsoft\.us, microsoftgraph\.chinacloudapi\.cn\) nor a loopback address\. No request was sent\.$/);
            });
        }

        it("refuses credentials in the URL", () => {
            assert.match(refusal("https://user:pass@graph.microsoft.com"), /it must not carry credentials/);
            assert.match(refusal("https://user@127.0.0.1"), /it must not carry credentials/);
        });

        for (const endpoint of ["https://graph.microsoft.com/v1.0", "https://127.0.0.1:8443/beta/", "https://graph.microsoft.com/?x=1", "https://graph.microsoft.com/#top"]) {
            it(`refuses the path, query or fragment in '${endpoint}'`, () => {
                assert.match(refusal(endpoint), /it must be a service root without a path, such as https:\/\/graph\.microsoft\.us/);
            });
        }

        it("refuses what is not a URL", () => {
            assert.equal(refusal("graph.microsoft.com"), `${GRAPH_ENDPOINT_VARIABLE} is not a URL.`);
        });

        it("treats a blank value as unset", () => {
            assert.equal(resolveGraphConnection({ [GRAPH_ENDPOINT_VARIABLE]: "  " }).graphBaseUrl, "https://graph.microsoft.com");
        });
    });

    describe("AZURE_AUTHORITY_HOST", () => {
        it("is used as the authority", () => {
            assert.equal(resolveGraphConnection({ AZURE_AUTHORITY_HOST: "https://login.microsoftonline.us" }).authorityHost, "https://login.microsoftonline.us");
        });

        for (const authority of ["https://127.0.0.1:9443", "https://localhost:9443", "https://[::1]:9443"]) {
            it(`turns instance discovery off for the loopback authority ${authority}`, () => {
                assert.equal(resolveGraphConnection({ AZURE_AUTHORITY_HOST: authority }).disableInstanceDiscovery, true);
            });
        }

        for (const authority of ["https://login.microsoftonline.com", "https://login.chinacloudapi.cn", "https://10.0.0.1", "not a url"]) {
            it(`keeps instance discovery for the authority '${authority}'`, () => {
                assert.equal(resolveGraphConnection({ AZURE_AUTHORITY_HOST: authority }).disableInstanceDiscovery, false);
            });
        }
    });
});

describe("isLoopbackUrl", () => {
    it("recognises the IPv4 loopback range, ::1 and localhost only", () => {
        assert.deepEqual(
            ["https://127.0.0.1", "https://127.255.255.254:1", "https://[::1]", "https://localhost", "https://128.0.0.1", "https://[::2]", "https://localhost.example", "127.0.0.1"].map(isLoopbackUrl),
            [true, true, true, true, false, false, false, false],
        );
    });
});
