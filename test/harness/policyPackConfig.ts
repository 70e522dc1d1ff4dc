// The engine's handling of `--policy-pack-config`, so that `Configure` receives exactly what the CLI would
// send: https://github.com/pulumi/pulumi/blob/master/pkg/resource/analyzer/config.go
// (parsePolicyPackConfig, ReconcilePolicyPackConfig) and its caller installAndLoadPolicyPlugins in
// pkg/engine/update.go.
import Ajv from "ajv";

import { AnalyzerInfo, EnforcementLevel, PolicyConfigEntry } from "./analyzerWire";

/**
 * The JSON of a `--policy-pack-config` file: per policy name (or `all`), either an enforcement level or
 * an object of config properties with an optional `enforcementLevel`.
 *
 * For example:
 * ```ts
 * const config: PolicyPackConfig = { all: "mandatory", "flagged-resource": { reason: "legacy type" } };
 * ```
 */
export type PolicyPackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

/** Policy name -> the enforcement level and properties `Configure` carries for it. */
export type ResolvedPolicyPackConfig = Record<string, PolicyConfigEntry>;

const enforcementLevels: ReadonlySet<string> = new Set<EnforcementLevel>(["advisory", "mandatory", "disabled", "remediate"]);

// gojsonschema, which the engine validates with, ignores keywords it does not know, so strict mode is off.
const ajv = new Ajv({ allErrors: true, strict: false });

/**
 * Builds the config the engine sends in `Configure`: every policy gets its default level and its schema's
 * top-level `default`s, then the pack's own initial config, then `all`, then the user's per-policy values;
 * the result is validated against each policy's `configSchema`.
 *
 * Throws, as `pulumi preview` fails, on a malformed config or a schema violation. Stricter than the engine
 * in one way: a key that names no policy of the pack is an error, so that a misspelt policy name in a test
 * fails loudly instead of configuring nothing.
 */
export function reconcilePolicyPackConfig(info: AnalyzerInfo, userConfig: PolicyPackConfig = {}): ResolvedPolicyPackConfig {
    const parsedUserConfig = parsePolicyPackConfig(userConfig);
    const policyNames = info.policies.map((policy) => policy.name);
    const unknownNames = Object.keys(parsedUserConfig).filter((name) => name !== "all" && !policyNames.includes(name));
    if (unknownNames.length > 0) {
        throw new Error(
            `policy pack config for "${info.name}" names ${unknownNames.map((name) => `"${name}"`).join(", ")}, ` +
                `which ${unknownNames.length === 1 ? "is not a policy" : "are not policies"} of the pack ` +
                `(its policies: ${policyNames.join(", ")})`,
        );
    }

    let resolved = configWithDefaults(info);
    resolved = applyConfig(resolved, info.initialConfig);
    resolved = applyConfig(resolved, parsedUserConfig);

    const validationErrors = info.policies.flatMap((policy) => {
        if (policy.configSchema === undefined) {
            return [];
        }
        const validate = ajv.compile(policy.configSchema);
        if (validate(resolved[policy.name].properties)) {
            return [];
        }
        return (validate.errors ?? []).map((error) => {
            const where = error.instancePath === "" ? "" : `${error.instancePath.slice(1).replace(/\//g, ".")}: `;
            return `validating policy config: ${info.name} ${info.version}  ${policy.name}: ${where}${error.message}`;
        });
    });
    if (validationErrors.length > 0) {
        throw new Error(`validating policy config\n${validationErrors.sort().join("\n")}`);
    }
    return resolved;
}

type ParsedPolicyConfig = { enforcementLevel?: EnforcementLevel; properties: Record<string, unknown> };

function parsePolicyPackConfig(config: PolicyPackConfig): Record<string, ParsedPolicyConfig> {
    const parsed: Record<string, ParsedPolicyConfig> = {};
    for (const [name, value] of Object.entries(config)) {
        if (typeof value === "string") {
            parsed[name] = { enforcementLevel: parseEnforcementLevel(name, value), properties: {} };
        } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
            const { enforcementLevel, ...properties } = value;
            parsed[name] = {
                enforcementLevel: enforcementLevel === undefined ? undefined : parseEnforcementLevel(name, enforcementLevel),
                properties,
            };
        } else {
            throw new Error(`parsing "${name}": ${JSON.stringify(value)} is not a valid value; must be a string or object`);
        }
    }
    return parsed;
}

function parseEnforcementLevel(policyName: string, level: unknown): EnforcementLevel {
    if (typeof level !== "string" || !enforcementLevels.has(level)) {
        throw new Error(`parsing enforcement level for "${policyName}": ${JSON.stringify(level)} is not a valid enforcement level`);
    }
    return level as EnforcementLevel;
}

function configWithDefaults(info: AnalyzerInfo): ResolvedPolicyPackConfig {
    const resolved: ResolvedPolicyPackConfig = {};
    for (const policy of info.policies) {
        const properties: Record<string, unknown> = {};
        const schemaProperties = (policy.configSchema?.properties ?? {}) as Record<string, { default?: unknown }>;
        for (const [property, schema] of Object.entries(schemaProperties)) {
            if (schema !== null && typeof schema === "object" && "default" in schema) {
                properties[property] = schema.default;
            }
        }
        resolved[policy.name] = { enforcementLevel: policy.enforcementLevel, properties };
    }
    return resolved;
}

/** `all` sets every policy's level first, so a policy's own level wins over it. */
function applyConfig(
    resolved: ResolvedPolicyPackConfig,
    config: Record<string, { enforcementLevel?: EnforcementLevel; properties: Record<string, unknown> }>,
): ResolvedPolicyPackConfig {
    const next: ResolvedPolicyPackConfig = {};
    const allLevel = config.all?.enforcementLevel;
    for (const [name, entry] of Object.entries(resolved)) {
        next[name] = { enforcementLevel: allLevel ?? entry.enforcementLevel, properties: { ...entry.properties } };
    }
    for (const [name, given] of Object.entries(config)) {
        const current = next[name];
        if (current === undefined) {
            continue;
        }
        next[name] = {
            enforcementLevel: given.enforcementLevel ?? current.enforcementLevel,
            properties: { ...current.properties, ...given.properties },
        };
    }
    return next;
}
