import * as assert from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";

import {
    buildRoleCatalog,
    CATALOG_COMMENT,
    RoleCatalog,
    RoleCatalogInputError,
    serializeRoleCatalog,
} from "../../scripts/generateRoleCatalog";

const execFileAsync = promisify(execFile);

// Compiled to bin/test/scripts/, so the repository root is three levels up.
const repositoryRoot = path.resolve(__dirname, "../../..");
const committedCatalogPath = path.join(repositoryRoot, "policies/roles/builtInRoles.json");
const compiledScriptPath = path.join(repositoryRoot, "bin/scripts/generateRoleCatalog.js");

const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const READER_GUID = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const OWNER_GUID = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const CUSTOM_ROLE_GUID = "11111111-2222-3333-4444-555555555555";
const GLOBAL_ADMINISTRATOR_ID = "62e90394-69f5-4237-9190-012177145e10";
const GLOBAL_READER_ID = "f2ef992c-3afb-46b9-b7cf-a126ee74c451";
const CUSTOM_DIRECTORY_ROLE_ID = "66666666-7777-8888-9999-aaaaaaaaaaaa";
const DATE = "2026-04-09";

/** One entry as printed by `az role definition list --output json`. */
function azureDefinition(guid: string, roleName: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        id: `/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
        name: guid,
        roleName,
        roleType: "BuiltInRole",
        type: "Microsoft.Authorization/roleDefinitions",
        ...overrides,
    };
}

/** One entry of Graph beta roleManagement/directory/roleDefinitions. */
function entraDefinition(
    templateId: string,
    displayName: string,
    overrides: Record<string, unknown> = {},
): Record<string, unknown> {
    return { id: templateId, templateId, displayName, isBuiltIn: true, isPrivileged: false, ...overrides };
}

function entraPage(...definitions: Record<string, unknown>[]): Record<string, unknown> {
    return { "@odata.context": "https://graph.microsoft.com/beta/$metadata#roleManagement/directory/roleDefinitions", value: definitions };
}

function validAzureInput(): Record<string, unknown>[] {
    return [azureDefinition(READER_GUID, "Reader"), azureDefinition(OWNER_GUID, "Owner")];
}

function validEntraInput(): Record<string, unknown> {
    return entraPage(
        entraDefinition(GLOBAL_ADMINISTRATOR_ID, "Global Administrator", { isPrivileged: true }),
        entraDefinition(GLOBAL_READER_ID, "Global Reader"),
    );
}

function assertRejected(build: () => unknown, expectedMessage: RegExp): void {
    assert.throws(build, (error: unknown) => {
        assert.ok(error instanceof RoleCatalogInputError, `expected RoleCatalogInputError, got ${String(error)}`);
        assert.match(error.message, expectedMessage);
        return true;
    });
}

describe("buildRoleCatalog", () => {
    it("maps built-in Azure roles by GUID and built-in Entra roles by template id", () => {
        const catalog = buildRoleCatalog(validAzureInput(), validEntraInput(), DATE);

        assert.deepStrictEqual(catalog, {
            $comment: CATALOG_COMMENT,
            generatedAt: DATE,
            azure: { [READER_GUID]: "Reader", [OWNER_GUID]: "Owner" },
            entra: {
                [GLOBAL_ADMINISTRATOR_ID]: { name: "Global Administrator", privileged: true },
                [GLOBAL_READER_ID]: { name: "Global Reader", privileged: false },
            },
        });
    });

    it("drops Azure custom roles", () => {
        const azure = [...validAzureInput(), azureDefinition(CUSTOM_ROLE_GUID, "Our VM Operator", { roleType: "CustomRole" })];

        const catalog = buildRoleCatalog(azure, validEntraInput(), DATE);

        assert.deepStrictEqual(Object.keys(catalog.azure).sort(), [OWNER_GUID, READER_GUID].sort());
    });

    it("drops Entra roles that are not built in", () => {
        const entra = entraPage(
            entraDefinition(GLOBAL_READER_ID, "Global Reader"),
            entraDefinition(CUSTOM_DIRECTORY_ROLE_ID, "Our Helpdesk", { isBuiltIn: false }),
        );

        const catalog = buildRoleCatalog(validAzureInput(), entra, DATE);

        assert.deepStrictEqual(Object.keys(catalog.entra), [GLOBAL_READER_ID]);
    });

    it("lower-cases upper-case GUIDs and template ids", () => {
        const azure = [azureDefinition(READER_GUID.toUpperCase(), "Reader")];
        const entra = entraPage(entraDefinition(GLOBAL_READER_ID.toUpperCase(), "Global Reader"));

        const catalog = buildRoleCatalog(azure, entra, DATE);

        assert.deepStrictEqual(Object.keys(catalog.azure), [READER_GUID]);
        assert.deepStrictEqual(Object.keys(catalog.entra), [GLOBAL_READER_ID]);
    });

    it("accepts several Graph pages given as an array", () => {
        const pages = [
            { ...entraPage(entraDefinition(GLOBAL_ADMINISTRATOR_ID, "Global Administrator")), "@odata.nextLink": "https://graph.microsoft.com/beta/next" },
            entraPage(entraDefinition(GLOBAL_READER_ID, "Global Reader")),
        ];

        const catalog = buildRoleCatalog(validAzureInput(), pages, DATE);

        assert.deepStrictEqual(Object.keys(catalog.entra).sort(), [GLOBAL_ADMINISTRATOR_ID, GLOBAL_READER_ID].sort());
    });

    it("rejects Graph output whose last page still points at a next page", () => {
        const truncated = { ...validEntraInput(), "@odata.nextLink": "https://graph.microsoft.com/beta/next" };

        assertRejected(() => buildRoleCatalog(validAzureInput(), truncated, DATE), /page #0 has @odata\.nextLink/);
    });

    it("rejects an Azure role without a GUID, naming the role", () => {
        const azure = [...validAzureInput(), azureDefinition("not-a-guid", "Broken Role")];

        assertRejected(
            () => buildRoleCatalog(azure, validEntraInput(), DATE),
            /Azure role definition #2 \(roleName "Broken Role".*\) has no role definition GUID/,
        );
    });

    it("rejects an Azure role without a name, naming its GUID", () => {
        const azure = [azureDefinition(READER_GUID, "")];

        assertRejected(
            () => buildRoleCatalog(azure, validEntraInput(), DATE),
            new RegExp(`Azure role definition #0 \\(name "${READER_GUID}"\\) has no "roleName"`),
        );
    });

    it("rejects a custom Azure role that is malformed rather than dropping it silently", () => {
        const azure = [...validAzureInput(), azureDefinition(CUSTOM_ROLE_GUID, " ", { roleType: "CustomRole" })];

        assertRejected(() => buildRoleCatalog(azure, validEntraInput(), DATE), /#2 .*has no "roleName"/);
    });

    it("rejects an Azure role whose id ends in a different GUID", () => {
        const azure = [azureDefinition(READER_GUID, "Reader", { id: `/providers/Microsoft.Authorization/roleDefinitions/${OWNER_GUID}` })];

        assertRejected(() => buildRoleCatalog(azure, validEntraInput(), DATE), /"Reader".* does not end in its name/);
    });

    it("rejects an unknown Azure roleType", () => {
        const azure = [azureDefinition(READER_GUID, "Reader", { roleType: "SomethingElse" })];

        assertRejected(() => buildRoleCatalog(azure, validEntraInput(), DATE), /"Reader".*roleType "SomethingElse"/);
    });

    it("rejects the same Azure GUID twice", () => {
        const azure = [azureDefinition(READER_GUID, "Reader"), azureDefinition(READER_GUID.toUpperCase(), "Reader (copy)")];

        assertRejected(() => buildRoleCatalog(azure, validEntraInput(), DATE), /"Reader \(copy\)".*repeats .* already named "Reader"/);
    });

    it("rejects Azure input that is not an array", () => {
        assertRejected(() => buildRoleCatalog({ value: validAzureInput() }, validEntraInput(), DATE), /must be the JSON array/);
    });

    it("rejects an Entra role without a template id, naming the role", () => {
        const entra = entraPage(entraDefinition(GLOBAL_READER_ID, "Global Reader", { templateId: null }));

        assertRejected(
            () => buildRoleCatalog(validAzureInput(), entra, DATE),
            /Entra role definition #0 \(displayName "Global Reader".*\) has no role template id/,
        );
    });

    it("rejects an Entra role without a display name, naming its template id", () => {
        const entra = entraPage(entraDefinition(GLOBAL_READER_ID, "Global Reader", { displayName: undefined }));

        assertRejected(
            () => buildRoleCatalog(validAzureInput(), entra, DATE),
            new RegExp(`Entra role definition #0 \\(templateId "${GLOBAL_READER_ID}".*\\) has no "displayName"`),
        );
    });

    it("rejects an Entra role without isPrivileged and points at the beta endpoint", () => {
        const entra = entraPage(entraDefinition(GLOBAL_READER_ID, "Global Reader", { isPrivileged: undefined }));

        assertRejected(() => buildRoleCatalog(validAzureInput(), entra, DATE), /"Global Reader".*isPrivileged.*graph\.microsoft\.com\/beta/);
    });

    it("rejects Entra input that is not a Graph page", () => {
        assertRejected(() => buildRoleCatalog(validAzureInput(), [entraDefinition(GLOBAL_READER_ID, "Global Reader")], DATE), /page #0 is not a Graph collection page/);
    });

    it("rejects a generatedAt that is not a YYYY-MM-DD date", () => {
        assertRejected(() => buildRoleCatalog(validAzureInput(), validEntraInput(), "09/04/2026"), /YYYY-MM-DD/);
    });
});

