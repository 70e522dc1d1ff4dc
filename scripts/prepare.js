// `npm install` runs this. A clone has the TypeScript sources and builds them into bin/;
// the tarball `pulumi policy publish` uploads ships bin/ already built and no sources, so
// there is nothing to do there (and its production install may lack the build's types).
const { existsSync } = require("node:fs");
const { execFileSync } = require("node:child_process");

if (existsSync("tsconfig.json")) {
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.json"], { stdio: "inherit" });
}
