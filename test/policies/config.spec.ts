import * as assert from "node:assert/strict";
import Ajv from "ajv";
import { DEFAULT_CONFIG, mfaPolicyConfigSchema, readMfaPolicyConfig } from "../../policies/config";

describe("mfaPolicyConfigSchema", () => {
    const validate = new Ajv({ strict: false, useDefaults: true }).compile({ type: "object", ...mfaPolicyConfigSchema });

    it("fills every default, and the defaults are the ones the code uses", () => {
        const config: Record<string, unknown> = {};
        assert.equal(validate(config), true);
        assert.deepEqual(readMfaPolicyConfig(config), DEFAULT_CONFIG);
        assert.deepEqual({ ...config }, { ...DEFAULT_CONFIG });
    });

    it("rejects an exemption without a reason, or with a malformed date", () => {
        assert.equal(validate({ exemptions: [{ user: "a@b.c" }] }), false);
        assert.equal(validate({ exemptions: [{ user: "a@b.c", reason: "r", expires: "next year" }] }), false);
        assert.equal(validate({ exemptions: [{ user: "a@b.c", reason: "r", expires: "2027-01-31" }] }), true);
    });

    it("rejects an unknown cloud", () => {
        assert.equal(validate({ cloud: "mars" }), false);
        assert.equal(validate({ cloud: "usgovernment" }), true);
    });
});

describe("readMfaPolicyConfig", () => {
    it("falls back to defaults for values of the wrong type instead of failing the preview", () => {
        const config = readMfaPolicyConfig({ privilegedRolePatterns: "Owner", includeGuests: "yes", verificationBudgetSeconds: -1, exemptions: [{ user: 1 }], cloud: "mars" });
        assert.deepEqual(config, DEFAULT_CONFIG);
    });
});
