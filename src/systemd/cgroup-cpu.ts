import { readFileSync } from "node:fs";

/** Where the cgroup2 hierarchy is mounted: hybrid hosts put it under unified/, pure v2 hosts at the top. */
const CGROUP2_MOUNTS = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"];

/**
 * CPU time of a cgroup from its cgroup2 cpu.stat, which the kernel keeps in every cgroup even
 * without the cpu controller. systemd reads it itself on cgroup v2; on a v1 hybrid host it reads
 * cpuacct instead, and where cpu and cpuacct are mounted apart it never realizes cpuacct for the
 * unit and reports no CPU usage at all. Null when no cpu.stat is found.
 */
export function cgroup2CpuSeconds(controlGroup: string): number | null {
  for (const mount of CGROUP2_MOUNTS) {
    let stat: string;
    try {
      stat = readFileSync(`${mount}${controlGroup}/cpu.stat`, "utf8");
    } catch {
      continue;
    }
    const m = /^usage_usec (\d+)$/m.exec(stat);
    if (m) return Number(m[1]) / 1e6;
  }
  return null;
}
