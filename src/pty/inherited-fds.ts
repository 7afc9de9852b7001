import { closeSync, readdirSync, readFileSync } from "node:fs";

const closeOnExec = 0o2000000;

/**
 * node-pty forks and execs without closing descriptors, so claude would get every descriptor
 * without close-on-exec: those a process inherited from whoever started it (a supervisor's
 * socket, a test runner's pipe). Node opens all of its own with close-on-exec; the rest are
 * closed here, before the first spawn.
 */
export function closeInheritedDescriptors(): void {
  for (const name of readdirSync("/proc/self/fdinfo")) {
    const fd = Number(name);
    if (fd <= 2) continue;
    let info: string;
    try {
      info = readFileSync(`/proc/self/fdinfo/${name}`, "utf8");
    } catch {
      continue; // the directory's own descriptor, closed once listed
    }
    const flags = /^flags:\s+([0-7]+)/m.exec(info);
    if (flags && (parseInt(flags[1], 8) & closeOnExec) === 0) {
      try {
        closeSync(fd);
      } catch {
        // closed meanwhile
      }
    }
  }
}
