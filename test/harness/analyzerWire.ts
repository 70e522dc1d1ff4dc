// Conversions between the `pulumirpc.Analyzer` protobuf messages and the plain JavaScript the tests use.
// Requests are built the way the engine builds them in
// https://github.com/pulumi/pulumi/blob/master/sdk/go/common/resource/plugin/analyzer_plugin.go
import * as analyzerPb from "@pulumi/pulumi/proto/analyzer_pb";
import { JavaScriptValue, Struct } from "google-protobuf/google/protobuf/struct_pb";

import { StackResource } from "./stackResource";

export type EnforcementLevel = "advisory" | "mandatory" | "disabled" | "remediate";
export type PolicySeverity = "low" | "medium" | "high" | "critical";

/** A JSON schema object, as a policy's `configSchema` describes its config. */
export type JsonSchema = Record<string, unknown>;

export interface PolicyComplianceFramework {
    name: string;
    version: string;
    reference: string;
    specification: string;
}

/** One policy as `GetAnalyzerInfo` describes it. Absent strings decode as "", as protobuf defines them. */
export interface PolicyInfo {
    name: string;
    displayName: string;
    description: string;
    message: string;
    enforcementLevel: EnforcementLevel;
    policyType: "resource" | "stack" | "unknown";
    /** `{type: "object", properties, required?}`, ready for a JSON-schema validator; absent without a schema. */
    configSchema?: JsonSchema;
    severity?: PolicySeverity;
    framework?: PolicyComplianceFramework;
    remediationSteps: string;
    url: string;
    tags: string[];
}

export interface PolicyConfigEntry {
    enforcementLevel: EnforcementLevel;
    properties: Record<string, unknown>;
}

export interface AnalyzerInfo {
    name: string;
    displayName: string;
    version: string;
    description: string;
    supportsConfig: boolean;
    policies: PolicyInfo[];
    /** Config the pack supplies for itself (`new PolicyPack(name, args, initialConfig)`). */
    initialConfig: Record<string, PolicyConfigEntry>;
}

/** A policy violation as the pack reports it. */
export interface Diagnostic {
    policyName: string;
    policyPackName: string;
    policyPackVersion: string;
    description: string;
    message: string;
    enforcementLevel: EnforcementLevel;
    /** The resource the violation is about, when the policy named one. */
    urn?: string;
    severity?: PolicySeverity;
}

const enforcementLevelNames: Record<analyzerPb.EnforcementLevel, EnforcementLevel> = {
    [analyzerPb.EnforcementLevel.ADVISORY]: "advisory",
    [analyzerPb.EnforcementLevel.MANDATORY]: "mandatory",
    [analyzerPb.EnforcementLevel.DISABLED]: "disabled",
    [analyzerPb.EnforcementLevel.REMEDIATE]: "remediate",
};

const severityNames: Partial<Record<analyzerPb.PolicySeverity, PolicySeverity>> = {
    [analyzerPb.PolicySeverity.POLICY_SEVERITY_LOW]: "low",
    [analyzerPb.PolicySeverity.POLICY_SEVERITY_MEDIUM]: "medium",
    [analyzerPb.PolicySeverity.POLICY_SEVERITY_HIGH]: "high",
    [analyzerPb.PolicySeverity.POLICY_SEVERITY_CRITICAL]: "critical",
};

const policyTypeNames: Record<analyzerPb.PolicyType, PolicyInfo["policyType"]> = {
    [analyzerPb.PolicyType.POLICY_TYPE_UNKNOWN]: "unknown",
    [analyzerPb.PolicyType.POLICY_TYPE_RESOURCE]: "resource",
    [analyzerPb.PolicyType.POLICY_TYPE_STACK]: "stack",
};

export function decodeEnforcementLevel(level: analyzerPb.EnforcementLevel): EnforcementLevel {
    const name = enforcementLevelNames[level];
    if (name === undefined) {
        throw new Error(`invalid enforcement level ${level}`);
    }
    return name;
}

