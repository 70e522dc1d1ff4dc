"use strict";
// The SDK decodes every resource's properties once per stack policy before calling it
// (makeAnalyzeStackRpcFun in @pulumi/policy's server.js), so the floor needs as many stack
// policies as the pack it is compared with; the benchmark passes that count.
const { PolicyPack } = require("@pulumi/policy");

const stackPolicies = Number(process.env.SDK_FLOOR_STACK_POLICIES ?? "1");

new PolicyPack("sdk-floor-pack", {
    policies: Array.from({ length: stackPolicies }, (_, index) => ({
        name: `no-op-stack-policy-${index + 1}`,
        description: "Reads nothing and reports nothing.",
        enforcementLevel: "advisory",
        validateStack: () => {},
    })),
});