describe("serializeRoleCatalog", () => {
    it("gives the same text whatever order the inputs list roles in", () => {
        const forwards = buildRoleCatalog(validAzureInput(), validEntraInput(), DATE);
        const reversedEntra = validEntraInput();
        reversedEntra.value = [...(reversedEntra.value as unknown[])].reverse();
        const backwards = buildRoleCatalog([...validAzureInput()].reverse(), reversedEntra, DATE);

        assert.strictEqual(serializeRoleCatalog(backwards), serializeRoleCatalog(forwards));
    });

    it("writes sorted ids with 2-space indentation and a trailing newline", () => {
        const catalog = buildRoleCatalog(validAzureInput(), validEntraInput(), DATE);

        const text = serializeRoleCatalog(catalog);

        assert.strictEqual(
            text,
            [
                "{",
                `  "$comment": ${JSON.stringify(CATALOG_COMMENT)},`,
                `  "generatedAt": "${DATE}",`,
                '  "azure": {',
                `    "${OWNER_GUID}": "Owner",`,
                `    "${READER_GUID}": "Reader"`,
                "  },",
                '  "entra": {',
                `    "${GLOBAL_ADMINISTRATOR_ID}": {`,
                '      "name": "Global Administrator",',
                '      "privileged": true',
                "    },",
                `    "${GLOBAL_READER_ID}": {`,
                '      "name": "Global Reader",',
                '      "privileged": false',
                "    }",
                "  }",
                "}",
                "",
            ].join("\n"),
        );
    });
});

