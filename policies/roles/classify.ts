import { HeldRole, InventoryUser } from "../inventory/types";

/** The seed rule's definition of a privileged role: Owner, any Contributor, any Administrator. */
export const DEFAULT_PRIVILEGED_ROLE_PATTERNS = ["Owner", "*Contributor", "*Administrator"];

/**
 * Compiles case-insensitive whole-name globs (`*` matches any run of characters) into a test.
 *
 * For example, `["*Administrator"]` matches "User Access Administrator" and "Global Administrator",
 * not "Administrator Reader".
 */
export function roleNameMatcher(patterns: readonly string[]): (roleName: string) => boolean {
    const expressions = patterns.map(
        (pattern) => new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`, "i"),
    );
    return (roleName) => expressions.some((expression) => expression.test(roleName.trim()));
}

function escapeRegExp(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export interface Classification {
    privileged: boolean;
    /** The roles that make the user privileged. */
    privilegedRoles: HeldRole[];
    /** Roles the pack could not name; they never make a user privileged. */
    unnamedRoles: HeldRole[];
}

export interface ClassificationRules {
    isPrivilegedRoleName: (roleName: string) => boolean;
    /** Also treat Entra roles that Microsoft labels PRIVILEGED as privileged. */
    useEntraPrivilegedLabel: boolean;
}

/**
 * A user is privileged when any role it holds, directly or through a group, is privileged.
 * A role without a name cannot make a user privileged, so such a user is still checked.
 */
export function classifyUser(user: Pick<InventoryUser, "roles">, rules: ClassificationRules): Classification {
    const privilegedRoles = user.roles.filter(
        (role) =>
            (role.name !== undefined && rules.isPrivilegedRoleName(role.name)) ||
            (rules.useEntraPrivilegedLabel && role.entraPrivileged === true),
    );
    return {
        privileged: privilegedRoles.length > 0,
        privilegedRoles,
        unnamedRoles: user.roles.filter((role) => role.name === undefined),
    };
}
