import * as assert from "node:assert/strict";
import { UnknownValueError, unknownCheckingProxy } from "@pulumi/policy";
import {
    copyPropertyBag,
    describeType,
    MalformedValue,
    readBoolean,
    readString,
    readStringList,
    UNDECRYPTED_SECRET,
    UndecryptableValue,
    UNKNOWN,
} from "../../../policies/inventory/propertyValues";
import { UNKNOWN as UNKNOWN_SENTINEL } from "../../harness/stackResource";

const isUnknownError = (error: unknown) => error instanceof UnknownValueError;

describe("copyPropertyBag", () => {
    it("copies through the SDK's unknown-checking proxy, marking unknowns at any depth instead of throwing", () => {
        const props = unknownCheckingProxy({ a: "x", b: UNKNOWN_SENTINEL, c: { d: [1, UNKNOWN_SENTINEL, { e: UNKNOWN_SENTINEL }] } });
        assert.deepEqual(copyPropertyBag(props, isUnknownError), { a: "x", b: UNKNOWN, c: { d: [1, UNKNOWN, { e: UNKNOWN }] } });
    });

    it("recognises every unknown sentinel in plain data", () => {
        const sentinels = [
            "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
            "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", "030794c1-ac77-496b-92df-f27374a8bd58", "e48ece36-62e2-4504-bad9-02848725956a",
            "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
        ];
        assert.deepEqual(copyPropertyBag({ list: sentinels }).list, sentinels.map(() => UNKNOWN));
    });

    it("rethrows errors that are not unknowns", () => {
        const exploding = new Proxy({}, { ownKeys: () => ["x"], getOwnPropertyDescriptor: () => ({ enumerable: true, configurable: true }), get: () => { throw new Error("boom"); } });
        assert.throws(() => copyPropertyBag(exploding, isUnknownError), /boom/);
    });

    it("stops at a depth no provider schema reaches", () => {
        let deep: Record<string, unknown> = { leaf: "x" };
        for (let i = 0; i < 100; i++) deep = { next: deep };
        let copied = copyPropertyBag(deep) as Record<string, unknown>;
        let depth = 0;
        while (copied && typeof copied === "object" && "next" in copied) {
            copied = copied.next as Record<string, unknown>;
            depth++;
        }
        assert.ok(depth < 40, `copied ${depth} levels`);
    });

    it("gives an empty bag for something that is not an object", () => {
        assert.deepEqual(copyPropertyBag("nope"), {});
        assert.deepEqual(copyPropertyBag(undefined), {});
    });
});

describe("readers", () => {
    it("tell a value, an unknown, an absence and a wrong type apart", () => {
        const bag = copyPropertyBag({ s: "x", u: UNKNOWN_SENTINEL, n: 3, b: true, l: ["a", UNKNOWN_SENTINEL], bad: ["a", 1], nul: null });
        assert.equal(readString(bag, "s"), "x");
        assert.equal(readString(bag, "u"), UNKNOWN);
        assert.equal(readString(bag, "missing"), undefined);
        assert.equal(readString(bag, "nul"), undefined);
        assert.ok(readString(bag, "n") instanceof MalformedValue);
        assert.equal((readString(bag, "n") as MalformedValue).describe(), "property 'n' should be a string but is a number");
        assert.equal(readBoolean(bag, "b"), true);
        assert.ok(readBoolean(bag, "s") instanceof MalformedValue);
        assert.deepEqual(readStringList(bag, "l"), ["a", UNKNOWN]);
        assert.match((readStringList(bag, "bad") as MalformedValue).describe(), /a list holding a number/);
    });
});

describe("secrets the engine could not decrypt", () => {
    // What `pulumi policy analyze` sends for them, once the SDK has unwrapped the secret envelope.
    const bag = copyPropertyBag({ upn: "[secret]", enabled: "[secret]", members: ["[secret]", "id-1"], list: "[secret]", near: "[secret] " });

    it("are marked wherever they sit, and only the exact string is one", () => {
        assert.equal(bag.upn, UNDECRYPTED_SECRET);
        assert.deepEqual(bag.members, [UNDECRYPTED_SECRET, "id-1"]);
        assert.equal(bag.near, "[secret] ");
        assert.equal(describeType(bag.upn), "a secret that could not be decrypted");
    });

    it("are read as unreadable, never as a value", () => {
        const upn = readString(bag, "upn");
        assert.ok(upn instanceof UndecryptableValue);
        assert.equal(upn.describe(), "property 'upn' is secret and could not be decrypted");
        assert.equal((readBoolean(bag, "enabled") as MalformedValue).describe(), "property 'enabled' is secret and could not be decrypted");
        assert.equal((readStringList(bag, "list") as MalformedValue).describe(), "property 'list' is secret and could not be decrypted");
        assert.equal((readStringList(bag, "members") as MalformedValue).describe(), "an element of property 'members' is secret and could not be decrypted");
    });
});
