/**
 * Pack start time (spawn to port line) of the built pack and of a bare `@pulumi/policy` pack,
 * alternated in one run so both see the same machine: `npm run build && node bin/bench/startTime.js [runs]`.
 */
import * as path from "node:path";
import { launchPolicyPack } from "../test/harness";

const ROOT = path.resolve(__dirname, "..", "..");
const PACKS = { bare: path.join(ROOT, "test", "harness", "bare-pack"), "entra-mfa-guard": ROOT };

export async function measureStartTimes(runs: number): Promise<Record<keyof typeof PACKS, number[]>> {
    const times: Record<keyof typeof PACKS, number[]> = { bare: [], "entra-mfa-guard": [] };
    for (let i = 0; i < runs; i++) {
        for (const [name, packDir] of Object.entries(PACKS) as [keyof typeof PACKS, string][]) {
            const pack = await launchPolicyPack({ packDir });
            times[name].push(pack.startMs);
            await pack.close();
        }
    }
    return times;
}

export function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

if (require.main === module) {
    const runs = Number(process.argv[2] ?? 5);
    measureStartTimes(runs).then((times) => {
        for (const [name, values] of Object.entries(times)) {
            console.log(`${name.padEnd(16)} median ${Math.round(median(values))} ms  (${values.map(Math.round).join(", ")})`);
        }
        console.log(`ratio entra-mfa-guard / bare: ${(median(times["entra-mfa-guard"]) / median(times.bare)).toFixed(2)}x`);
    });
}
