import { randomBytes, randomUUID } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { createLoopbackCertificate, LoopbackCertificate } from "./certificate";
import { AuthenticationStrengthPolicy, ConditionalAccessPolicy, EmulatedAuthenticationStrength, EmulatedConditionalAccessPolicy } from "./conditionalAccess";
import { EmulatedDirectoryRole, EmulatedGroup, EmulatedRoleEligibility } from "./directoryObjects";
import { serviceLimitOf, ServiceLimit } from "./evidenceApi";
import { FaultEffect, FaultKind, FaultSwitchboard } from "./faults";
import { answerGraphOperation, BatchSubRequest, EmulatedUser, GRAPH_VERSIONS, GraphVersion, parseBatchBody } from "./graphApi";
import { EmulatorResponse, graphError, json, oauthError } from "./responses";
import { EmulatedTenant, StoredDirectoryRole } from "./tenant";
import { SlidingWindowThrottle, ThrottleModel } from "./throttle";
import { EntraTokenService } from "./tokenService";

export {
    AuthenticationStrengthPolicy,
    BETA_ONLY_CONDITIONS,
    BUILT_IN_AUTHENTICATION_STRENGTHS,
    ConditionalAccessGrantControls,
    ConditionalAccessGuestsOrExternalUsers,
    ConditionalAccessPolicy,
    ConditionalAccessPolicyState,
    ConditionalAccessUsers,
    EmulatedAuthenticationStrength,
    EmulatedConditionalAccessPolicy,
} from "./conditionalAccess";
export { EmulatedDirectoryRole, EmulatedGroup, EmulatedRoleEligibility } from "./directoryObjects";
export { FAULT_PATHS, FaultEffect, FaultKind, FaultSpec, InjectedFault } from "./faults";
export { EmulatedUser, MAX_BATCH_REQUESTS } from "./graphApi";
export { MAX_PAGE_SIZE } from "./odataCollection";
export { StoredDirectoryRole } from "./tenant";
export { ThrottleModel } from "./throttle";

/**
 * Per-tenant service limits Graph applies on top of the resource-unit budget
 * (https://learn.microsoft.com/graph/throttling-limits). Each is off unless set, so tests that do
 * not study throttling never wait.
 */
export interface ServiceLimits {
    /**
     * Requests per second to `/identity/conditionalAccess/...`, direct or inside `$batch`. Graph
     * allows 1 per tenant for all apps and answers beyond it with 429 and no Retry-After.
     */
    conditionalAccessRequestsPerSecond?: number;
    /** Requests per 10 seconds to `/reports/...`. Graph allows 5 per app and tenant; the 429 carries Retry-After. */
    reportsRequestsPer10Seconds?: number;
}

export interface GraphEmulatorOptions extends ServiceLimits {
    users?: EmulatedUser[];
    groups?: EmulatedGroup[];
    directoryRoles?: EmulatedDirectoryRole[];
    conditionalAccessPolicies?: EmulatedConditionalAccessPolicy[];
    /** Serve policies with every `@odata.type` annotation, as beta exports show them. Default false (minimal metadata). */
    conditionalAccessODataAnnotations?: boolean;
    /** Custom authentication strengths, served beside the three built-in ones. */
    authenticationStrengths?: EmulatedAuthenticationStrength[];
    /** PIM eligibilities for directory roles, listed by `roleEligibilityScheduleInstances`. */
    roleEligibilities?: EmulatedRoleEligibility[];
    /** `isEnabled` of the security defaults policy. Default false, as in any tenant that uses Conditional Access. */
    securityDefaultsEnabled?: boolean;
    /** Items per page of a collection answer without `$top` (policies, registration rows, memberships). Default 100. */
    pageSize?: number;
    /** Added to every HTTP request before it is answered. Default 0. */
    latencyMs?: number;
    /** Resource units per window for the tenant; 1 unit per Graph GET, each `$batch` sub-request counted. Default: unlimited. */
    throttle?: ThrottleModel;
    /** Default: a random GUID. */
    tenantId?: string;
    /** `expires_in` of issued tokens, after which Graph rejects them. Default 3599, as Entra issues. */
    tokenLifetimeSeconds?: number;
    /**
     * Order of `$batch` sub-responses. Graph promises no order
     * (https://learn.microsoft.com/graph/json-batching#batch-response-format), so the default
     * `reversed` makes a client that pairs responses by position fail every time, not now and then.
     */
    batchResponseOrder?: "reversed" | "asRequested";
}

