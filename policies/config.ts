import { PolicyConfigSchema } from "@pulumi/policy";
import { DEFAULT_PRIVILEGED_ROLE_PATTERNS } from "./roles/classify";
import { CLOUD_NAMES, CloudName } from "./graph/clouds";

/** The pack's policy names, as `--policy-pack-config` and `pulumi preview` show them. */
export const NON_PRIVILEGED_USER_MFA = "entra-non-privileged-user-mfa";
export const PRIVILEGED_USER_MFA = "entra-privileged-user-mfa";
export const UNVERIFIED_USERS = "entra-mfa-unverified-users";
export const CONDITIONAL_ACCESS_MFA_ENFORCED = "entra-conditional-access-mfa-enforced";
export const PRIVILEGED_ASSIGNMENT_MFA_COVERAGE = "entra-privileged-assignment-mfa-coverage";

/** Kinds of MFA evidence, in the order they are asked: tenant-wide first, per user last. */
export const EVIDENCE_SOURCES = ["conditionalAccess", "securityDefaults", "perUserMfa", "registration"] as const;
export type EvidenceSourceName = (typeof EVIDENCE_SOURCES)[number];

export interface MfaPolicyConfig {
    acceptedEvidence: EvidenceSourceName[];
    /** Applications a Conditional Access policy must target to count: `All`, or app ids. */
    conditionalAccessApplications: string[];
    privilegedRolePatterns: string[];
    useEntraPrivilegedLabel: boolean;
    exemptions: Exemption[];
    includeGuests: boolean;
    includeDisabledAccounts: boolean;
    /** The national cloud; absent means `ARM_ENVIRONMENT`, else the public cloud. */
    cloud?: CloudName;
    /** How long the pack may spend asking Graph in one stack evaluation. */
    verificationBudgetSeconds: number;
    /** What in the config was set aside as wrong, one sentence each, for the user to fix. */
    configurationErrors: string[];
}

export interface Exemption {
    /** A user principal name or an object id. */
    user: string;
    reason: string;
    /** An ISO date (`2026-12-31`); the exemption stops counting after that day. */
    expires?: string;
}

export const DEFAULT_CONFIG: MfaPolicyConfig = {
    // Registration proves a user can do MFA, not that it is required: opt-in.
    acceptedEvidence: ["conditionalAccess", "securityDefaults", "perUserMfa"],
    conditionalAccessApplications: ["All"],
    privilegedRolePatterns: DEFAULT_PRIVILEGED_ROLE_PATTERNS,
    useEntraPrivilegedLabel: false,
    exemptions: [],
    includeGuests: true,
    includeDisabledAccounts: false,
    verificationBudgetSeconds: 120,
    configurationErrors: [],
};

/** The policy's `configSchema`: Pulumi validates users' config against it and fills the defaults. */
export const mfaPolicyConfigSchema: PolicyConfigSchema = {
    properties: {
        acceptedEvidence: {
            type: "array",
            items: { type: "string", enum: [...EVIDENCE_SOURCES] },
            uniqueItems: true,
            default: DEFAULT_CONFIG.acceptedEvidence,
            description:
                "Which evidence counts as MFA: conditionalAccess (an enabled policy requiring MFA for the user), securityDefaults, perUserMfa (enabled or enforced), registration (isMfaCapable; proves capability, not enforcement).",
        },
        conditionalAccessApplications: {
            type: "array",
            items: { type: "string", minLength: 1 },
            minItems: 1,
            default: DEFAULT_CONFIG.conditionalAccessApplications,
            description: `Applications a Conditional Access policy must target to count: "All", or app ids such as ${"797f4846-ba00-4fd7-ba43-dac1f8f63013"} (Azure management).`,
        },
        privilegedRolePatterns: {
            type: "array",
            items: { type: "string", minLength: 1 },
            default: DEFAULT_CONFIG.privilegedRolePatterns,
            description:
                "Role names that make a user privileged, as case-insensitive globs (* matches anything). A privileged user is out of scope of the non-privileged rule.",
        },
        useEntraPrivilegedLabel: {
            type: "boolean",
            default: DEFAULT_CONFIG.useEntraPrivilegedLabel,
            description: "Also treat Entra roles that Microsoft labels PRIVILEGED (for example Global Reader, which the name patterns leave out) as privileged.",
        },
        exemptions: {
            type: "array",
            default: DEFAULT_CONFIG.exemptions,
            description: "Accounts exempt from the rule, such as break-glass accounts. Each needs a reason; an expired exemption stops counting.",
            items: {
                type: "object",
                required: ["user", "reason"],
                additionalProperties: false,
                properties: {
                    user: { type: "string", minLength: 1, description: "User principal name or object id." },
                    reason: { type: "string", minLength: 1 },
                    expires: { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}$", description: "Last day the exemption counts (YYYY-MM-DD, UTC)." },
                },
            },
        },
        includeGuests: {
            type: "boolean",
            default: DEFAULT_CONFIG.includeGuests,
            description: "Check guest (B2B) users too.",
        },
        includeDisabledAccounts: {
            type: "boolean",
            default: DEFAULT_CONFIG.includeDisabledAccounts,
            description: "Check accounts with sign-in disabled too.",
        },
        cloud: {
            type: "string",
            enum: [...CLOUD_NAMES],
            description: "The Microsoft cloud of the tenant. Unset: ARM_ENVIRONMENT, else public.",
        },
        verificationBudgetSeconds: {
            type: "number",
            minimum: 1,
            maximum: 3600,
            default: DEFAULT_CONFIG.verificationBudgetSeconds,
            description: "Most time spent asking Microsoft Graph per stack; users not verified by then are reported as unverified.",
        },
    },
};

