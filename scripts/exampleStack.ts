import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest, RegisterResourceResponse } from "@pulumi/pulumi/proto/resource_pb";
import { StackResource } from "../test/harness";

/** What a provider adds to a resource's inputs, and what its functions return, in place of the cloud. */
export interface ProviderStandIn {
    /**
     * The outputs a provider would report beside the inputs. During a preview, an output of a resource
     * that does not exist yet is the engine's unknown sentinel (`UNKNOWN`), as providers preview it.
     */
    outputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown>;
    /** The result of a provider function such as `azure-native:authorization:getClientConfig`. */
    invoke(token: string, inputs: Record<string, unknown>): Record<string, unknown>;
}

export interface ProgramRun {
    /** A Pulumi program's entry file (TypeScript, run without type-checking: its tests type-check it). */
    program: string;
    project: string;
    stack: string;
    /** Stack config as `project:key` -> value. */
    config: Record<string, string>;
    providers: ProviderStandIn;
}

/**
 * Runs a Pulumi program under `pulumi.runtime.setMocks`, as a `pulumi preview` of it would run, and
 * returns its resources as the engine hands them to a policy pack: the stack, then each resource in
 * registration order with its inputs as the program sent them (unknowns and secrets in the wire
 * encoding), its outputs, parent, dependencies and property dependencies. Runs once per process:
 * the Pulumi runtime it configures is global.
 */
export async function stackOfProgram(run: ProgramRun): Promise<StackResource[]> {
    const stackResource: StackResource = {
        urn: `urn:pulumi:${run.stack}::${run.project}::pulumi:pulumi:Stack::${run.project}-${run.stack}`,
        type: "pulumi:pulumi:Stack",
        name: `${run.project}-${run.stack}`,
        inputs: {},
        outputs: {},
    };
    await pulumi.runtime.setMocks(
        {
            newResource: ({ type, name, inputs }) => {
                const outputs = run.providers.outputs(type, name, inputs);
                return { id: typeof outputs.id === "string" ? outputs.id : undefined, state: { ...inputs, ...outputs } };
            },
            call: ({ token, inputs }) => run.providers.invoke(token, inputs),
        },
        run.project,
        run.stack,
        true,
    );
    pulumi.runtime.setAllConfig(run.config);

    // The mocks hand `newResource` deserialized inputs, without the request's dependencies; the
    // monitor sees the request as the engine would, so it is recorded there.
    const resources: StackResource[] = [stackResource];
    const monitor = pulumi.runtime.getMonitor() as unknown as {
        registerResource(request: RegisterResourceRequest, callback: (error: unknown, response?: RegisterResourceResponse) => void): Promise<void>;
    };
    const registerResource = monitor.registerResource.bind(monitor);
    monitor.registerResource = (request, callback) =>
        registerResource(request, (error, response) => {
            if (response) resources.push(recorded(request, response, stackResource.urn));
            callback(error, response);
        });

    // The example is TypeScript; ts-node transpiles it on require (no type-check: the example's test does that).
    (require("ts-node") as typeof import("ts-node")).register({ transpileOnly: true, project: path.join(path.dirname(run.program), "tsconfig.json") });
    require(run.program);
    await pulumi.runtime.disconnect();
    return resources;
}

function recorded(request: RegisterResourceRequest, response: RegisterResourceResponse, stackUrn: string): StackResource {
    const propertyDependencies: Record<string, string[]> = {};
    request.getPropertydependenciesMap().forEach((dependencies, property) => {
        propertyDependencies[property] = dependencies.getUrnsList();
    });
    const inputs = (request.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
    return {
        urn: response.getUrn(),
        type: request.getType(),
        name: request.getName(),
        inputs,
        outputs: { ...inputs, ...((response.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>) },
        parent: request.getParent() || stackUrn,
        dependencies: request.getDependenciesList(),
        propertyDependencies,
    };
}