/** Which part of the emulator answered a request. */
export type EmulatorEndpoint = "openIdConfiguration" | "signingKeys" | "token" | "graph" | "batch" | "unknown";

export interface RecordedSubRequest {
    id: string;
    method: string;
    url: string;
    status: number;
    fault?: FaultKind;
}

export interface RecordedRequest {
    method: string;
    /** Path without the query string. */
    path: string;
    /** The query string with its `?`, or "". */
    query: string;
    /** The status sent; 0 while the request is still being answered or when the client left first. */
    status: number;
    /** Arrival time, ms since the epoch. */
    at: number;
    durationMs: number;
    endpoint: EmulatorEndpoint;
    isBatch: boolean;
    subRequests?: RecordedSubRequest[];
    /** The HTTP-level or `$batch`-envelope fault that shaped the answer, if any. */
    fault?: FaultKind;
}

/** A Microsoft Graph and Entra ID token service stand-in on `https://127.0.0.1:<random port>`. */
export interface GraphEmulator {
    /** `https://127.0.0.1:<port>`: both the authority host and the Graph endpoint (without version). */
    readonly url: string;
    /** PEM of the self-signed certificate the server presents (its own CA). */
    readonly caCertPath: string;
    readonly caCertPem: string;
    readonly tenantId: string;
    readonly clientId: string;
    readonly clientSecret: string;
    /** The federated token the emulator's app trusts (workload identity federation, OIDC). */
    readonly federatedToken: string;
    /** Like `env()`, but signing in as Pulumi ESC's azure-login provider with `oidc: true` sets it up: ARM_* variables, no secret. */
    oidcEnv(): Record<string, string>;
    /**
     * What the pack's process needs to reach the emulator: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
     * `AZURE_CLIENT_SECRET`, `AZURE_AUTHORITY_HOST` and `ENTRA_MFA_GUARD_GRAPH_ENDPOINT` (both `url`),
     * `NODE_EXTRA_CA_CERTS` (`caCertPath`), and `NO_PROXY`/`no_proxy` extended with the loopback host.
     */
    env(): Record<string, string>;
    /** Users by id; change them with `upsertUser`/`removeUser`. */
    readonly users: ReadonlyMap<string, EmulatedUser>;
    upsertUser(user: EmulatedUser): void;
    /** Removes by id or userPrincipalName; true if the user existed. */
    removeUser(idOrUpn: string): boolean;
    /** Groups by id, served through `transitiveMembers` and `transitiveMemberOf`. */
    readonly groups: ReadonlyMap<string, EmulatedGroup>;
    upsertGroup(group: EmulatedGroup): void;
    removeGroup(id: string): boolean;
    /** Activated directory roles by template id, each with its object `id`. */
    readonly directoryRoles: ReadonlyMap<string, StoredDirectoryRole>;
    /** Adds or replaces the role with this template id; a replaced role keeps its object id unless given one. */
    upsertDirectoryRole(role: EmulatedDirectoryRole): void;
    /** The tenant's policies as Graph lists them, in order. */
    readonly conditionalAccessPolicies: readonly ConditionalAccessPolicy[];
    /** Replaces every policy; what a policy leaves out is filled with Graph's empty values. */
    setConditionalAccessPolicies(policies: readonly EmulatedConditionalAccessPolicy[]): void;
    /** Turns the beta-export `@odata.type` annotations on policies on or off. */
    setConditionalAccessODataAnnotations(annotated: boolean): void;
    /** The built-in strengths and the custom ones added, by id. */
    readonly authenticationStrengths: ReadonlyMap<string, AuthenticationStrengthPolicy>;
    /** Adds or replaces a custom strength; the rest of it is filled as Graph fills a new one (`custom`, satisfies `mfa`). */
    upsertAuthenticationStrength(strength: EmulatedAuthenticationStrength): void;
    /** Every PIM eligibility, with the id and start time it is listed with. */
    readonly roleEligibilities: readonly Readonly<Required<EmulatedRoleEligibility> & { id: string; startDateTime: string }>[];
    /** Replaces the eligibilities of one principal (a user or a role-assignable group); `[]` removes them. */
    setRoleEligibilities(principalId: string, eligibilities: readonly Omit<EmulatedRoleEligibility, "principalId">[]): void;
    readonly securityDefaultsEnabled: boolean;
    setSecurityDefaults(isEnabled: boolean): void;
    /** Replaces the service limits (and forgets what was spent); `{}` turns them off. */
    setServiceLimits(limits: ServiceLimits): void;
    /** Every HTTP request in arrival order. */
    readonly requests: readonly RecordedRequest[];
    /**
     * Graph operations whose path (`/{version}/...`, no query) contains the string or matches the
     * pattern: direct requests and `$batch` sub-requests, whatever their answer; `$batch`
     * envelopes and token-service calls are not operations. For example
     * `countRequests(FAULT_PATHS.conditionalAccessPolicies)`.
     */
    countRequests(path: string | RegExp): number;
    /** Graph resource units clients spent: every Graph GET, direct or inside a `$batch`, whatever the answer. */
    countGraphUnits(): number;
    readonly tokensIssued: number;
    /** The access tokens issued since the emulator started (not cleared by `reset`), for "never printed" checks. */
    readonly issuedTokens: readonly string[];
    /** Fault switches: `faults.inject({ kind: "status", status: 503, path: FAULT_PATHS.mfaRequirements, times: 2 })`. */
    readonly faults: FaultSwitchboard;
    /** Every token issued so far is rejected from now on (401); tokens issued later work. */
    expireAllTokens(): void;
    latencyMs: number;
    /** Replaces the throttle model (and forgets spent units); `undefined` turns throttling off. */
    setThrottle(model: ThrottleModel | undefined): void;
    /** Clears the request log, the faults, the spent throttle and service-limit units and `tokensIssued`; the tenant's objects and tokens stay. */
    reset(): void;
    close(): Promise<void>;
}

