import { PolicyPack } from "@pulumi/policy";
import { graphMfaEvidence } from "./policies/graph/mfaEvidence";
import { nonPrivilegedUserMfa } from "./policies/nonPrivilegedUserMfa";
import { builtInRoleCatalog } from "./policies/roles/catalog";
import { PolicyDependencies, StackEvaluator } from "./policies/stackEvaluation";
import { unverifiedUsers } from "./policies/unverifiedUsers";

const dependencies: PolicyDependencies = {
    evidence: graphMfaEvidence(),
    catalog: builtInRoleCatalog,
    now: () => new Date(),
    env: process.env,
};
const evaluator = new StackEvaluator(dependencies);

new PolicyPack("entra-mfa-guard", {
    description: "Microsoft Entra ID users without a privileged role must have multi-factor authentication.",
    policies: [nonPrivilegedUserMfa(dependencies, evaluator), unverifiedUsers(evaluator)],
});
