/**
 * The processes that work in or point into a directory tree, read from /proc: what a test run
 * must not leave behind. `make test` puts every temp dir of a run under one root (TMPDIR) and
 * checks it with check-leftovers.ts; tests end what a pool they killed left with
 * endProcessesUnder (helpers.ts).
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { processState } from "../src/proc.js";

export interface Leftover {
  pid: number;
  cmdline: string;
  /** The working directory; " (deleted)" when the test removed it under the process. */
  cwd: string;
  /** The first environment entry naming the root or a path under it, when the cwd does not. */
  env?: string;
}

/** Whether `path` is `root` or inside it; `root` has no trailing slash. */
export function isUnder(path: string, root: string): boolean {
  return path === root || path.startsWith(`${root}/`);
}

const DELETED = " (deleted)";

function parentOf(pid: number): number | null {
  try {
    const ppid = /^PPid:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return ppid === undefined ? null : Number(ppid);
  } catch {
    return null;
  }
}

/** `pid` and its ancestors: the check and whoever runs it carry the root in their environment. */
export function lineage(pid = process.pid): Set<number> {
  const pids = new Set<number>();
  for (let p: number | null = pid; p !== null && p > 0 && !pids.has(p); p = parentOf(p)) {
    pids.add(p);
  }
  return pids;
}

function inspect(pid: number, roots: string[]): Leftover | null {
  try {
    if (processState(pid) === "Z") return null; // dead, only not reaped yet
    const cwd = readlinkSync(`/proc/${pid}/cwd`);
    const dir = cwd.endsWith(DELETED) ? cwd.slice(0, -DELETED.length) : cwd;
    const under = (path: string) => roots.some((root) => isUnder(path, root));
    const env = under(dir)
      ? undefined
      : readFileSync(`/proc/${pid}/environ`, "utf8")
          .split("\0")
          .find((entry) =>
            entry
              .slice(entry.indexOf("=") + 1)
              .split(":")
              .some(under),
          );
    if (!under(dir) && env === undefined) return null;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0$/, "");
    return { pid, cmdline: cmdline.split("\0").join(" "), cwd, ...(env && { env }) };
  } catch {
    return null; // exited meanwhile, or a kernel thread
  }
}

/**
 * The running processes, other than `exclude` (by default this one and its ancestors), whose
 * working directory or environment is `root` or under it.
 */
export function processesUnder(root: string, exclude: ReadonlySet<number> = lineage()): Leftover[] {
  const trimmed = root.replace(/\/+$/, "");
  const roots = [...new Set([trimmed, realpathSync(trimmed)])];
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name) && !exclude.has(Number(name)))
    .map((name) => inspect(Number(name), roots))
    .filter((p): p is Leftover => p !== null);
}

export function describeLeftover(p: Leftover): string {
  return `pid ${p.pid}, cwd ${p.cwd}${p.env ? `, env ${p.env}` : ""}: ${p.cmdline}`;
}
