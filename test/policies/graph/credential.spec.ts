import * as assert from "node:assert/strict";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { sharingTokenRequests } from "../../../policies/graph/credential";

/** A credential whose token requests stay open until released, counting them. */
function slowCredential() {
    const pending: ((token: AccessToken) => void)[] = [];
    const credential: TokenCredential = {
        getToken: () => new Promise<AccessToken>((resolve) => pending.push(resolve)),
    };
    return { credential, pending, release: (token: string) => pending.splice(0).forEach((resolve) => resolve({ token, expiresOnTimestamp: Date.now() + 3_600_000 })) };
}

describe("sharingTokenRequests", () => {
    it("serves parallel requests for one scope with one request to the token service", async () => {
        const { credential, pending, release } = slowCredential();
        const shared = sharingTokenRequests(credential);
        const requests = [shared.getToken("https://graph.microsoft.com/.default"), shared.getToken(["https://graph.microsoft.com/.default"])];
        assert.equal(pending.length, 1);
        release("t1");
        assert.deepEqual((await Promise.all(requests)).map((t) => t?.token), ["t1", "t1"]);
    });

    it("asks again once a request has settled, and keeps scopes apart", async () => {
        const { credential, pending, release } = slowCredential();
        const shared = sharingTokenRequests(credential);
        const first = shared.getToken("a/.default");
        release("t1");
        await first;
        const [second, other] = [shared.getToken("a/.default"), shared.getToken("b/.default")];
        assert.equal(pending.length, 2);
        release("t2");
        assert.deepEqual([(await second)?.token, (await other)?.token], ["t2", "t2"]);
    });

    it("does not keep a failed request", async () => {
        let calls = 0;
        const shared = sharingTokenRequests({ getToken: async () => (++calls === 1 ? Promise.reject(new Error("AADSTS7000215")) : { token: "ok", expiresOnTimestamp: 0 }) });
        await assert.rejects(shared.getToken("a/.default"), /AADSTS7000215/);
        assert.equal((await shared.getToken("a/.default"))?.token, "ok");
    });
});
