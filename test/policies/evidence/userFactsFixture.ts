import { UserFacts } from "../../../policies/evidence/coverage";

/** An internal member whose every fact was read: in no group, holding no role, eligible for none. Change one thing per test. */
export function memberFacts(change: Partial<UserFacts> = {}): UserFacts {
    return {
        objectId: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        stackUrns: new Set(),
        guestKind: "member",
        groupIds: new Set(),
        roleTemplateIds: new Set(),
        eligibleRoleTemplateIds: new Set(),
        groupNames: new Map(),
        ...change,
    };
}
