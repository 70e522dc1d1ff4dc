import * as assert from "node:assert/strict";
import { and, causesOf, isUnknown, not, or, truthOf, unknownBecause } from "../../../policies/evidence/truth";

describe("truth", () => {
    it("tells an unknown from a known value, null, a string and an object without a list of causes", () => {
        assert.equal(isUnknown(unknownBecause("x")), true);
        assert.equal(isUnknown({ unknown: [] }), true);
        for (const value of [null, undefined, "yes", "no", { unknown: "x" }, ["x"]]) assert.equal(isUnknown(value), false, JSON.stringify(value));
    });

    it("keeps every cause of the unknowns it combines, once each", () => {
        assert.deepEqual(and(unknownBecause("a"), "yes", unknownBecause("b", "a")), { unknown: ["a", "b"] });
        assert.deepEqual(or(unknownBecause("a"), "no", unknownBecause("b")), { unknown: ["a", "b"] });
        assert.equal(and(unknownBecause("a"), "no"), "no");
        assert.equal(or(unknownBecause("a"), "yes"), "yes");
        assert.equal(and(), "yes");
        assert.equal(or(), "no");
    });

    it("negates yes and no, and leaves an unknown as it is", () => {
        assert.equal(not("yes"), "no");
        assert.equal(not("no"), "yes");
        const unknown = unknownBecause("a");
        assert.equal(not(unknown), unknown);
        assert.equal(truthOf(true), "yes");
        assert.equal(truthOf(false), "no");
    });

    it("gives the causes of an unknown, and none for a known value", () => {
        assert.deepEqual(causesOf(unknownBecause("a", "b")), ["a", "b"]);
        assert.deepEqual(causesOf("yes"), []);
        assert.deepEqual(causesOf("no"), []);
    });
});
