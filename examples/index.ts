// A small identity stack: the one `npm run demo` previews, under Pulumi's mocks, with domain
// contoso.onmicrosoft.com. Try the pack against your tenant:
//   cd examples && npm install && pulumi stack init dev
//   pulumi config set domain <your verified domain>
//   pulumi config set azure-native:subscriptionId <subscription id>
//   pulumi preview --policy-pack .. --policy-pack-config policy-config.json
// policy-config.json and advisory.json exempt breakglass@contoso.onmicrosoft.com: put your domain there too.
import * as pulumi from "@pulumi/pulumi";
import * as azuread from "@pulumi/azuread";
import * as authorization from "@pulumi/azure-native/authorization";
import * as random from "@pulumi/random";

const config = new pulumi.Config();
const domain = config.require("domain");
const subscriptionScope = pulumi.interpolate`/subscriptions/${authorization.getClientConfigOutput().subscriptionId}`;

/** Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles). */
const roles = {
    owner: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
    reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
    dataLakeAnalyticsDeveloper: "47b7735b-770e-4598-a7da-8b91488b4c88",
};
const globalReaderTemplateId = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";

function person(name: string, displayName: string): azuread.User {
    // Generated once and kept in the stack's state, so later previews show no password diff.
    const initialPassword = new random.RandomPassword(`${name}-initial-password`, { length: 24, special: true, minNumeric: 1, minUpper: 1, minLower: 1 });
    return new azuread.User(name, {
        userPrincipalName: `${name}@${domain}`,
        displayName,
        password: initialPassword.result,
        forcePasswordChange: true,
    });
}

function azureRole(name: string, principalId: pulumi.Input<string>, roleGuid: string, principalType: "User" | "Group" = "User") {
    return new authorization.RoleAssignment(name, {
        principalId,
        principalType,
        roleDefinitionId: pulumi.interpolate`${subscriptionScope}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
        scope: subscriptionScope,
    });
}

const alice = person("alice", "Alice (platform owner)");
const bob = person("bob", "Bob (developer)");
const carol = person("carol", "Carol (analyst)");
const dave = person("dave", "Dave (data engineer)");
const erin = person("erin", "Erin (support)");
const frank = person("frank", "Frank (new hire)");
// Exempted by name in the policy config: an emergency-access account must not depend on MFA.
person("breakglass", "Break-glass account");

const dataReaders = new azuread.Group("data-readers", { displayName: "data-readers", securityEnabled: true, members: [dave.objectId] });

azureRole("alice-owner", alice.objectId, roles.owner);
azureRole("bob-contributor", bob.objectId, roles.contributor);
azureRole("carol-reader", carol.objectId, roles.reader);
azureRole("data-readers-lake", dataReaders.objectId, roles.dataLakeAnalyticsDeveloper, "Group");
azureRole("frank-reader", frank.objectId, roles.reader);
// An existing account this stack does not create: the pack asks Graph about it by object id.
const auditorObjectId = config.get("auditorObjectId");
if (auditorObjectId) azureRole("auditor-reader", auditorObjectId, roles.reader);

new azuread.DirectoryRoleAssignment("erin-global-reader", { roleId: globalReaderTemplateId, principalObjectId: erin.objectId });
