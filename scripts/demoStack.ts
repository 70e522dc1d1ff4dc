import { EmulatedUser } from "../test/emulator/graphEmulator";
import { EmulatedConditionalAccessPolicy } from "../test/emulator/conditionalAccess";
import { AZURE_ROLE, directoryRoleAssignment, ENTRA_ROLE_TEMPLATE, group, guidFrom, roleAssignment, stack, storageAccount, user } from "../test/fixtures/resources";
import { StackResource } from "../test/harness";

/**
 * The stack of `examples/index.ts` as `pulumi preview` sends it to the pack, and the sample tenant
 * the emulator serves for it. Kept in step with the example by hand: same names, same roles.
 */
export function demoStack(): {
    resources: StackResource[];
    tenant: EmulatedUser[];
    conditionalAccessPolicies: EmulatedConditionalAccessPolicy[];
    config: Record<string, unknown>;
} {
    const alice = user({ name: "alice", displayName: "Alice (platform owner)" });
    const bob = user({ name: "bob", displayName: "Bob (developer)" });
    const carol = user({ name: "carol", displayName: "Carol (analyst)" });
    const dave = user({ name: "dave", displayName: "Dave (data engineer)" });
    const erin = user({ name: "erin", displayName: "Erin (support)" });
    const breakGlass = user({ name: "breakglass", displayName: "Break-glass account" });
    const frank = user({ name: "frank", displayName: "Frank (new hire)", preview: true });
    const auditorId = guidFrom("user:external-auditor");
    const dataReaders = group({ name: "data-readers", members: [dave] });

    const resources = [
        stack({ preview: true }),
        alice, bob, carol, dave, erin, breakGlass, frank, dataReaders,
        roleAssignment({ name: "alice-owner", principal: alice, role: AZURE_ROLE.Owner }),
        roleAssignment({ name: "bob-contributor", principal: bob, role: AZURE_ROLE.Contributor }),
        roleAssignment({ name: "carol-reader", principal: carol, role: AZURE_ROLE.Reader }),
        roleAssignment({ name: "data-readers-lake", principal: dataReaders, principalType: "Group", role: AZURE_ROLE["Data Lake Analytics Developer"] }),
        roleAssignment({ name: "frank-reader", principal: frank, role: AZURE_ROLE.Reader, preview: true }),
        roleAssignment({ name: "auditor-reader", principal: auditorId, role: AZURE_ROLE.Reader }),
        directoryRoleAssignment({ name: "erin-global-reader", principal: erin, roleId: ENTRA_ROLE_TEMPLATE["Global Reader"] }),
        storageAccount({ name: "logs" }),
    ];

    const state = (resource: StackResource, perUserMfaState: string | null): EmulatedUser => ({
        id: String(resource.outputs.objectId),
        userPrincipalName: String(resource.outputs.userPrincipalName),
        perUserMfaState,
    });
    const tenant = [
        state(alice, "disabled"),
        state(bob, "disabled"),
        state(carol, "disabled"),
        state(dave, "enforced"),
        state(erin, null),
        state(breakGlass, "disabled"),
        { id: auditorId, userPrincipalName: "auditor@contoso.onmicrosoft.com", perUserMfaState: "enabled" },
    ];
    // The sample tenant's Conditional Access: MFA for everyone is still report-only; admins are
    // covered by an enabled policy on the Owner's account (bob is not in it).
    const conditionalAccessPolicies: EmulatedConditionalAccessPolicy[] = [
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
            conditions: { users: { includeUsers: [String(alice.outputs.objectId)] }, applications: { includeApplications: ["All"] } },
            grantControls: { operator: "OR", builtInControls: ["mfa"] },
        },
    ];
    const config = {
        "entra-non-privileged-user-mfa": {
            exemptions: [{ user: "breakglass@contoso.onmicrosoft.com", reason: "Emergency access account, excluded by policy", expires: "2099-12-31" }],
        },
    };
    return { resources, tenant, conditionalAccessPolicies, config };
}