describe("generateRoleCatalog command line", () => {
    let workDirectory: string;

    beforeEach(() => {
        workDirectory = fs.mkdtempSync(path.join(os.tmpdir(), "role-catalog-"));
    });

    afterEach(() => {
        fs.rmSync(workDirectory, { recursive: true, force: true });
    });

    function writeInput(fileName: string, content: unknown): string {
        const filePath = path.join(workDirectory, fileName);
        fs.writeFileSync(filePath, JSON.stringify(content));
        return filePath;
    }

    it("writes the catalog built from the two input files", async () => {
        const outPath = path.join(workDirectory, "roles", "builtInRoles.json");
        const args = [
            compiledScriptPath,
            "--azure", writeInput("az.json", validAzureInput()),
            "--entra", writeInput("entra.json", validEntraInput()),
            "--out", outPath,
            "--date", DATE,
        ];

        const { stdout } = await execFileAsync(process.execPath, args);

        assert.match(stdout, /2 Azure roles, 2 Entra roles \(1 privileged\)/);
        assert.strictEqual(
            fs.readFileSync(outPath, "utf8"),
            serializeRoleCatalog(buildRoleCatalog(validAzureInput(), validEntraInput(), DATE)),
        );
    });

    it("exits 1 with the offending entry named and writes nothing on malformed input", async () => {
        const outPath = path.join(workDirectory, "builtInRoles.json");
        const args = [
            compiledScriptPath,
            "--azure", writeInput("az.json", [azureDefinition(READER_GUID, "")]),
            "--entra", writeInput("entra.json", validEntraInput()),
            "--out", outPath,
        ];

        const failure = await execFileAsync(process.execPath, args).then(
            () => assert.fail("expected the script to fail"),
            (error: { code: number; stderr: string }) => error,
        );

        assert.strictEqual(failure.code, 1);
        assert.match(failure.stderr, new RegExp(`Azure role definition #0 \\(name "${READER_GUID}"\\) has no "roleName"`));
        assert.strictEqual(fs.existsSync(outPath), false);
    });
});

