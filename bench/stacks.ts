// The stacks the benchmark previews, built with the provider-shaped fixtures the scenario tests use.
import { EmulatedUser } from "../test/emulator/graphEmulator";
import {
    AZURE_ROLE,
    classicAssignment,
    directoryRoleAssignment,
    ENTRA_ROLE_TEMPLATE,
    provider,
    roleAssignment,
    stack,
    storageAccount,
    user,
} from "../test/fixtures/resources";
import { StackResource } from "../test/harness";
import { tenantUser } from "../test/policies/packUnderTest";

/** A stack, the tenant behind it, and the verdicts a correct pack must reach on it. */
export interface BenchStack {
    resources: StackResource[];
    tenantUsers: EmulatedUser[];
    /** Object ids of the users without a privileged role, and of those with one. */
    nonPrivilegedIds: string[];
    privilegedIds: string[];
    /** Users whose per-user MFA is disabled: one mandatory violation each from the policy of their rule. */
    disabledNonPrivileged: number;
    disabledPrivileged: number;
}

type RoleGrant = (name: string, principal: StackResource) => StackResource | undefined;

/**
 * Ten role patterns, cycled over the users: three privileged (30 %), seven not (70 %), across the
 * three providers that grant roles. Users without a resource granting them a role still count:
 * the policy covers every user the stack manages.
 */
const ROLE_MIX: readonly { privileged: boolean; grant: RoleGrant }[] = [
    { privileged: true, grant: (name, principal) => roleAssignment({ name, principal, role: AZURE_ROLE.Owner }) },
    { privileged: true, grant: (name, principal) => classicAssignment({ name, principal, roleDefinitionName: "Contributor" }) },
    {
        privileged: true,
        grant: (name, principal) => directoryRoleAssignment({ name, principal, roleId: ENTRA_ROLE_TEMPLATE["Global Administrator"] }),
    },
    { privileged: false, grant: (name, principal) => roleAssignment({ name, principal, role: AZURE_ROLE.Reader }) },
    { privileged: false, grant: (name, principal) => roleAssignment({ name, principal, role: AZURE_ROLE["Data Lake Analytics Developer"] }) },
    {
        privileged: false,
        grant: (name, principal) => directoryRoleAssignment({ name, principal, roleId: ENTRA_ROLE_TEMPLATE["Global Reader"] }),
    },
    { privileged: false, grant: () => undefined },
    { privileged: false, grant: () => undefined },
    { privileged: false, grant: () => undefined },
    { privileged: false, grant: () => undefined },
];

const MFA_STATES = ["disabled", "enabled", "enforced"] as const;

/**
 * The engine registers the stack and the default providers before anything else, so they lead the
 * list (the harness also finds each resource's provider by scanning from the front).
 */
function stackHead(): StackResource[] {
    return [stack(), provider("azuread"), provider("azure-native"), provider("azure")];
}

/** `userCount` existing users with mixed roles (70 % non-privileged) and per-user MFA states disabled, enabled, enforced in turn. */
export function mixedRoleStack(userCount: number): BenchStack {
    const resources = stackHead();
    const built: BenchStack = { resources, tenantUsers: [], nonPrivilegedIds: [], privilegedIds: [], disabledNonPrivileged: 0, disabledPrivileged: 0 };
    for (let index = 0; index < userCount; index++) {
        const name = `user${index}`;
        const pattern = ROLE_MIX[index % ROLE_MIX.length];
        // Divided first so the MFA states do not line up with the role patterns.
        const state = MFA_STATES[Math.floor(index / ROLE_MIX.length) % MFA_STATES.length];
        const member = user({ name });
        resources.push(member);
        const grant = pattern.grant(`${name}-role`, member);
        if (grant !== undefined) resources.push(grant);
        built.tenantUsers.push(tenantUser(member, state));
        (pattern.privileged ? built.privilegedIds : built.nonPrivilegedIds).push(String(member.outputs.objectId));
        if (state === "disabled") {
            if (pattern.privileged) built.disabledPrivileged++;
            else built.disabledNonPrivileged++;
        }
    }
    return built;
}

/**
 * About `resourceCount` resources that need no Graph call: a fifth users with sign-in disabled
 * (out of scope of both MFA rules while `includeDisabledAccounts` is off, yet inventoried and
 * classified), a fifth their Owner assignments, the rest storage accounts the pack must skip.
 */
export function inventoryOnlyStack(resourceCount: number): StackResource[] {
    const resources = stackHead();
    const ownerCount = Math.floor(resourceCount / 5);
    for (let index = 0; index < ownerCount; index++) {
        const owner = user({ name: `owner${index}`, accountEnabled: false });
        resources.push(owner, roleAssignment({ name: `owner${index}-role`, principal: owner, role: AZURE_ROLE.Owner }));
    }
    for (let index = 0; resources.length < resourceCount; index++) {
        resources.push(storageAccount({ name: `data${index}` }));
    }
    return resources;
}
