import * as assert from "node:assert/strict";
import { HeldRole } from "../../../policies/inventory/types";
import { classifyUser, DEFAULT_PRIVILEGED_ROLE_PATTERNS, roleNameMatcher } from "../../../policies/roles/classify";

function role(name: string | undefined, extra: Partial<HeldRole> = {}): HeldRole {
    return { name, reference: name ?? "/providers/Microsoft.Authorization/roleDefinitions/0000", system: "azure-rbac", assignmentUrn: "urn:a", ...extra };
}

describe("roleNameMatcher", () => {
    const isPrivileged = roleNameMatcher(DEFAULT_PRIVILEGED_ROLE_PATTERNS);

    for (const name of ["Owner", "owner", "Contributor", "Storage Account Contributor", "User Access Administrator", "Global Administrator", "Role Based Access Control Administrator"]) {
        it(`calls '${name}' privileged`, () => assert.equal(isPrivileged(name), true));
    }
    for (const name of ["Reader", "Data Lake Analytics Developer", "Storage Blob Data Owner", "Global Reader", "Administrator Reader", "Contributors Guide"]) {
        it(`calls '${name}' not privileged (the seed rule's definition)`, () => assert.equal(isPrivileged(name), false));
    }

    it("treats pattern characters other than * literally", () => {
        assert.equal(roleNameMatcher(["Ops (prod)"])("Ops (prod)"), true);
        assert.equal(roleNameMatcher(["Ops (prod)"])("Ops prod"), false);
        assert.equal(roleNameMatcher(["A.B"])("AxB"), false);
    });

    it("ignores surrounding blanks in role names, as the Azure CLI sometimes returns them", () => {
        assert.equal(isPrivileged("Azure Arc VMware Administrator role "), false);
        assert.equal(isPrivileged(" Owner "), true);
    });
});

describe("classifyUser", () => {
    const rules = { isPrivilegedRoleName: roleNameMatcher(DEFAULT_PRIVILEGED_ROLE_PATTERNS), useEntraPrivilegedLabel: false };

    it("makes a user with any privileged role privileged, and names the roles", () => {
        const owner = role("Owner");
        const result = classifyUser({ roles: [role("Reader"), owner] }, rules);
        assert.equal(result.privileged, true);
        assert.deepEqual(result.privilegedRoles, [owner]);
    });

    it("leaves a user with no role non-privileged", () => {
        assert.equal(classifyUser({ roles: [] }, rules).privileged, false);
    });

    it("never lets a role without a name make a user privileged, and lists it", () => {
        const unnamed = role(undefined, { unnamedBecause: "not built in" });
        const result = classifyUser({ roles: [unnamed] }, rules);
        assert.equal(result.privileged, false);
        assert.deepEqual(result.unnamedRoles, [unnamed]);
    });

    it("uses Microsoft's PRIVILEGED label only when asked to", () => {
        const labelled = role("Helpdesk Operator", { system: "entra-directory", entraPrivileged: true });
        assert.equal(classifyUser({ roles: [labelled] }, rules).privileged, false);
        assert.equal(classifyUser({ roles: [labelled] }, { ...rules, useEntraPrivilegedLabel: true }).privileged, true);
    });
});