/**
 * Starts the emulator with a fresh certificate. Tests pass `env()` to the process that runs the
 * pack; `NODE_EXTRA_CA_CERTS` is read only at process start, hence a child process.
 *
 * For example:
 * ```ts
 * const emulator = await startGraphEmulator({ users: [{ id, userPrincipalName, perUserMfaState: "disabled" }] });
 * spawn(process.execPath, [entry], { env: { ...process.env, ...emulator.env() } });
 * ```
 */
export async function startGraphEmulator(options: GraphEmulatorOptions = {}): Promise<GraphEmulator> {
    const certificate = await createLoopbackCertificate();
    try {
        const emulator = new LoopbackGraphEmulator(certificate, options);
        await emulator.listen();
        return emulator;
    } catch (error) {
        await certificate.remove();
        throw error;
    }
}

/** Token-service paths after `/{tenant}/`. */
const TOKEN_SERVICE_ROUTES = new Map<string, EmulatorEndpoint>([
    ["v2.0/.well-known/openid-configuration", "openIdConfiguration"],
    ["oauth2/v2.0/token", "token"],
    ["discovery/v2.0/keys", "signingKeys"],
]);

const MAX_BODY_BYTES = 1024 * 1024;

class LoopbackGraphEmulator implements GraphEmulator {
    url = "";
    readonly tenantId: string;
    readonly clientId = randomUUID();
    readonly clientSecret = randomBytes(24).toString("base64url");
    readonly requests: RecordedRequest[] = [];
    readonly faults = new FaultSwitchboard();
    latencyMs: number;
    private readonly server: https.Server;
    private readonly tenant = new EmulatedTenant();
    private readonly closing = new AbortController();
    private throttle: SlidingWindowThrottle | undefined;
    private serviceThrottles = new Map<ServiceLimit, SlidingWindowThrottle>();
    private tokenService!: EntraTokenService;

