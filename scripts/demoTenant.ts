import { EmulatedConditionalAccessPolicy } from "../test/emulator/conditionalAccess";
import { EmulatedUser } from "../test/emulator/graphEmulator";
import { guidFrom, SUBSCRIPTION_ID, TENANT_ID } from "../test/fixtures/resources";
import { UNKNOWN } from "../test/harness";
import { ProviderStandIn } from "./exampleStack";

/**
 * The sample tenant `npm run demo` previews examples/index.ts against: the stack is deployed, and
 * the program now adds frank. The domain is the one the example's policy configs exempt the
 * break-glass account in.
 */
export const DEMO_DOMAIN = "contoso.onmicrosoft.com";
export const DEMO_PROJECT = "entra-mfa-guard-example";
export const DEMO_STACK = "dev";

const objectIdOf = (name: string) => guidFrom(`user:${name}`);
const AUDITOR_OBJECT_ID = guidFrom("user:external-auditor");
/** Resources named after these users (the user, its password, its role assignment) are new in this preview. */
const NEW_IN_THIS_PREVIEW = ["frank"];

export const demoStackConfig: Record<string, string> = {
    [`${DEMO_PROJECT}:domain`]: DEMO_DOMAIN,
    [`${DEMO_PROJECT}:auditorObjectId`]: AUDITOR_OBJECT_ID,
};

/** Per-user MFA state of the example's users in the tenant; frank is not there yet. */
const perUserMfaState: Record<string, string | null> = {
    alice: "disabled",
    bob: "disabled",
    carol: "disabled",
    dave: "enforced",
    erin: null,
    breakglass: "disabled",
};

export const demoTenantUsers: EmulatedUser[] = [
    ...Object.entries(perUserMfaState).map(([name, state]) => ({ id: objectIdOf(name), userPrincipalName: `${name}@${DEMO_DOMAIN}`, perUserMfaState: state })),
    // An account the stack does not create, given a role by object id.
    { id: AUDITOR_OBJECT_ID, userPrincipalName: `auditor@${DEMO_DOMAIN}`, perUserMfaState: "enabled" },
];

// MFA for everyone is still report-only; an enabled policy covers the platform owner (not bob).
export const demoConditionalAccessPolicies: EmulatedConditionalAccessPolicy[] = [
    {
        id: guidFrom("ca:all-users"),
        displayName: "Require MFA for all users",
        state: "enabledForReportingButNotEnforced",
        conditions: { users: { includeUsers: ["All"] }, applications: { includeApplications: ["All"] } },
        grantControls: { operator: "OR", builtInControls: ["mfa"] },
    },
    {
        id: guidFrom("ca:platform-owners"),
        displayName: "Require MFA for platform owners",
        state: "enabled",
        conditions: { users: { includeUsers: [objectIdOf("alice")] }, applications: { includeApplications: ["All"] } },
        grantControls: { operator: "OR", builtInControls: ["mfa"] },
    },
];

/** What the azuread, azure-native and random providers would report for the example's resources in this tenant. */
export const demoProviders: ProviderStandIn = {
    outputs(type, name, inputs) {
        const isNew = NEW_IN_THIS_PREVIEW.some((user) => name === user || name.startsWith(`${user}-`));
        const known = (value: unknown) => (isNew ? UNKNOWN : value);
        switch (type) {
            case "azuread:index/user:User":
                return { id: known(objectIdOf(name)), objectId: known(objectIdOf(name)), userType: known("Member"), accountEnabled: inputs.accountEnabled ?? true };
            case "azuread:index/group:Group":
                return { id: known(guidFrom(`group:${name}`)), objectId: known(guidFrom(`group:${name}`)) };
            case "azuread:index/directoryRoleAssignment:DirectoryRoleAssignment":
                return { id: known(`${guidFrom(`dra:${name}`)}-1`), directoryScopeId: inputs.directoryScopeId ?? "/" };
            case "random:index/randomPassword:RandomPassword":
                // Stands in for the generated value; it only has to be a string the provider would accept.
                return { id: known("none"), result: known(`Demo-${guidFrom(`password:${name}`)}`) };
            default:
                return { id: known(`${String(inputs.scope ?? "")}/providers/Microsoft.Authorization/roleAssignments/${guidFrom(`roleAssignment:${name}`)}`) };
        }
    },
    invoke(token) {
        if (token === "azure-native:authorization:getClientConfig") {
            return { clientId: guidFrom("deployer-app"), objectId: guidFrom("deployer"), subscriptionId: SUBSCRIPTION_ID, tenantId: TENANT_ID };
        }
        throw new Error(`the demo has no stand-in for ${token}`);
    },
};
