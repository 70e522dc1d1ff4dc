/**
 * Microsoft Graph and Entra endpoints of the public and national clouds
 * (https://learn.microsoft.com/graph/deployments#microsoft-graph-and-graph-explorer-service-root-endpoints).
 */
export const CLOUDS = {
    public: { graph: "https://graph.microsoft.com", authority: "https://login.microsoftonline.com" },
    usgovernment: { graph: "https://graph.microsoft.us", authority: "https://login.microsoftonline.us" },
    usgovernmentdod: { graph: "https://dod-graph.microsoft.us", authority: "https://login.microsoftonline.us" },
    china: { graph: "https://microsoftgraph.chinacloudapi.cn", authority: "https://login.chinacloudapi.cn" },
} as const;

export type CloudName = keyof typeof CLOUDS;
export const CLOUD_NAMES = Object.keys(CLOUDS) as CloudName[];

/**
 * `ARM_ENVIRONMENT` as the Pulumi Azure providers read it, plus the Azure CLI's cloud names,
 * so a pipeline already set up for one of them needs nothing more.
 */
const CLOUD_ALIASES: Record<string, CloudName> = {
    public: "public",
    azurecloud: "public",
    usgovernment: "usgovernment",
    azureusgovernment: "usgovernment",
    usgovernmentdod: "usgovernmentdod",
    dod: "usgovernmentdod",
    china: "china",
    azurechinacloud: "china",
};

export function cloudNamed(name: string): CloudName | undefined {
    return CLOUD_ALIASES[name.trim().toLowerCase()];
}

/** The Graph hosts a token may be sent to. */
export const GRAPH_HOSTS: ReadonlySet<string> = new Set(Object.values(CLOUDS).map((cloud) => new URL(cloud.graph).hostname));
