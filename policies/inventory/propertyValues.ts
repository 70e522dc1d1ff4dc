/**
 * Plain values read from a Pulumi property bag. During `pulumi preview` any value may be
 * unknown; `@pulumi/policy` hands policies a proxy that throws on reading one. The pack copies
 * the bag once into plain data with unknowns marked, so the inventory can be pure and total.
 */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");
export type Unknown = typeof UNKNOWN;

/**
 * A secret the engine could not decrypt. `pulumi policy analyze` sends every such secret as the string
 * "[secret]" (https://github.com/pulumi/pulumi/pull/23664), and the SDK unwraps secrets before policies
 * see them, so that string is all that is left: it is never a name, an id or a state to act on.
 */
export const UNDECRYPTED_SECRET: unique symbol = Symbol("secret that could not be decrypted");
export type UndecryptedSecret = typeof UNDECRYPTED_SECRET;

export type PropertyValue = string | number | boolean | null | Unknown | UndecryptedSecret | PropertyValue[] | PropertyBag;
export interface PropertyBag {
    [key: string]: PropertyValue;
}

/**
 * The engine's sentinels for unknown values, one per type
 * (https://github.com/pulumi/pulumi/blob/master/sdk/go/common/resource/plugin/rpc.go).
 */
const UNKNOWN_SENTINELS = new Set([
    "04da6b54-80e4-46f7-96ec-b56ff0331ba9", // string
    "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7", // boolean
    "3eeb2bf0-c639-47a8-9e75-3b44932eb421", // number
    "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2", // array
    "030794c1-ac77-496b-92df-f27374a8bd58", // asset
    "e48ece36-62e2-4504-bad9-02848725956a", // archive
    "dd056dcd-154b-4c76-9bd3-c8f88648b5ff", // object
]);

const UNDECRYPTED_SECRET_TEXT = "[secret]";

/** How deep a bag is copied; deeper than any provider schema, shallow enough to stop a runaway. */
const MAX_DEPTH = 32;

/**
 * Copies a property bag into plain data. `isUnknownError` recognises the error the SDK's
 * proxy throws for an unknown (passed in so this module stays free of the SDK). With `only`,
 * just those top-level properties are copied.
 */
export function copyPropertyBag(props: unknown, isUnknownError: (error: unknown) => boolean = () => false, only?: readonly string[]): PropertyBag {
    if (only && typeof props === "object" && props !== null && !Array.isArray(props)) {
        const bag: PropertyBag = {};
        for (const key of only) {
            if (!Object.prototype.hasOwnProperty.call(props, key)) continue;
            bag[key] = readProperty(props, key, isUnknownError, 0);
        }
        return bag;
    }
    const copied = copyValue(props, isUnknownError, 0);
    return isBag(copied) ? copied : {};
}

function readProperty(container: object, key: string | number, isUnknownError: (error: unknown) => boolean, depth: number): PropertyValue {
    try {
        return copyValue((container as Record<string | number, unknown>)[key], isUnknownError, depth + 1);
    } catch (error) {
        if (isUnknownError(error)) return UNKNOWN;
        throw error;
    }
}

function copyValue(value: unknown, isUnknownError: (error: unknown) => boolean, depth: number): PropertyValue {
    if (typeof value === "string") {
        if (value === UNDECRYPTED_SECRET_TEXT) return UNDECRYPTED_SECRET;
        return UNKNOWN_SENTINELS.has(value) ? UNKNOWN : value;
    }
    if (typeof value === "number" || typeof value === "boolean" || value === null) {
        return value;
    }
    if (typeof value !== "object" || value === undefined || depth >= MAX_DEPTH) {
        return null;
    }
    const read = (key: string | number): PropertyValue => readProperty(value, key, isUnknownError, depth);
    if (Array.isArray(value)) {
        return Array.from({ length: value.length }, (_, index) => read(index));
    }
    const bag: PropertyBag = {};
    for (const key of Object.keys(value)) {
        bag[key] = read(key);
    }
    return bag;
}

/**
 * The bag with every undecryptable secret read as an unknown: for a rule that must not decide on a
 * value it cannot see (a Conditional Access exclusion may be the very user), both are undecided.
 */
export function secretsAsUnknown(bag: PropertyBag): PropertyBag {
    const convert = (value: PropertyValue): PropertyValue => {
        if (value === UNDECRYPTED_SECRET) return UNKNOWN;
        if (Array.isArray(value)) return value.map(convert);
        return isBag(value) ? secretsAsUnknown(value) : value;
    };
    return Object.fromEntries(Object.entries(bag).map(([key, value]) => [key, convert(value)]));
}

export function isBag(value: PropertyValue | undefined): value is PropertyBag {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A string property: its value, `UNKNOWN`, `undefined` when absent, or a `MalformedValue`. */
export type StringRead = string | Unknown | undefined | MalformedValue;

export class MalformedValue {
    constructor(readonly property: string, readonly expected: string, readonly found: string) {}

    describe(): string {
        return `property '${this.property}' should be ${this.expected} but is ${this.found}`;
    }
}

/** A property (or an element of one) that arrived as a secret the engine could not decrypt. */
export class UndecryptableValue extends MalformedValue {
    constructor(property: string, expected: string, private readonly element = false) {
        super(property, expected, "a secret that could not be decrypted");
    }

    describe(): string {
        return `${this.element ? "an element of " : ""}property '${this.property}' is secret and could not be decrypted`;
    }
}

export function describeType(value: PropertyValue | undefined): string {
    if (value === undefined) return "missing";
    if (value === null) return "null";
    if (value === UNKNOWN) return "unknown";
    if (value === UNDECRYPTED_SECRET) return "a secret that could not be decrypted";
    if (Array.isArray(value)) return "an array";
    return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

export function readString(bag: PropertyBag, property: string): StringRead {
    const value = bag[property];
    if (value === undefined || value === null) return undefined;
    if (value === UNDECRYPTED_SECRET) return new UndecryptableValue(property, "a string");
    if (value === UNKNOWN || typeof value === "string") return value;
    return new MalformedValue(property, "a string", describeType(value));
}

/** Like `readString`, but an empty string counts as absent (providers send "" for unset). */
export function readNonEmptyString(bag: PropertyBag, property: string): StringRead {
    const value = readString(bag, property);
    return value === "" ? undefined : value;
}

export function readBoolean(bag: PropertyBag, property: string): boolean | Unknown | undefined | MalformedValue {
    const value = bag[property];
    if (value === undefined || value === null) return undefined;
    if (value === UNDECRYPTED_SECRET) return new UndecryptableValue(property, "a boolean");
    if (value === UNKNOWN || typeof value === "boolean") return value;
    return new MalformedValue(property, "a boolean", describeType(value));
}

/** A list of strings; elements may be unknown. */
export function readStringList(bag: PropertyBag, property: string): (string | Unknown)[] | Unknown | undefined | MalformedValue {
    const value = bag[property];
    if (value === undefined || value === null) return undefined;
    if (value === UNKNOWN) return UNKNOWN;
    if (value === UNDECRYPTED_SECRET) return new UndecryptableValue(property, "a list of strings");
    if (!Array.isArray(value)) return new MalformedValue(property, "a list of strings", describeType(value));
    const strings: (string | Unknown)[] = [];
    for (const element of value) {
        if (element === UNDECRYPTED_SECRET) return new UndecryptableValue(property, "a list of strings", true);
        if (element === UNKNOWN || typeof element === "string") {
            strings.push(element);
        } else {
            return new MalformedValue(property, "a list of strings", `a list holding ${describeType(element)}`);
        }
    }
    return strings;
}
