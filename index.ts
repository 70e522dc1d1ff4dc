import { PolicyPack } from "@pulumi/policy";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { conditionalAccessMfaEnforced } from "./policies/conditionalAccessMfaEnforced";
import { nodeHeap } from "./policies/graph/idleCollection";
import { graphMfaEvidence } from "./policies/graph/mfaEvidence";
import { graphRootFor, nonPrivilegedUserMfa } from "./policies/nonPrivilegedUserMfa";
import { reportFrom } from "./policies/report/buildReport";
import { wantsReports, writeReports } from "./policies/report/reportFiles";
import { builtInRoleCatalog } from "./policies/roles/catalog";
import { privilegedAssignmentMfaCoverage } from "./policies/privilegedAssignmentMfaCoverage";
import { privilegedUserMfa } from "./policies/privilegedUserMfa";
import { EvidencePrefetch } from "./policies/evidence/prefetch";
import { PolicyDependencies, StackEvaluator } from "./policies/evidence/stackEvaluation";
import { unverifiedUsers } from "./policies/unverifiedUsers";

// bin/index.js -> the pack's package.json, as the SDK itself reads its version.
const { version } = JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as { version: string };
const summary = {};
/** Report-file problems already printed: the files are rewritten as each rule completes, a problem is said once. */
const reportErrorsSaid = new Set<string>();
const dependencies: PolicyDependencies = {
    evidence: graphMfaEvidence(),
    catalog: builtInRoleCatalog,
    now: () => new Date(),
    env: process.env,
    analyzeTimeSettings: {},
    heap: nodeHeap,
    // CI report files (ENTRA_MFA_GUARD_REPORT, GITHUB_STEP_SUMMARY), rewritten as each rule completes.
    onEvaluated: async (results) => {
        // Building the report costs time and memory in proportion to the users: only when a file is wanted.
        if (!wantsReports(process.env)) return;
        const report = reportFrom(results, { version, graphBaseUrl: graphRootFor(process.env, results[0]?.config.cloud), env: process.env, now: new Date() });
        const outcome = await writeReports(report, process.env, { policies, summary });
        // stdout lines after the port line reach `pulumi preview` as info diagnostics.
        for (const error of outcome.errors.filter((e) => !reportErrorsSaid.has(e))) {
            reportErrorsSaid.add(error);
            console.log(`entra-mfa-guard: ${error}`);
        }
    },
};
// Graph evidence is gathered while the engine sends Analyze calls, long before AnalyzeStack.
dependencies.prefetch = new EvidencePrefetch(dependencies);
const evaluator = new StackEvaluator(dependencies);

// Order matters: the non-privileged policy owns the settings the others reuse.
const policies = [
    nonPrivilegedUserMfa(dependencies, evaluator),
    privilegedUserMfa(dependencies, evaluator),
    unverifiedUsers(evaluator, dependencies.analyzeTimeSettings),
    conditionalAccessMfaEnforced(),
    privilegedAssignmentMfaCoverage(dependencies),
];

new PolicyPack("entra-mfa-guard", {
    description: "Microsoft Entra ID users must have multi-factor authentication: those without a privileged role, and those with one.",
    policies,
});
