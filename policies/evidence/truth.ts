/**
 * Three-valued logic (Kleene's strong logic) for coverage facts: a fact is true, false, or unknown
 * because something could not be read. An unknown carries its causes, so a verdict that rests on
 * it can say what to fix.
 */
export interface Unknown {
    readonly unknown: readonly string[];
}

export type Truth = "yes" | "no" | Unknown;

export function unknownBecause(...causes: string[]): Unknown {
    return { unknown: causes };
}

/** Whether a fact (a truth, or a value such as a set of ids) is an unknown. */
export function isUnknown(value: unknown): value is Unknown {
    return typeof value === "object" && value !== null && Array.isArray((value as Partial<Unknown>).unknown);
}

/** `no` if any is `no`, else `yes` if all are `yes`, else unknown with every cause that could matter. */
export function and(...truths: Truth[]): Truth {
    if (truths.includes("no")) return "no";
    return mergeUnknowns(truths) ?? "yes";
}

/** `yes` if any is `yes`, else `no` if all are `no`, else unknown. */
export function or(...truths: Truth[]): Truth {
    if (truths.includes("yes")) return "yes";
    return mergeUnknowns(truths) ?? "no";
}

export function not(truth: Truth): Truth {
    return truth === "yes" ? "no" : truth === "no" ? "yes" : truth;
}

export function truthOf(value: boolean): Truth {
    return value ? "yes" : "no";
}

/** The causes of an unknown, none for a known value. */
export function causesOf(truth: Truth): readonly string[] {
    return isUnknown(truth) ? truth.unknown : [];
}

function mergeUnknowns(truths: Truth[]): Unknown | undefined {
    const unknowns = truths.filter(isUnknown);
    if (unknowns.length === 0) return undefined;
    if (unknowns.length === 1) return unknowns[0];
    return { unknown: [...new Set(unknowns.flatMap((u) => u.unknown))] };
}
