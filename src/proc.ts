import { readFileSync } from "node:fs";

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), or null. */
export function procStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may hold spaces and parentheses; the fields after it are plain.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether `pid` is still the process that was started at `startTime` (not a reused pid). */
export function isSameProcess(pid: number, startTime: string): boolean {
  return procStartTime(pid) === startTime;
}
