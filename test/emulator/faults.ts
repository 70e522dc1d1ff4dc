/**
 * Path fragments that scope a fault (or `countRequests`) to one endpoint; any substring or RegExp
 * of the path works. Matching is case-sensitive, so these use the casing of Graph's documentation.
 */
export const FAULT_PATHS = {
    openIdConfiguration: "/v2.0/.well-known/openid-configuration",
    token: "/oauth2/v2.0/token",
    batch: "/$batch",
    mfaRequirements: "/authentication/requirements",
    conditionalAccessPolicies: "/identity/conditionalAccess/policies",
    securityDefaults: "/policies/identitySecurityDefaultsEnforcementPolicy",
    registrationDetails: "/reports/authenticationMethods/userRegistrationDetails",
    /** Users' and groups' alike; the next two tell them apart. */
    transitiveMemberOf: "/transitiveMemberOf",
    userTransitiveMemberOf: /\/users\/[^/]+\/transitiveMemberOf/,
    groupTransitiveMemberOf: /\/groups\/[^/]+\/transitiveMemberOf/,
    transitiveMembers: "/transitiveMembers",
    /** `GET /users/{id}` itself, not its sub-resources. */
    userProfile: /^\/(v1\.0|beta)\/users\/[^/]+$/,
    authenticationStrengths: "/policies/authenticationStrengthPolicies",
    roleEligibilities: "/roleManagement/directory/roleEligibilityScheduleInstances",
} as const;

/** What a fault does to a request it catches. */
export type FaultEffect =
    /**
     * Answers with this status instead of the real answer: a Graph error body on Graph paths
     * (401 `InvalidAuthenticationToken`, 403 `Authorization_RequestDenied`, 429 `TooManyRequests`, …)
     * and an OAuth error body on the token service (`code` is then the OAuth `error`, e.g.
     * `invalid_client`). Applies to `$batch` sub-requests too, which get it as their own status.
     * `retryAfterSeconds` sets Retry-After (429 defaults to 1; `null` leaves the header out).
     */
    | { kind: "status"; status: number; code?: string; message?: string; retryAfterSeconds?: number | null }
    /** Holds the answer back this long (on top of `latencyMs`), e.g. longer than a client's timeout. */
    | { kind: "delay"; ms: number }
    /** Sends the headers and half the body, then destroys the socket. */
    | { kind: "connectionReset" }
    /** Sends the real status with the body cut in half, so it is no longer JSON. */
    | { kind: "malformedJson" }
    /** `$batch` only: leaves the last `count` (default 1) sub-responses out. */
    | { kind: "batchDropResponses"; count?: number }
    /** `$batch` only: gives the second sub-response the first one's id. */
    | { kind: "batchDuplicateIds" };

export type FaultKind = FaultEffect["kind"];

/**
 * A fault and its reach. Without `times` or `forMs` it stays until cleared; with both it ends at
 * whichever comes first. Without `path` it catches every request, `$batch` envelopes included
 * (so a status fault with no path fails the whole batch rather than its sub-requests).
 */
export type FaultSpec = FaultEffect & {
    /** Substring of, or pattern for, the request path (a `$batch` sub-request's path is `/{version}{url}`). */
    path?: string | RegExp;
    /**
     * For a `$batch` itself: catch it only when one of its sub-requests' paths matches, e.g. the
     * per-user batch as opposed to the Conditional Access one, which share `/beta/$batch`.
     */
    subRequestPath?: string | RegExp;
    /** Catch only the next N matching requests (each `$batch` sub-request counts as one). */
    times?: number;
    /** Catch matching requests for this many milliseconds from now. */
    forMs?: number;
};

/** A fault that is switched on; tests read `hits` to prove it fired. */
export interface InjectedFault {
    readonly spec: FaultSpec;
    readonly hits: number;
    readonly active: boolean;
    clear(): void;
}

/** Where in the emulator a fault is being looked for; decides which effects can apply. */
export type FaultSite = "http" | "batchEnvelope" | "batchSubRequest";

const EFFECTS_BY_SITE: Record<FaultSite, ReadonlySet<FaultKind>> = {
    http: new Set<FaultKind>(["status", "delay", "connectionReset", "malformedJson"]),
    batchEnvelope: new Set<FaultKind>(["batchDropResponses", "batchDuplicateIds"]),
    // A sub-response has no socket of its own and its body is already parsed JSON, so only a status fits.
    batchSubRequest: new Set<FaultKind>(["status"]),
};

class SwitchedFault implements InjectedFault {
    hits = 0;
    private cleared = false;
    private readonly endsAt: number;

    constructor(readonly spec: FaultSpec, now: number) {
        this.endsAt = spec.forMs === undefined ? Infinity : now + spec.forMs;
    }

    get active(): boolean {
        return this.isActiveAt(Date.now());
    }

    isActiveAt(now: number): boolean {
        return !this.cleared && now < this.endsAt && (this.spec.times === undefined || this.hits < this.spec.times);
    }

    matches(path: string, subRequestPaths: readonly string[]): boolean {
        const { path: pattern, subRequestPath } = this.spec;
        return matchesPattern(pattern, path) && (subRequestPath === undefined || subRequestPaths.some((candidate) => matchesPattern(subRequestPath, candidate)));
    }

    clear(): void {
        this.cleared = true;
    }
}

function matchesPattern(pattern: string | RegExp | undefined, path: string): boolean {
    if (pattern === undefined) return true;
    return typeof pattern === "string" ? path.includes(pattern) : pattern.test(path);
}

/** The emulator's fault switches: inject, inspect, clear. */
export class FaultSwitchboard {
    private switched: SwitchedFault[] = [];

    /** Switches a fault on; faults are tried in the order they were injected and one applies per request. */
    inject(spec: FaultSpec): InjectedFault {
        if (spec.times !== undefined && !(spec.times > 0)) throw new Error("fault times must be > 0");
        const fault = new SwitchedFault(spec, Date.now());
        this.switched.push(fault);
        return fault;
    }

    /** The faults that can still fire. */
    get active(): readonly InjectedFault[] {
        const now = Date.now();
        return this.switched.filter((fault) => fault.isActiveAt(now));
    }

    clear(): void {
        for (const fault of this.switched) fault.clear();
        this.switched = [];
    }

    /**
     * @internal Finds the first fault for this request, counts the hit and returns its effect.
     * `subRequestPaths` are a `$batch`'s sub-request paths; none for any other request.
     */
    take(path: string, site: FaultSite, subRequestPaths: readonly string[] = []): FaultEffect | undefined {
        const now = Date.now();
        this.switched = this.switched.filter((fault) => fault.isActiveAt(now));
        const fault = this.switched.find((candidate) => EFFECTS_BY_SITE[site].has(candidate.spec.kind) && candidate.matches(path, subRequestPaths));
        if (fault === undefined) return undefined;
        fault.hits++;
        return fault.spec;
    }
}
