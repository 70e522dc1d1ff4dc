"use strict";
// The CLI reads the first stdout line as the pack's port, so this line breaks the start on purpose.
console.log("loading noisy-pack");

const { PolicyPack } = require("@pulumi/policy");

new PolicyPack("noisy-pack", {
    policies: [
        {
            name: "never-runs",
            description: "Never runs, because the pack cannot start.",
            enforcementLevel: "advisory",
            validateResource: () => undefined,
        },
    ],
});
