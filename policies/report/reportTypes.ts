/**
 * What the pack found, one entry per user and rule, for CI reports (JSON, SARIF, Markdown) and
 * the GitHub step summary. Plain data: no secret, no token, only identifiers and role names.
 */
export interface MfaReport {
    tool: { name: string; version: string; informationUri: string };
    /** ISO timestamp. */
    generatedAt: string;
    stack?: { organization?: string; project?: string; stack?: string };
    entries: ReportEntry[];
    /** Stack properties the pack could not read. */
    problems: { urn: string; message: string }[];
}

export type ReportVerdict = "pass" | "fail" | "unverified" | "exempt" | "out-of-scope";

export type EvidenceSource = "conditionalAccess" | "securityDefaults" | "perUserMfa" | "registration" | "newAccount";

export interface ReportEntry {
    /** The policy that owns the verdict, e.g. `entra-non-privileged-user-mfa`. */
    policy: string;
    verdict: ReportVerdict;
    /** The enforcement level the policy ran at, for fail and unverified entries. */
    enforcementLevel?: "advisory" | "mandatory" | "disabled";
    user: {
        displayName: string;
        userPrincipalName?: string;
        objectId?: string;
        /** Set when the user is a resource of the stack. */
        urn?: string;
        isGuest: boolean;
        accountEnabled?: boolean;
        /** Created by this deployment (its object id is unknown during preview). */
        isNew: boolean;
    };
    roles: {
        name?: string;
        reference: string;
        system: "azure-rbac" | "entra-directory";
        viaGroup?: string;
        /** Eligible through PIM rather than active. */
        eligible?: boolean;
        assignmentUrn: string;
    }[];
    /** Every piece of evidence looked at, in the order it was looked at, and whether it counted. */
    evidence: { source: EvidenceSource; counted: boolean; detail: string }[];
    /** The evidence that decided a pass. */
    decidedBy?: EvidenceSource;
    /** One sentence: why this verdict. */
    reason: string;
    /** The fix, for fail entries. */
    remediation?: string;
    /** The URN the violation is reported on (the user, or the assignment for users outside the stack). */
    reportedOn?: string;
}
