import { readdirSync, readFileSync } from "node:fs";
import type { Logger } from "../log.js";
import { isSameProcess, procStartTime } from "../proc.js";
import type { SessionRecord } from "./session.js";

interface Leftover {
  record: SessionRecord;
  pid: number;
  procStart: string;
}

/**
 * After a pool crash, what could not be adopted (a claude whose host is gone, a host that does not
 * answer) may still run: stop it before the conversation resumes in a new process.
 */
export async function reapStaleProcesses(
  records: SessionRecord[],
  graceMs: number,
  log: Logger,
): Promise<void> {
  const alive = (pid: number | null, start: string | null) =>
    pid !== null && start !== null && isSameProcess(pid, start);
  const recorded = records.flatMap((record) => [
    ...(alive(record.pid, record.procStart)
      ? [{ record, pid: record.pid as number, procStart: record.procStart as string }]
      : []),
    ...(alive(record.hostPid, record.hostStart)
      ? [{ record, pid: record.hostPid as number, procStart: record.hostStart as string }]
      : []),
  ]);
  await Promise.all(
    [...recorded, ...unrecorded(records)].map(async (p) => {
      log.warn(
        `session ${p.record.id} (${p.record.settings.name}): stopping pid ${p.pid} left from the last pool`,
      );
      signalGroup(p.pid, "SIGTERM");
      if (!(await exitedWithin(p, graceMs))) {
        signalGroup(p.pid, "SIGKILL");
        await exitedWithin(p, 5000);
      }
    }),
  );
}

/**
 * Processes of sessions recorded as starting without a pid: the pool died after it saved the
 * record and before it saved the pid. They are found by the variable every session's claude
 * (and what it runs) inherits.
 */
function unrecorded(records: SessionRecord[]): Leftover[] {
  const byMarker = new Map(
    records
      .filter((r) => r.status === "starting" && r.pid === null)
      .map((r) => [`CLAUDE_POOL_SESSION_ID=${r.id}`, r]),
  );
  if (byMarker.size === 0) return [];
  const found: Leftover[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    let environ: string[];
    try {
      environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    } catch {
      continue; // gone, or not ours
    }
    const record = environ.map((v) => byMarker.get(v)).find((r) => r !== undefined);
    const procStart = record ? procStartTime(pid) : null;
    if (record && procStart !== null) found.push({ record, pid, procStart });
  }
  return found;
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

async function exitedWithin(p: { pid: number; procStart: string }, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isSameProcess(p.pid, p.procStart)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
