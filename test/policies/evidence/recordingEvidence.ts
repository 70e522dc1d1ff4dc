import { EvidenceRequest, MfaEvidence } from "../../../policies/graph/mfaEvidence";

/**
 * Evidence that records every question and answers "not verified" (or what `script` gives for a
 * question and id; a function is called each time), or throws when told to.
 */
export function recordingEvidence(fail = false, script: Record<string, Record<string, unknown>> = {}): MfaEvidence & { asked: string[]; requests: EvidenceRequest[] } {
    const asked: string[] = [];
    const requests: EvidenceRequest[] = [];
    const answer = (what: string) => async (ids: readonly string[], request: EvidenceRequest) => {
        asked.push(`${what}:${[...ids].join(",")}`);
        requests.push(request);
        if (fail) throw new Error("Graph exploded");
        const scripted = (id: string) => {
            const step = script[what]?.[id];
            return typeof step === "function" ? step() : step;
        };
        return new Map(ids.map((id) => [id, (scripted(id) ?? { kind: "unverified", reason: "recorded" }) as never]));
    };
    const tenant = (what: string) => async (request: EvidenceRequest) => {
        asked.push(what);
        requests.push(request);
        if (fail) throw new Error("Graph exploded");
        return { kind: "value", value: what === "conditionalAccess" ? [] : false } as never;
    };
    return {
        asked,
        requests,
        perUserMfaStates: answer("perUser"),
        mfaCapable: answer("registration"),
        memberships: answer("memberships"),
        groupMemberships: answer("groupMemberships"),
        groupUsers: answer("groupUsers"),
        userProfiles: answer("profiles"),
        authenticationStrengths: answer("strengths"),
        roleEligibilities: answer("eligibilities"),
        userIdsByPrincipalName: answer("userIds"),
        conditionalAccessPolicies: tenant("conditionalAccess"),
        securityDefaultsEnabled: tenant("securityDefaults"),
    };
}