describe("committed policies/roles/builtInRoles.json", () => {
    const committedText = fs.readFileSync(committedCatalogPath, "utf8");
    const committed = JSON.parse(committedText) as RoleCatalog;

    it("is exactly what the generator writes, so regenerating gives no diff", () => {
        assert.strictEqual(committedText, serializeRoleCatalog(committed));
        assert.strictEqual(committed.$comment, CATALOG_COMMENT);
        assert.match(committed.generatedAt, /^\d{4}-\d{2}-\d{2}$/);
    });

    it("keys every Azure role by a lower-case GUID and names it", () => {
        for (const [guid, name] of Object.entries(committed.azure)) {
            assert.match(guid, GUID_PATTERN);
            assert.ok(typeof name === "string" && name.trim() !== "", `Azure role ${guid} has no name`);
        }
    });

    it("keys every Entra role by a lower-case template id with a name and a PRIVILEGED flag", () => {
        for (const [templateId, role] of Object.entries(committed.entra)) {
            assert.match(templateId, GUID_PATTERN);
            assert.ok(typeof role.name === "string" && role.name.trim() !== "", `Entra role ${templateId} has no name`);
            assert.strictEqual(typeof role.privileged, "boolean", `Entra role ${templateId} has no privileged flag`);
        }
    });

    it("holds every role Microsoft documents, not a sample", () => {
        // Azure: 870 roles when generated — the 498 of Microsoft's "Azure built-in roles" page plus the
        // undocumented ones that `az role definition list` dumps in public repositories show (see
        // scripts/ROLE_CATALOG.md). The floor leaves room for Microsoft retiring a few roles.
        // Entra: "Microsoft Entra built-in roles" listed 123 (29 PRIVILEGED).
        assert.ok(Object.keys(committed.azure).length >= 850, `only ${Object.keys(committed.azure).length} Azure roles`);
        assert.ok(Object.keys(committed.entra).length > 100, `only ${Object.keys(committed.entra).length} Entra roles`);
        const privilegedCount = Object.values(committed.entra).filter((role) => role.privileged).length;
        assert.ok(privilegedCount >= 25 && privilegedCount < 40, `${privilegedCount} Entra roles marked privileged`);
    });

    it("names the well-known Azure roles by their GUIDs", () => {
        assert.strictEqual(committed.azure["8e3af657-a8ff-443c-a75c-2fe8c4bcb635"], "Owner");
        assert.strictEqual(committed.azure["b24988ac-6180-42a0-ab88-20f7382dd24c"], "Contributor");
        assert.strictEqual(committed.azure["acdd72a7-3385-48ef-bd42-f606fba81ae7"], "Reader");
        assert.strictEqual(committed.azure["18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"], "User Access Administrator");
        assert.strictEqual(committed.azure["f58310d9-a9f6-439a-9e8d-f62e7b41a168"], "Role Based Access Control Administrator");
        assert.strictEqual(committed.azure["47b7735b-770e-4598-a7da-8b91488b4c88"], "Data Lake Analytics Developer");
        assert.strictEqual(committed.azure["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"], "Storage Blob Data Owner");
    });

    it("names built-in Azure roles that Microsoft's built-in roles page leaves out", () => {
        assert.strictEqual(committed.azure["dba33070-676a-4fb0-87fa-064dc56ff7fb"], "Azure Maps Contributor");
        assert.strictEqual(committed.azure["0a7c2fa1-6f28-41a4-86b8-e74937c63222"], "Tenant Contributor");
        assert.strictEqual(committed.azure["46023a6a-0702-4cbf-956c-d8c3ac27bc2b"], "Defender CSPM");
        // The trailing space is in Azure's own roleName, so matching must trim rather than the catalog.
        assert.strictEqual(committed.azure["ddc140ed-e463-4246-9145-7c664192013f"], "Azure Arc VMware Administrator role ");
    });

    it("uses the newest name of a renamed Azure role", () => {
        // Formerly "Trusted Signing Certificate Profile Signer" and "Azure AI User".
        assert.strictEqual(committed.azure["2837e146-70d7-4cfd-ad55-7efa6464f958"], "Artifact Signing Certificate Profile Signer");
        assert.strictEqual(committed.azure["53ca6127-db72-4b80-b1b0-d745d6d5456d"], "Foundry User");
    });

    it("names the well-known Entra roles with Microsoft's PRIVILEGED label", () => {
        assert.deepStrictEqual(committed.entra[GLOBAL_ADMINISTRATOR_ID], { name: "Global Administrator", privileged: true });
        assert.deepStrictEqual(committed.entra["e8611ab8-c189-46e8-94e1-60213ab1f814"], { name: "Privileged Role Administrator", privileged: true });
        // Microsoft labels Global Reader PRIVILEGED (it can read everything a Global Administrator can),
        // even though the pack's name patterns treat it as unprivileged.
        assert.deepStrictEqual(committed.entra[GLOBAL_READER_ID], { name: "Global Reader", privileged: true });
        assert.deepStrictEqual(committed.entra["88d8e3e3-8f55-4a1e-953a-9b9898b8876b"], { name: "Directory Readers", privileged: false });
        assert.deepStrictEqual(committed.entra["fdd7a751-b60b-444a-984c-02652fe8fa1c"], { name: "Groups Administrator", privileged: false });
    });
});
