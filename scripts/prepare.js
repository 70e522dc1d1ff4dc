// `npm install` runs this. A clone has the TypeScript sources and builds them into bin/ (`tsc -b`
// leaves a build-info file, so the next `npm run build` or `npm run demo` skips a build that is
// current); the published tarball ships bin/ built and no sources, and its package.json has no scripts.
const { existsSync } = require("node:fs");
const { execFileSync } = require("node:child_process");

if (existsSync("tsconfig.json")) {
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-b", "tsconfig.json"], { stdio: "inherit" });
}
