import * as assert from "node:assert/strict";
import { builtInRoleCatalog, roleCatalogFrom } from "../../../policies/roles/catalog";

describe("builtInRoleCatalog", () => {
    it("names Azure built-in roles by GUID, whatever the case", () => {
        assert.equal(builtInRoleCatalog.azureRoleName("8e3af657-a8ff-443c-a75c-2fe8c4bcb635"), "Owner");
        assert.equal(builtInRoleCatalog.azureRoleName("ACDD72A7-3385-48EF-BD42-F606FBA81AE7"), "Reader");
        assert.equal(builtInRoleCatalog.azureRoleName("00000000-0000-0000-0000-000000000000"), undefined);
    });

    it("names Entra roles by template id and by display name, with the PRIVILEGED label", () => {
        assert.deepEqual(builtInRoleCatalog.entraRole("62e90394-69f5-4237-9190-012177145e10"), { name: "Global Administrator", privileged: true });
        assert.equal(builtInRoleCatalog.entraRoleByName("global administrator")?.templateId, "62e90394-69f5-4237-9190-012177145e10");
    });
});

describe("roleCatalogFrom", () => {
    it("answers from the data it is given only", () => {
        const catalog = roleCatalogFrom({ azure: { "11111111-1111-1111-1111-111111111111": "Custom" }, entra: {} });
        assert.equal(catalog.azureRoleName("11111111-1111-1111-1111-111111111111"), "Custom");
        assert.equal(catalog.azureRoleName("8e3af657-a8ff-443c-a75c-2fe8c4bcb635"), undefined);
        assert.equal(catalog.entraRoleByName("Global Administrator"), undefined);
    });
});
