"use strict";
// Plain JavaScript on purpose: with no TypeScript to type-check, this pack's start time is the floor
// that `run-policy-pack` itself costs, which the benchmarks compare our pack against.
const { PolicyPack } = require("@pulumi/policy");

new PolicyPack("bare-pack", {
    policies: [
        {
            name: "flagged-resource",
            displayName: "Flagged resource",
            description: "Flags every resource of type test:index:Flagged.",
            enforcementLevel: "advisory",
            severity: "low",
            framework: {
                name: "harness",
                version: "1.0",
                reference: "HARNESS-1",
                specification: "Resources of type test:index:Flagged are reported.",
            },
            remediationSteps: "Use another resource type.",
            url: "https://www.pulumi.com/docs/iac/using-pulumi/crossguard/",
            tags: ["harness", "resource"],
            configSchema: {
                properties: {
                    reason: { type: "string", default: "flagged by default" },
                    // No default, so the engine must leave it out unless the user sets it.
                    suffix: { type: "string" },
                },
            },
            validateResource: (args, reportViolation) => {
                if (args.type !== "test:index:Flagged") {
                    return;
                }
                const { reason, suffix } = args.getConfig();
                // Echoing `labels` lets tests check that nested objects and arrays survive the wire.
                const labels = JSON.stringify(args.props.labels === undefined ? null : args.props.labels);
                reportViolation(`${args.name}: ${reason}${suffix === undefined ? "" : suffix}; labels=${labels}`);
            },
        },
        {
            name: "secret-length",
            description: "Reports how long a resource's password is, never the password itself.",
            enforcementLevel: "mandatory",
            severity: "high",
            validateResource: (args, reportViolation) => {
                const password = args.props.password;
                if (password === undefined) {
                    return;
                }
                reportViolation(`password has ${String(password).length} characters`);
            },
        },
        {
            name: "dependency-report",
            description: "Reports each resource's parent and the resources its properties came from.",
            enforcementLevel: "advisory",
            validateStack: (args, reportViolation) => {
                for (const resource of args.resources) {
                    if (resource.parent) {
                        reportViolation(`${resource.name} is a child of ${resource.parent.name}`, resource.urn);
                    }
                    for (const [property, sources] of Object.entries(resource.propertyDependencies)) {
                        // Reading an output of the source proves AnalyzeStack saw outputs, not inputs.
                        const described = sources.map((source) => `${source.name} (objectId ${source.props.objectId})`);
                        reportViolation(`${resource.name}.${property} <- ${described.join(", ")}`, resource.urn);
                    }
                }
            },
        },
    ],
});
