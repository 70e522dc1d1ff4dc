import { randomBytes } from "node:crypto";
import { EmulatorResponse, json, oauthError } from "./responses";

/** What the token service knows about one access token it issued. Tokens are opaque strings. */
interface IssuedToken {
    tenantId: string;
    expiresAt: number;
}

export type TokenCheck = { valid: true; tenantId: string } | { valid: false; reason: string };

/**
 * The slice of the Entra ID v2.0 endpoint that a confidential client (MSAL node, through
 * `@azure/identity`) needs for the client-credentials grant: the OpenID discovery document
 * and the token endpoint (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow).
 */
export class EntraTokenService {
    tokensIssued = 0;
    private readonly tokens = new Map<string, IssuedToken>();

    constructor(
        private readonly baseUrl: string,
        readonly tenantId: string,
        readonly clientId: string,
        private readonly clientSecret: string,
        private readonly tokenLifetimeSeconds: number,
    ) {}

    /** The discovery document at `/{tenant}/v2.0/.well-known/openid-configuration`, pointing back at the emulator. */
    openIdConfiguration(tenant: string): EmulatorResponse {
        if (!this.isOwnTenant(tenant)) return this.unknownTenant(tenant);
        const authority = `${this.baseUrl}/${this.tenantId}`;
        return json(200, {
            token_endpoint: `${authority}/oauth2/v2.0/token`,
            token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            jwks_uri: `${authority}/discovery/v2.0/keys`,
            response_modes_supported: ["query", "fragment", "form_post"],
            subject_types_supported: ["pairwise"],
            id_token_signing_alg_values_supported: ["RS256"],
            response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
            scopes_supported: ["openid", "profile", "email", "offline_access"],
            issuer: `${authority}/v2.0`,
            request_uri_parameter_supported: false,
            userinfo_endpoint: `${this.baseUrl}/oidc/userinfo`,
            authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
            device_authorization_endpoint: `${authority}/oauth2/v2.0/devicecode`,
            http_logout_supported: true,
            frontchannel_logout_supported: true,
            end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
            claims_supported: ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "tid", "ver", "oid"],
            tenant_region_scope: "EU",
            cloud_instance_name: new URL(this.baseUrl).host,
            cloud_graph_host_name: new URL(this.baseUrl).host,
            msgraph_host: new URL(this.baseUrl).host,
        }, "application/json; charset=utf-8");
    }

    /** The signing keys the discovery document names; empty, as the emulator's tokens are opaque. */
    signingKeys(tenant: string): EmulatorResponse {
        if (!this.isOwnTenant(tenant)) return this.unknownTenant(tenant);
        return json(200, { keys: [] }, "application/json; charset=utf-8");
    }

    /** `POST /{tenant}/oauth2/v2.0/token` with an `application/x-www-form-urlencoded` body. */
    issueToken(tenant: string, form: URLSearchParams, authorizationHeader: string | undefined): EmulatorResponse {
        if (!this.isOwnTenant(tenant)) return this.unknownTenant(tenant);
        const grantType = form.get("grant_type");
        if (grantType !== "client_credentials") {
            return oauthError(400, { error: "unsupported_grant_type", description: `The emulator supports only client_credentials, not '${grantType ?? ""}'.` });
        }
        // A confidential client may authenticate in the body or with HTTP Basic (RFC 6749 §2.3.1).
        const basic = parseBasicCredentials(authorizationHeader);
        const clientId = form.get("client_id") ?? basic?.clientId;
        const clientSecret = form.get("client_secret") ?? basic?.clientSecret;
        if (clientId !== this.clientId) {
            return oauthError(400, { error: "unauthorized_client", description: `Application with identifier '${clientId ?? ""}' was not found in the directory '${this.tenantId}'.` });
        }
        // Workload identity federation: the client proves itself with a federated token (OIDC) instead of a secret.
        const assertionType = form.get("client_assertion_type");
        if (assertionType !== null) {
            if (assertionType !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || form.get("client_assertion") !== this.federatedToken) {
                return oauthError(400, { error: "invalid_client", description: "AADSTS700211: No matching federated identity record found for presented assertion." });
            }
        } else if (clientSecret !== this.clientSecret) {
            return oauthError(401, { error: "invalid_client", description: `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${this.clientId}'.` });
        }
        const scope = form.get("scope") ?? "";
        // Entra rejects client-credential scopes that are not a single resource's `/.default`.
        const scopes = scope.split(" ").filter((s) => s.length > 0 && !["openid", "profile", "offline_access"].includes(s));
        if (scopes.length !== 1 || !scopes[0].endsWith("/.default")) {
            return oauthError(400, { error: "invalid_scope", description: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).` });
        }
        const accessToken = randomBytes(32).toString("base64url");
        this.tokens.set(accessToken, { tenantId: this.tenantId, expiresAt: Date.now() + this.tokenLifetimeSeconds * 1000 });
        this.tokensIssued++;
        return json(200, {
            token_type: "Bearer",
            expires_in: this.tokenLifetimeSeconds,
            ext_expires_in: this.tokenLifetimeSeconds,
            access_token: accessToken,
        }, "application/json; charset=utf-8");
    }

    /** The federated (OIDC) token the emulator's app trusts, as a CI provider or Pulumi ESC would issue it. */
    readonly federatedToken = randomBytes(32).toString("base64url");

    /** Every access token issued so far, for tests that prove no token is ever printed. */
    get issuedTokens(): readonly string[] {
        return [...this.tokens.keys()];
    }

    /** Checks an `Authorization: Bearer …` header against the tokens issued. */
    check(authorizationHeader: string | undefined): TokenCheck {
        const match = /^Bearer\s+(\S+)$/i.exec(authorizationHeader ?? "");
        if (match === null) return { valid: false, reason: "Access token is empty." };
        const token = this.tokens.get(match[1]);
        if (token === undefined) return { valid: false, reason: "Invalid token: the emulator did not issue it." };
        if (Date.now() >= token.expiresAt) return { valid: false, reason: "Lifetime validation failed, the token is expired." };
        return { valid: true, tenantId: token.tenantId };
    }

    /** Makes every token issued so far expired; tokens issued afterwards work. */
    expireAll(): void {
        for (const token of this.tokens.values()) token.expiresAt = 0;
    }

    private isOwnTenant(tenant: string): boolean {
        return tenant.toLowerCase() === this.tenantId.toLowerCase();
    }

    private unknownTenant(tenant: string): EmulatorResponse {
        return oauthError(400, { error: "invalid_tenant", description: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.` });
    }
}

function parseBasicCredentials(header: string | undefined): { clientId: string; clientSecret: string } | undefined {
    const match = /^Basic\s+(\S+)$/i.exec(header ?? "");
    if (match === null) return undefined;
    const decoded = Buffer.from(match[1], "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return undefined;
    return { clientId: decodeURIComponent(decoded.slice(0, colon)), clientSecret: decodeURIComponent(decoded.slice(colon + 1)) };
}
