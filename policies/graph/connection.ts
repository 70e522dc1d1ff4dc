import { isIP } from "node:net";
import { cloudNamed, CloudName, CLOUDS, GRAPH_HOSTS } from "./clouds";

/** Where the pack asks Graph and where its credential gets tokens. Built from the environment only. */
export interface GraphConnection {
    cloud: CloudName;
    /** Graph's service root without a version segment, e.g. `https://graph.microsoft.com`. */
    graphBaseUrl: string;
    /** The scope to ask the credential for: the Graph root + `/.default`. */
    tokenScope: string;
    authorityHost: string;
    /** Instance discovery asks the public cloud about the authority; a loopback authority cannot answer it. */
    disableInstanceDiscovery: boolean;
}

export class GraphConnectionError extends Error {}

export const GRAPH_ENDPOINT_VARIABLE = "ENTRA_MFA_GUARD_GRAPH_ENDPOINT";

/**
 * Resolves the Graph connection. `ENTRA_MFA_GUARD_GRAPH_ENDPOINT` may only name a known Graph host
 * or a loopback address, so that a bearer token is never sent to a host an attacker chose.
 */
export function resolveGraphConnection(env: NodeJS.ProcessEnv, configuredCloud?: CloudName): GraphConnection {
    const cloud = configuredCloud ?? cloudFromEnvironment(env);
    const endpoint = env[GRAPH_ENDPOINT_VARIABLE]?.trim();
    const graphBaseUrl = endpoint ? allowedGraphEndpoint(endpoint) : CLOUDS[cloud].graph;
    const authorityHost = env.AZURE_AUTHORITY_HOST?.trim() || CLOUDS[cloud].authority;
    return {
        cloud,
        graphBaseUrl,
        tokenScope: `${graphBaseUrl}/.default`,
        authorityHost,
        disableInstanceDiscovery: isLoopbackUrl(authorityHost),
    };
}

function cloudFromEnvironment(env: NodeJS.ProcessEnv): CloudName {
    const name = env.ARM_ENVIRONMENT?.trim();
    if (!name) return "public";
    const cloud = cloudNamed(name);
    if (!cloud) {
        throw new GraphConnectionError(`ARM_ENVIRONMENT is '${name}'; expected one of public, usgovernment, usgovernmentdod, china.`);
    }
    return cloud;
}

function allowedGraphEndpoint(endpoint: string): string {
    let url: URL;
    try {
        url = new URL(endpoint);
    } catch {
        throw new GraphConnectionError(`${GRAPH_ENDPOINT_VARIABLE} is not a URL.`);
    }
    const refuse = (why: string) => new GraphConnectionError(`${GRAPH_ENDPOINT_VARIABLE} is refused: ${why}. No request was sent.`);
    if (url.protocol !== "https:") throw refuse("it must use https");
    if (url.username || url.password) throw refuse("it must not carry credentials");
    if (url.search || url.hash || (url.pathname !== "/" && url.pathname !== "")) {
        throw refuse("it must be a service root without a path, such as https://graph.microsoft.us");
    }
    if (!GRAPH_HOSTS.has(url.hostname) && !isLoopbackHost(url.hostname)) {
        throw refuse(`'${url.hostname}' is neither a Microsoft Graph host (${[...GRAPH_HOSTS].join(", ")}) nor a loopback address`);
    }
    return url.origin;
}

export function isLoopbackUrl(address: string): boolean {
    try {
        return isLoopbackHost(new URL(address).hostname);
    } catch {
        return false;
    }
}

function isLoopbackHost(hostname: string): boolean {
    const host = hostname.replace(/^\[|\]$/g, "");
    if (host === "localhost") return true;
    if (isIP(host) === 4) return host.startsWith("127.");
    return isIP(host) === 6 && host === "::1";
}