    constructor(private readonly certificate: LoopbackCertificate, private readonly options: GraphEmulatorOptions) {
        this.tenantId = options.tenantId ?? randomUUID();
        this.latencyMs = options.latencyMs ?? 0;
        this.setThrottle(options.throttle);
        this.setServiceLimits(options);
        for (const user of options.users ?? []) this.tenant.upsertUser(user);
        for (const group of options.groups ?? []) this.tenant.upsertGroup(group);
        for (const role of options.directoryRoles ?? []) this.tenant.upsertDirectoryRole(role);
        this.tenant.setConditionalAccessPolicies(options.conditionalAccessPolicies ?? []);
        this.tenant.conditionalAccessODataAnnotations = options.conditionalAccessODataAnnotations ?? false;
        for (const strength of options.authenticationStrengths ?? []) this.tenant.upsertAuthenticationStrength(strength);
        const eligibilities = options.roleEligibilities ?? [];
        this.tenant.setRoleEligibilities(eligibilities.map((eligibility) => eligibility.principalId), eligibilities);
        this.tenant.securityDefaultsEnabled = options.securityDefaultsEnabled ?? false;
        this.server = https.createServer({ key: certificate.keyPem, cert: certificate.certPem }, (request, response) => {
            void this.answer(request, response);
        });
    }

    get caCertPath(): string {
        return this.certificate.certPath;
    }

    get caCertPem(): string {
        return this.certificate.certPem;
    }

    get users(): ReadonlyMap<string, EmulatedUser> {
        return this.tenant.users.byId;
    }

    get groups(): ReadonlyMap<string, EmulatedGroup> {
        return this.tenant.groups;
    }

    get directoryRoles(): ReadonlyMap<string, StoredDirectoryRole> {
        return this.tenant.directoryRoles;
    }

    get conditionalAccessPolicies(): readonly ConditionalAccessPolicy[] {
        return this.tenant.conditionalAccessPolicies;
    }

    get securityDefaultsEnabled(): boolean {
        return this.tenant.securityDefaultsEnabled;
    }

    get authenticationStrengths(): ReadonlyMap<string, AuthenticationStrengthPolicy> {
        return this.tenant.authenticationStrengths;
    }

    get roleEligibilities() {
        return this.tenant.roleEligibilities;
    }

    get tokensIssued(): number {
        return this.tokenService.tokensIssued;
    }

    get issuedTokens(): readonly string[] {
        return this.tokenService.issuedTokens;
    }

    async listen(): Promise<void> {
        await new Promise<void>((resolve, reject) => {
            this.server.once("error", reject);
            this.server.listen(0, "127.0.0.1", () => resolve());
        });
        this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        this.tokenService = new EntraTokenService(this.url, this.tenantId, this.clientId, this.clientSecret, this.options.tokenLifetimeSeconds ?? 3599);
    }

    env(): Record<string, string> {
        // A proxy from the parent's environment must not see loopback traffic; @azure/identity's
        // pipeline honours HTTPS_PROXY unless NO_PROXY names the host.
        const noProxy = [process.env.NO_PROXY ?? process.env.no_proxy, "127.0.0.1", "localhost"].filter(Boolean).join(",");
        return {
            AZURE_TENANT_ID: this.tenantId,
            AZURE_CLIENT_ID: this.clientId,
            AZURE_CLIENT_SECRET: this.clientSecret,
            AZURE_AUTHORITY_HOST: this.url,
            ENTRA_MFA_GUARD_GRAPH_ENDPOINT: this.url,
            NODE_EXTRA_CA_CERTS: this.caCertPath,
            NO_PROXY: noProxy,
            no_proxy: noProxy,
        };
    }

    get federatedToken(): string {
        return this.tokenService.federatedToken;
    }

    oidcEnv(): Record<string, string> {
        const { AZURE_TENANT_ID: _tenant, AZURE_CLIENT_ID: _client, AZURE_CLIENT_SECRET: _secret, ...connection } = this.env();
        return {
            ...connection,
            ARM_USE_OIDC: "true",
            ARM_TENANT_ID: this.tenantId,
            ARM_CLIENT_ID: this.clientId,
            ARM_OIDC_TOKEN: this.federatedToken,
        };
    }

    upsertUser(user: EmulatedUser): void {
        this.tenant.upsertUser(user);
    }

    removeUser(idOrUpn: string): boolean {
        return this.tenant.removeUser(idOrUpn);
    }

    upsertGroup(group: EmulatedGroup): void {
        this.tenant.upsertGroup(group);
    }

    removeGroup(id: string): boolean {
        return this.tenant.groups.delete(id);
    }

    upsertDirectoryRole(role: EmulatedDirectoryRole): void {
        this.tenant.upsertDirectoryRole(role);
    }

