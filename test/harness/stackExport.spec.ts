import * as assert from "node:assert/strict";
import { newPassphraseCrypter, passphraseCrypterFor } from "./passphraseSecrets";
import { ExportedResource, parseStackExport, resourcesOfExport, StackExport } from "./stackExport";
import { SECRET_SIGNATURE, SECRET_SIGNATURE_KEY, secret } from "./stackResource";

const URN = "urn:pulumi:dev::identity::azuread:index/user:User::alice";

function exportOf(...resources: ExportedResource[]): StackExport {
    return { version: 3, deployment: { manifest: {}, resources } };
}

function stored(fields: Record<string, string>): Record<string, string> {
    return { [SECRET_SIGNATURE_KEY]: SECRET_SIGNATURE, ...fields };
}

describe("parseStackExport", () => {
    it("accepts a version 3 deployment and refuses anything else", () => {
        assert.equal(parseStackExport(JSON.stringify(exportOf())).version, 3);
        assert.throws(() => parseStackExport(JSON.stringify({ version: 2, deployment: {} })), /not a version 3 stack export \(version 2\)/);
        assert.throws(() => parseStackExport(JSON.stringify({ version: 3 })), /not a version 3 stack export/);
    });
});

describe("resourcesOfExport", () => {
    const alice: ExportedResource = {
        urn: URN,
        type: "azuread:index/user:User",
        inputs: { userPrincipalName: "alice@contoso.onmicrosoft.com", password: stored({ plaintext: '"Pa55!"' }) },
        outputs: { objectId: "id-1", tags: [stored({ plaintext: '{"nested":"x"}' })] },
        propertyDependencies: { managerId: [] },
    };

    it("names resources by their URN and turns stored secrets into wire secrets, at any depth", () => {
        const [resource] = resourcesOfExport(exportOf(alice), {}).analyzed;
        assert.equal(resource.name, "alice");
        assert.deepEqual(resource.inputs, { userPrincipalName: "alice@contoso.onmicrosoft.com", password: secret("Pa55!") });
        assert.deepEqual(resource.outputs, { objectId: "id-1", tags: [secret({ nested: "x" })] });
    });

    it("sends every secret as the string \"[secret]\" when they cannot be decrypted, and nothing else changes", () => {
        const [resource] = resourcesOfExport(exportOf(alice), "undecryptable").analyzed;
        assert.deepEqual(resource.inputs, { userPrincipalName: "alice@contoso.onmicrosoft.com", password: secret("[secret]") });
        assert.deepEqual(resource.outputs.tags, [secret("[secret]")]);
    });

    it("skips resources waiting for deletion and keeps read ones, in snapshot order", () => {
        const old = { ...alice, delete: true };
        const read = { ...alice, urn: `${URN}-read`, external: true };
        const { analyzed, skipped, external } = resourcesOfExport(exportOf(alice, old, read), {});
        assert.deepEqual(analyzed.map((r) => r.urn), [URN, `${URN}-read`]);
        assert.deepEqual(skipped, [old]);
        assert.deepEqual(external, [`${URN}-read`]);
    });

    it("decrypts ciphertext with the passphrase provider, and refuses to guess without a decrypter", () => {
        const crypter = newPassphraseCrypter("correct horse");
        const encrypted = { ...alice, inputs: { password: stored({ ciphertext: crypter.encrypt('"Pa55!"') }) } };
        const decrypt = passphraseCrypterFor("correct horse", crypter.saltState).decrypt;
        assert.deepEqual(resourcesOfExport(exportOf(encrypted), { decrypt }).analyzed[0].inputs, { password: secret("Pa55!") });
        assert.throws(() => resourcesOfExport(exportOf(encrypted), {}), /holds encrypted secrets/);
        assert.throws(() => passphraseCrypterFor("wrong horse", crypter.saltState), /incorrect passphrase/);
    });
});
