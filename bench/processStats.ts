// What a live process has used, read from procfs (https://man7.org/linux/man-pages/man5/proc_pid_status.5.html,
// https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html). Linux only, like the CI machines.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Peak resident set size of a live process so far (`VmHWM`), in bytes. */
export function peakRssBytes(pid: number): number {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
    if (match === null) throw new Error(`/proc/${pid}/status has no VmHWM line`);
    return Number(match[1]) * 1024;
}

/** User plus system CPU time a live process has used so far, in ms; the kernel counts it in clock ticks. */
export function cpuTimeMs(pid: number): number {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2, the command name, is in parentheses and may hold spaces: count from the last ")".
    const fieldsFromState = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // The state is field 3, so utime (field 14) and stime (field 15) sit at offsets 11 and 12.
    const ticks = Number(fieldsFromState[11]) + Number(fieldsFromState[12]);
    return (ticks * 1000) / clockTicksPerSecond();
}

let ticksPerSecond: number | undefined;

function clockTicksPerSecond(): number {
    ticksPerSecond ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    return ticksPerSecond;
}
