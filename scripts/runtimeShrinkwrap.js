// `npm pack` (and so `pulumi policy publish`) runs this after clean-package has stripped the dev
// fields from package.json: it writes npm-shrinkwrap.json holding only the runtime tree, at the
// versions package-lock.json already pins, so every machine that installs the pack gets the
// versions the tests ran with (npm honours a shrinkwrap inside a package; it never publishes
// package-lock.json: https://docs.npmjs.com/cli/configuring-npm/npm-shrinkwrap-json).
// `--remove` deletes it again after packing, so the working tree keeps using package-lock.json.
const { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = require("node:fs");
const { execFileSync } = require("node:child_process");
const os = require("node:os");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const shrinkwrap = path.join(root, "npm-shrinkwrap.json");

if (process.argv.includes("--remove")) {
    rmSync(shrinkwrap, { force: true });
} else {
    const { name, version, dependencies } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
    const scratch = mkdtempSync(path.join(os.tmpdir(), "entra-mfa-guard-shrinkwrap-"));
    try {
        writeFileSync(path.join(scratch, "package.json"), JSON.stringify({ name, version, dependencies }, null, 2));
        copyFileSync(path.join(root, "package-lock.json"), path.join(scratch, "package-lock.json"));
        // npm drops what only the dev tree and the workspaces needed and keeps every other locked version.
        execFileSync("npm", ["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], {
            cwd: scratch,
            stdio: ["ignore", "ignore", "inherit"],
        });
        copyFileSync(path.join(scratch, "package-lock.json"), shrinkwrap);
    } finally {
        rmSync(scratch, { recursive: true, force: true });
    }
}
