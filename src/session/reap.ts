import type { Logger } from "../log.js";
import { isSameProcess } from "../proc.js";
import type { SessionRecord } from "./session.js";

/**
 * After a pool crash, a claude that ignored its terminal's hangup may still run. Its PTY is gone,
 * so it cannot be adopted; stop it before the conversation resumes in a new process.
 */
export async function reapStaleProcesses(
  records: SessionRecord[],
  graceMs: number,
  log: Logger,
): Promise<void> {
  const stale = records.filter(
    (r): r is SessionRecord & { pid: number; procStart: string } =>
      r.pid !== null && r.procStart !== null && isSameProcess(r.pid, r.procStart),
  );
  await Promise.all(
    stale.map(async (r) => {
      log.warn(
        `session ${r.id} (${r.settings.name}): stopping pid ${r.pid} left from the last pool`,
      );
      signalGroup(r.pid, "SIGTERM");
      if (!(await exitedWithin(r, graceMs))) {
        signalGroup(r.pid, "SIGKILL");
        await exitedWithin(r, 5000);
      }
    }),
  );
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

async function exitedWithin(r: { pid: number; procStart: string }, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isSameProcess(r.pid, r.procStart)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
