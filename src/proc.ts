import { readdirSync, readFileSync } from "node:fs";

interface Stat {
  state: string;
  processGroup: number;
  startTime: string | null;
}

function readStat(pid: number): Stat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may hold spaces and parentheses; the fields after it are plain.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0], processGroup: Number(fields[2]), startTime: fields[19] ?? null };
  } catch {
    return null;
  }
}

/** Whether `pid` exists (node-pty reaps its own children, so an exited one is gone). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The state letter of /proc/<pid>/stat ("R", "S", "T" stopped, "Z" zombie, …), or null if gone. */
export function processState(pid: number): string | null {
  return readStat(pid)?.state || null;
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), or null. */
export function procStartTime(pid: number): string | null {
  return readStat(pid)?.startTime ?? null;
}

/**
 * Whether `pid` is still the process that was started at `startTime` (not a reused pid) and has
 * not exited: a zombie waiting to be reaped by its new parent counts as gone.
 */
export function isSameProcess(pid: number, startTime: string): boolean {
  const stat = readStat(pid);
  return stat !== null && stat.state !== "Z" && stat.startTime === startTime;
}

/** Whether any process of process group `group` still runs (zombies do not count). */
export function groupAlive(group: number): boolean {
  return readdirSync("/proc").some((entry) => {
    const stat = /^\d+$/.test(entry) ? readStat(Number(entry)) : null;
    return stat !== null && stat.processGroup === group && stat.state !== "Z";
  });
}
