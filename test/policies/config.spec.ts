import * as assert from "node:assert/strict";
import Ajv from "ajv";
import { DEFAULT_CONFIG, isCalendarDate, mfaPolicyConfigSchema, readMfaPolicyConfig } from "../../policies/config";

describe("mfaPolicyConfigSchema", () => {
    const validate = new Ajv({ strict: false, useDefaults: true }).compile({ type: "object", ...mfaPolicyConfigSchema });

    it("fills every default, and the defaults are the ones the code uses", () => {
        const config: Record<string, unknown> = {};
        assert.equal(validate(config), true);
        assert.deepEqual(readMfaPolicyConfig(config), DEFAULT_CONFIG);
        const { configurationErrors: _none, ...settings } = DEFAULT_CONFIG;
        assert.deepEqual({ ...config }, settings);
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

    const exemption = (expires: string) => ({ user: "x@contoso.com", reason: "break-glass", expires });

    it("keeps an exemption whose expiry is a real day, with no configuration error", () => {
        const config = readMfaPolicyConfig({ exemptions: [exemption("2028-02-29")] });
        assert.deepEqual(config.exemptions, [exemption("2028-02-29")]);
        assert.deepEqual(config.configurationErrors, []);
    });

    it("sets aside an exemption whose expiry is no calendar date, and says why", () => {
        const config = readMfaPolicyConfig({ exemptions: [exemption("2027-02-30"), { user: "y@contoso.com", reason: "r" }] });
        assert.deepEqual(config.exemptions, [{ user: "y@contoso.com", reason: "r" }]);
        assert.deepEqual(config.configurationErrors, [
            "exemption for 'x@contoso.com' has expires '2027-02-30', which is not a calendar date (YYYY-MM-DD); the exemption does not count",
        ]);
    });

    it("reports one error per bad exemption, in config order", () => {
        const config = readMfaPolicyConfig({ exemptions: [exemption("2026-13-01"), exemption("2026-12-31"), exemption("2026-04-31")] });
        assert.deepEqual(config.exemptions, [exemption("2026-12-31")]);
        assert.equal(config.configurationErrors.length, 2);
        assert.match(config.configurationErrors[0], /'2026-13-01'/);
        assert.match(config.configurationErrors[1], /'2026-04-31'/);
    });
});

describe("isCalendarDate", () => {
    it("accepts the 29th of February in leap years only, century years by the 400 rule", () => {
        assert.equal(isCalendarDate("2028-02-29"), true);
        assert.equal(isCalendarDate("2000-02-29"), true);
        assert.equal(isCalendarDate("2027-02-29"), false);
        assert.equal(isCalendarDate("2100-02-29"), false);
    });

    it("rejects days and months that roll over or do not exist", () => {
        for (const text of ["2027-02-30", "2026-04-31", "2026-13-01", "2026-00-10", "2026-01-00", "2026-01-32"]) {
            assert.equal(isCalendarDate(text), false, text);
        }
    });

    it("accepts the last day of each month, and reads two-digit years as themselves", () => {
        for (const text of ["2026-01-31", "2026-02-28", "2026-04-30", "2026-12-31", "0099-12-31"]) {
            assert.equal(isCalendarDate(text), true, text);
        }
    });

    it("rejects anything but YYYY-MM-DD", () => {
        for (const text of ["2026-1-01", "2026-01-01T00:00:00Z", " 2026-01-01", "next year", ""]) {
            assert.equal(isCalendarDate(text), false, JSON.stringify(text));
        }
    });
});