export function encodeEnforcementLevel(level: EnforcementLevel): analyzerPb.EnforcementLevel {
    switch (level) {
        case "advisory":
            return analyzerPb.EnforcementLevel.ADVISORY;
        case "mandatory":
            return analyzerPb.EnforcementLevel.MANDATORY;
        case "disabled":
            return analyzerPb.EnforcementLevel.DISABLED;
        case "remediate":
            return analyzerPb.EnforcementLevel.REMEDIATE;
    }
}

/**
 * Encodes a property bag as a protobuf Struct. The bag is already in the engine's wire encoding (unknown
 * sentinels, secret envelopes), so it only needs `undefined` dropped: the engine has no such value, and
 * `Struct.fromJavaScript` throws on it.
 */
export function encodeProperties(properties: Record<string, unknown>): Struct {
    const plain = JSON.parse(JSON.stringify(properties)) as Record<string, JavaScriptValue>;
    return Struct.fromJavaScript(plain);
}

export function decodeAnalyzerInfo(info: analyzerPb.AnalyzerInfo): AnalyzerInfo {
    const initialConfig: Record<string, PolicyConfigEntry> = {};
    info.getInitialconfigMap().forEach((entry, policyName) => {
        initialConfig[policyName] = {
            enforcementLevel: decodeEnforcementLevel(entry.getEnforcementlevel()),
            properties: entry.getProperties()?.toJavaScript() ?? {},
        };
    });
    return {
        name: info.getName(),
        displayName: info.getDisplayname(),
        version: info.getVersion(),
        description: info.getDescription(),
        supportsConfig: info.getSupportsconfig(),
        policies: info.getPoliciesList().map(decodePolicyInfo),
        initialConfig,
    };
}

function decodePolicyInfo(policy: analyzerPb.PolicyInfo): PolicyInfo {
    const decoded: PolicyInfo = {
        name: policy.getName(),
        displayName: policy.getDisplayname(),
        description: policy.getDescription(),
        message: policy.getMessage(),
        enforcementLevel: decodeEnforcementLevel(policy.getEnforcementlevel()),
        policyType: policyTypeNames[policy.getPolicyType()] ?? "unknown",
        remediationSteps: policy.getRemediationSteps(),
        url: policy.getUrl(),
        tags: policy.getTagsList(),
    };
    const schema = policy.getConfigschema();
    if (schema !== undefined) {
        // The SDK sends only `properties` and `required`; the engine wraps them in an object schema.
        decoded.configSchema = { type: "object", properties: schema.getProperties()?.toJavaScript() ?? {} };
        if (schema.getRequiredList().length > 0) {
            decoded.configSchema.required = schema.getRequiredList();
        }
    }
    const severity = severityNames[policy.getSeverity()];
    if (severity !== undefined) {
        decoded.severity = severity;
    }
    const framework = policy.getFramework();
    if (framework !== undefined) {
        decoded.framework = {
            name: framework.getName(),
            version: framework.getVersion(),
            reference: framework.getReference(),
            specification: framework.getSpecification(),
        };
    }
    return decoded;
}

export function decodeDiagnostics(response: analyzerPb.AnalyzeResponse): Diagnostic[] {
    return response.getDiagnosticsList().map((diagnostic) => {
        const decoded: Diagnostic = {
            policyName: diagnostic.getPolicyname(),
            policyPackName: diagnostic.getPolicypackname(),
            policyPackVersion: diagnostic.getPolicypackversion(),
            description: diagnostic.getDescription(),
            message: diagnostic.getMessage(),
            enforcementLevel: decodeEnforcementLevel(diagnostic.getEnforcementlevel()),
        };
        if (diagnostic.getUrn() !== "") {
            decoded.urn = diagnostic.getUrn();
        }
        const severity = severityNames[diagnostic.getSeverity()];
        if (severity !== undefined) {
            decoded.severity = severity;
        }
        return decoded;
    });
}

/** The `PolicyConfig` message the engine sends for one policy in `Configure`. */
export function encodePolicyConfig(entry: PolicyConfigEntry): analyzerPb.PolicyConfig {
    return new analyzerPb.PolicyConfig()
        .setEnforcementlevel(encodeEnforcementLevel(entry.enforcementLevel))
        .setProperties(encodeProperties(entry.properties));
}