    setConditionalAccessPolicies(policies: readonly EmulatedConditionalAccessPolicy[]): void {
        this.tenant.setConditionalAccessPolicies(policies);
    }

    setConditionalAccessODataAnnotations(annotated: boolean): void {
        this.tenant.conditionalAccessODataAnnotations = annotated;
    }

    upsertAuthenticationStrength(strength: EmulatedAuthenticationStrength): void {
        this.tenant.upsertAuthenticationStrength(strength);
    }

    setRoleEligibilities(principalId: string, eligibilities: readonly Omit<EmulatedRoleEligibility, "principalId">[]): void {
        this.tenant.setRoleEligibilities([principalId], eligibilities.map((eligibility) => ({ ...eligibility, principalId })));
    }

    setSecurityDefaults(isEnabled: boolean): void {
        this.tenant.securityDefaultsEnabled = isEnabled;
    }

    setServiceLimits(limits: ServiceLimits): void {
        this.serviceThrottles = new Map();
        if (limits.conditionalAccessRequestsPerSecond !== undefined) {
            this.serviceThrottles.set("conditionalAccess", new SlidingWindowThrottle({ unitsPerWindow: limits.conditionalAccessRequestsPerSecond, windowMs: 1_000 }));
        }
        if (limits.reportsRequestsPer10Seconds !== undefined) {
            this.serviceThrottles.set("reports", new SlidingWindowThrottle({ unitsPerWindow: limits.reportsRequestsPer10Seconds, windowMs: 10_000 }));
        }
    }

    countRequests(path: string | RegExp): number {
        const matches = (candidate: string) => (typeof path === "string" ? candidate.includes(path) : path.test(candidate));
        let count = 0;
        for (const request of this.requests) {
            if (request.endpoint === "graph" && matches(request.path)) count++;
            const version = request.path.split("/")[1];
            for (const subRequest of request.subRequests ?? []) {
                if (matches(`/${version}/${subRequest.url.replace(/^\//, "").split("?")[0]}`)) count++;
            }
        }
        return count;
    }

    countGraphUnits(): number {
        let units = 0;
        for (const request of this.requests) {
            if (request.endpoint === "graph" && request.method === "GET") units++;
            for (const subRequest of request.subRequests ?? []) {
                if (subRequest.method.toUpperCase() === "GET") units++;
            }
        }
        return units;
    }

    expireAllTokens(): void {
        this.tokenService.expireAll();
    }

    setThrottle(model: ThrottleModel | undefined): void {
        this.throttle = model === undefined ? undefined : new SlidingWindowThrottle(model);
    }

    reset(): void {
        this.requests.length = 0;
        this.faults.clear();
        this.throttle?.reset();
        for (const throttle of this.serviceThrottles.values()) throttle.reset();
        this.tokenService.tokensIssued = 0;
    }

    async close(): Promise<void> {
        this.closing.abort();
        const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
        this.server.closeAllConnections();
        await closed;
        await this.certificate.remove();
    }

    private async answer(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
        const url = new URL(request.url ?? "/", this.url);
        const endpoint = this.endpointOf(url.pathname);
        const record: RecordedRequest = {
            method: request.method ?? "GET",
            path: url.pathname,
            query: url.search,
            status: 0,
            at: Date.now(),
            durationMs: 0,
            endpoint,
            isBatch: endpoint === "batch",
        };
        this.requests.push(record);
        try {
            const body = await readBody(request);
            await this.pause(this.latencyMs);
            const fault = this.faults.take(url.pathname, "http", endpoint === "batch" ? batchSubRequestPaths(url.pathname, body) : []);
            if (fault !== undefined) record.fault = fault.kind;
            if (fault?.kind === "delay") await this.pause(fault.ms);
            const reply = fault?.kind === "status" ? this.faultStatusReply(url.pathname, fault) : this.route(request, url, body, record);
            record.status = reply.status;
            send(request, response, reply, fault);
        } catch (error) {
            if (this.closing.signal.aborted || request.destroyed) {
                response.destroy();
            } else {
                // A bug in the emulator should fail the test that met it, not look like a network fault.
                const reply = graphError(500, { code: "EmulatorBug", message: String(error) });
                record.status = reply.status;
                send(request, response, reply, undefined);
            }
        } finally {
            record.durationMs = Date.now() - record.at;
        }
    }

