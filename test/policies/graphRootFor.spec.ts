import * as assert from "node:assert/strict";
import { graphRootFor } from "../../policies/nonPrivilegedUserMfa";

describe("graphRootFor", () => {
    it("shows the public cloud's Graph root when nothing names a cloud", () => {
        assert.equal(graphRootFor({}, undefined), "https://graph.microsoft.com");
    });

    it("shows the cloud's root, not a loopback endpoint the requests were redirected to", () => {
        const env = { ENTRA_MFA_GUARD_GRAPH_ENDPOINT: "https://127.0.0.1:40123" };
        assert.equal(graphRootFor(env, undefined), "https://graph.microsoft.com");
        assert.equal(graphRootFor(env, "usgovernmentdod"), "https://dod-graph.microsoft.us");
    });

    it("follows ARM_ENVIRONMENT when the config names no cloud, and the config when it does", () => {
        assert.equal(graphRootFor({ ARM_ENVIRONMENT: "AzureChinaCloud" }, undefined), "https://microsoftgraph.chinacloudapi.cn");
        assert.equal(graphRootFor({ ARM_ENVIRONMENT: "china" }, "usgovernment"), "https://graph.microsoft.us");
    });

    it("shows an endpoint that is itself an official Graph host", () => {
        assert.equal(graphRootFor({ ENTRA_MFA_GUARD_GRAPH_ENDPOINT: "https://graph.microsoft.us/" }, undefined), "https://graph.microsoft.us");
    });

    it("falls back to the public root when ARM_ENVIRONMENT names no cloud (the requests fail with that cause)", () => {
        assert.equal(graphRootFor({ ARM_ENVIRONMENT: "moon" }, undefined), "https://graph.microsoft.com");
    });
});