/** Reads the policy config defensively: the engine validates it, but a bad value must not crash a preview. */
export function readMfaPolicyConfig(raw: Record<string, unknown>): MfaPolicyConfig {
    const strings = (value: unknown) => (Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : undefined);
    const boolean = (value: unknown, fallback: boolean) => (typeof value === "boolean" ? value : fallback);
    const budget = raw.verificationBudgetSeconds;
    const cloud = CLOUD_NAMES.find((name) => name === raw.cloud);
    const evidence = strings(raw.acceptedEvidence)?.filter((e): e is EvidenceSourceName => (EVIDENCE_SOURCES as readonly string[]).includes(e));
    const configurationErrors: string[] = [];
    const exemptions = Array.isArray(raw.exemptions) ? raw.exemptions.filter(isExemption) : DEFAULT_CONFIG.exemptions;
    return {
        acceptedEvidence: evidence ? EVIDENCE_SOURCES.filter((e) => evidence.includes(e)) : DEFAULT_CONFIG.acceptedEvidence,
        conditionalAccessApplications: strings(raw.conditionalAccessApplications)?.length ? strings(raw.conditionalAccessApplications)! : DEFAULT_CONFIG.conditionalAccessApplications,
        privilegedRolePatterns: strings(raw.privilegedRolePatterns) ?? DEFAULT_CONFIG.privilegedRolePatterns,
        useEntraPrivilegedLabel: boolean(raw.useEntraPrivilegedLabel, DEFAULT_CONFIG.useEntraPrivilegedLabel),
        exemptions: exemptions.filter((exemption) => {
            if (exemption.expires === undefined || isCalendarDate(exemption.expires)) return true;
            configurationErrors.push(`exemption for '${exemption.user}' has expires '${exemption.expires}', which is not a calendar date (YYYY-MM-DD); the exemption does not count`);
            return false;
        }),
        includeGuests: boolean(raw.includeGuests, DEFAULT_CONFIG.includeGuests),
        includeDisabledAccounts: boolean(raw.includeDisabledAccounts, DEFAULT_CONFIG.includeDisabledAccounts),
        ...(cloud ? { cloud } : {}),
        verificationBudgetSeconds: typeof budget === "number" && budget > 0 ? budget : DEFAULT_CONFIG.verificationBudgetSeconds,
        configurationErrors,
    };
}

/**
 * Whether `text` is a day that exists, as `YYYY-MM-DD`. The schema's pattern lets `2027-02-30`
 * through, which `Date` rolls over into March, and `2026-13-01`, which it cannot read at all.
 */
export function isCalendarDate(text: string): boolean {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    if (!match) return false;
    const [year, month, day] = match.slice(1).map(Number);
    const date = new Date(0);
    // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
    date.setUTCFullYear(year, month - 1, day);
    return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function isExemption(value: unknown): value is Exemption {
    const candidate = value as Partial<Exemption> | null;
    return (
        typeof candidate === "object" &&
        candidate !== null &&
        typeof candidate.user === "string" &&
        typeof candidate.reason === "string" &&
        (candidate.expires === undefined || typeof candidate.expires === "string")
    );
}