    private route(request: http.IncomingMessage, url: URL, body: string, record: RecordedRequest): EmulatorResponse {
        const segments = pathSegments(url.pathname);
        const method = record.method;
        switch (record.endpoint) {
            case "openIdConfiguration":
            case "signingKeys":
            case "token": {
                const expectedMethod = record.endpoint === "token" ? "POST" : "GET";
                if (method !== expectedMethod) return oauthError(405, { description: `Use ${expectedMethod} here.` });
                const tenant = segments[0];
                if (record.endpoint === "openIdConfiguration") return this.tokenService.openIdConfiguration(tenant);
                if (record.endpoint === "signingKeys") return this.tokenService.signingKeys(tenant);
                return this.tokenService.issueToken(tenant, new URLSearchParams(body), request.headers.authorization);
            }
            case "graph":
            case "batch": {
                const version = segments[0] as GraphVersion;
                const token = this.tokenService.check(request.headers.authorization);
                if (!token.valid) return graphError(401, { message: token.reason });
                if (record.endpoint === "graph") return this.runGraphOperation(method, version, segments.slice(1), url.searchParams);
                if (method !== "POST") return graphError(405, { message: "$batch takes POST." });
                return this.runBatch(version, url.pathname, body, record);
            }
            case "unknown":
                return graphError(404, { code: "NotFound", message: `The emulator serves no ${method} ${url.pathname}.` });
        }
    }

    /** One Graph operation after authentication: the service's own limit, the resource-unit budget, then the answer. */
    private runGraphOperation(method: string, version: GraphVersion, segments: readonly string[], query: URLSearchParams): EmulatorResponse {
        const serviceLimit = serviceLimitOf(segments);
        const serviceDecision = (serviceLimit === undefined ? undefined : this.serviceThrottles.get(serviceLimit)?.trySpend(1)) ?? { allowed: true };
        if (!serviceDecision.allowed) {
            // Conditional Access resources "do not return a Retry-After header on 429"
            // (https://learn.microsoft.com/graph/throttling-limits#identity-protection-and-conditional-access-service-limits).
            const retryAfterSeconds = serviceLimit === "conditionalAccess" ? null : serviceDecision.retryAfterSeconds;
            return graphError(429, { message: `Too many requests: the tenant's ${serviceLimit} service limit is spent.`, retryAfterSeconds });
        }
        const decision = this.throttle?.trySpend(1) ?? { allowed: true };
        if (!decision.allowed) {
            return graphError(429, { message: "Too many requests: the tenant's resource-unit budget is spent.", retryAfterSeconds: decision.retryAfterSeconds });
        }
        return answerGraphOperation({ tenant: this.tenant, graphUrl: this.url, pageSize: this.options.pageSize ?? 100 }, method, version, segments, query);
    }

    /** JSON batching: each sub-request faulted and throttled on its own; the batch itself answers 200. */
    private runBatch(version: GraphVersion, batchPath: string, body: string, record: RecordedRequest): EmulatorResponse {
        const parsed = parseBatchBody(body);
        if ("status" in parsed) return parsed;
        record.subRequests = [];
        let responses = parsed.requests.map((subRequest) => {
            const { reply, fault } = this.runSubRequest(version, subRequest);
            record.subRequests!.push({ id: subRequest.id, method: subRequest.method, url: subRequest.url, status: reply.status, ...(fault ? { fault } : {}) });
            return { id: subRequest.id, status: reply.status, headers: reply.headers, body: reply.body };
        });
        const envelopeFault = this.faults.take(batchPath, "batchEnvelope", batchSubRequestPaths(batchPath, body));
        if (envelopeFault?.kind === "batchDropResponses") {
            responses = responses.slice(0, Math.max(0, responses.length - (envelopeFault.count ?? 1)));
        } else if (envelopeFault?.kind === "batchDuplicateIds" && responses.length > 1) {
            responses[1] = { ...responses[1], id: responses[0].id };
        }
        if (envelopeFault !== undefined) record.fault = envelopeFault.kind;
        if ((this.options.batchResponseOrder ?? "reversed") === "reversed") responses.reverse();
        return json(200, { responses });
    }