/** `Analyze` sees a resource's inputs: what the program asked for, before any provider ran. */
export function encodeAnalyzeRequest(resource: StackResource, knownResources: StackResource[] = []): analyzerPb.AnalyzeRequest {
    const request = new analyzerPb.AnalyzeRequest()
        .setUrn(resource.urn)
        .setType(resource.type)
        .setName(resource.name)
        .setProperties(encodeProperties(resource.inputs))
        .setOptions(encodeResourceOptions(resource));
    const provider = encodeProvider(resource.provider, knownResources);
    if (provider !== undefined) {
        request.setProvider(provider);
    }
    return request;
}

/** `AnalyzeStack` sees every resource's outputs, with the links the SDK resolves into resource objects. */
export function encodeAnalyzeStackRequest(resources: StackResource[]): analyzerPb.AnalyzeStackRequest {
    const encoded = resources.map((resource) => {
        const analyzerResource = new analyzerPb.AnalyzerResource()
            .setUrn(resource.urn)
            .setType(resource.type)
            .setName(resource.name)
            .setProperties(encodeProperties(resource.outputs))
            .setOptions(encodeResourceOptions(resource))
            .setParent(resource.parent ?? "")
            .setDependenciesList(resource.dependencies ?? []);
        const propertyDependencies = analyzerResource.getPropertydependenciesMap();
        for (const [property, urns] of Object.entries(resource.propertyDependencies ?? {})) {
            // The engine leaves out properties without dependencies.
            if (urns.length > 0) {
                propertyDependencies.set(property, new analyzerPb.AnalyzerPropertyDependencies().setUrnsList(urns));
            }
        }
        const provider = encodeProvider(resource.provider, resources);
        if (provider !== undefined) {
            analyzerResource.setProvider(provider);
        }
        return analyzerResource;
    });
    return new analyzerPb.AnalyzeStackRequest().setResourcesList(encoded);
}

/**
 * Options are always set: the SDK refuses a request without them ("A more recent version of the Pulumi CLI
 * is required"), and the engine always sends custom timeouts, zero when unset.
 */
function encodeResourceOptions(resource: StackResource): analyzerPb.AnalyzerResourceOptions {
    return new analyzerPb.AnalyzerResourceOptions()
        .setProtect(false)
        .setIgnorechangesList([])
        .setDeletebeforereplace(false)
        .setDeletebeforereplacedefined(false)
        .setAdditionalsecretoutputsList([])
        .setAliasesList([])
        .setCustomtimeouts(new analyzerPb.AnalyzerResourceOptions.CustomTimeouts().setCreate(0).setUpdate(0).setDelete(0))
        .setParent(resource.parent ?? "");
}

/**
 * `provider` is a provider reference (`<urn>::<id>`) or a bare URN. The engine sends the provider's own
 * type, name and properties; they come from the provider resource when it is among `knownResources`,
 * otherwise type and name are read from the URN and the properties are empty.
 */
function encodeProvider(provider: string | undefined, knownResources: StackResource[]): analyzerPb.AnalyzerProviderResource | undefined {
    if (provider === undefined || provider === "") {
        return undefined;
    }
    const urn = provider.split("::").slice(0, 4).join("::");
    const known = knownResources.find((resource) => resource.urn === urn);
    const { type, name } = known ?? typeAndNameOfUrn(urn);
    return new analyzerPb.AnalyzerProviderResource()
        .setUrn(urn)
        .setType(type)
        .setName(name)
        .setProperties(encodeProperties(known?.outputs ?? {}));
}

/**
 * The type and name a URN (`urn:pulumi:<stack>::<project>::<qualified type>::<name>`) names. A qualified
 * type lists parent types before the resource's own, joined by `$`.
 */
export function typeAndNameOfUrn(urn: string): { type: string; name: string } {
    const parts = urn.split("::");
    if (parts.length < 4) {
        return { type: "", name: urn };
    }
    const qualifiedType = parts[2];
    return { type: qualifiedType.slice(qualifiedType.lastIndexOf("$") + 1), name: parts.slice(3).join("::") };
}