    private runSubRequest(version: GraphVersion, subRequest: BatchSubRequest): { reply: EmulatorResponse; fault?: FaultKind } {
        if (/^[a-z][a-z0-9+.-]*:/i.test(subRequest.url)) {
            return { reply: graphError(400, { code: "BadRequest", message: "A batch request's url must be relative to the version, e.g. /users/{id}." }) };
        }
        const url = new URL(`/${version}/${subRequest.url.replace(/^\//, "")}`, this.url);
        const fault = this.faults.take(url.pathname, "batchSubRequest");
        if (fault?.kind === "status") return { reply: this.faultStatusReply(url.pathname, fault), fault: fault.kind };
        const segments = pathSegments(url.pathname).slice(1);
        if (segments[0] === "$batch") return { reply: graphError(400, { code: "BadRequest", message: "A batch cannot contain a batch." }) };
        return { reply: this.runGraphOperation(subRequest.method.toUpperCase(), version, segments, url.searchParams) };
    }

    private faultStatusReply(path: string, fault: Extract<FaultEffect, { kind: "status" }>): EmulatorResponse {
        const endpoint = this.endpointOf(path);
        if (endpoint === "token" || endpoint === "openIdConfiguration" || endpoint === "signingKeys") {
            return oauthError(fault.status, { error: fault.code, description: fault.message, retryAfterSeconds: fault.retryAfterSeconds });
        }
        return graphError(fault.status, { code: fault.code, message: fault.message, retryAfterSeconds: fault.retryAfterSeconds });
    }

    private endpointOf(path: string): EmulatorEndpoint {
        const segments = pathSegments(path);
        const tokenEndpoint = segments.length > 1 ? TOKEN_SERVICE_ROUTES.get(segments.slice(1).join("/")) : undefined;
        if (tokenEndpoint !== undefined) return tokenEndpoint;
        if (!GRAPH_VERSIONS.includes(segments[0] as GraphVersion)) return "unknown";
        return segments.length === 2 && segments[1] === "$batch" ? "batch" : "graph";
    }

    private async pause(ms: number): Promise<void> {
        if (ms > 0) await sleep(ms, undefined, { signal: this.closing.signal });
    }
}

/** `/{version}/{path}` of each sub-request of a `$batch` body, without the query; none when the body cannot be read. */
function batchSubRequestPaths(batchPath: string, body: string): string[] {
    const parsed = parseBatchBody(body);
    if ("status" in parsed) return [];
    const version = batchPath.split("/")[1];
    return parsed.requests.map((request) => `/${version}/${request.url.replace(/^\//, "").split("?")[0]}`);
}

/** Decoded path segments: a guest UPN like `a_b.com%23EXT%23@c.com` arrives percent-encoded. */
function pathSegments(pathname: string): string[] {
    return pathname.split("/").filter((segment) => segment.length > 0).map(decodeSegment);
}

function decodeSegment(segment: string): string {
    try {
        return decodeURIComponent(segment);
    } catch {
        return segment;
    }
}

async function readBody(request: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) throw new Error("request body too large for the emulator");
        chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString("utf8");
}

function send(request: http.IncomingMessage, response: http.ServerResponse, reply: EmulatorResponse, fault: FaultEffect | undefined): void {
    const text = JSON.stringify(reply.body);
    const headers: Record<string, string> = { ...reply.headers };
    const clientRequestId = request.headers["client-request-id"];
    if (typeof clientRequestId === "string") headers["client-request-id"] = clientRequestId;
    if (fault?.kind === "malformedJson") {
        const truncated = text.slice(0, Math.floor(text.length / 2));
        response.writeHead(reply.status, { ...headers, "Content-Length": Buffer.byteLength(truncated) });
        response.end(truncated);
        return;
    }
    response.writeHead(reply.status, { ...headers, "Content-Length": Buffer.byteLength(text) });
    if (fault?.kind === "connectionReset") {
        // Headers and part of the body go out first, so the client fails while reading the body,
        // the way a dropped connection looks in production. (A TLS socket cannot send a bare TCP
        // RST through resetAndDestroy, so the socket is destroyed without TLS close_notify.)
        response.write(text.slice(0, Math.floor(text.length / 2)), () => response.socket?.destroy());
        return;
    }
    response.end(text);
}
