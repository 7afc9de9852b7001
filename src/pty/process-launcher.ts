import { silentLogger, type Logger } from "../log.js";
import { groupAlive } from "../proc.js";
import type { LaunchedProcess, ProcessLauncher } from "../session/launcher.js";
import { reapStaleProcesses } from "../session/reap.js";
import type { SessionRecord } from "../session/session.js";
import { cleanExec } from "./clean-exec.js";
import type { PtyProcess, PtySpawner } from "./pty.js";

/** Sessions as plain PTY children of the pool, each in its own process group. */
export class PlainLauncher implements ProcessLauncher {
  readonly kind = "process";

  constructor(
    private readonly spawnPty: PtySpawner,
    private readonly log: Logger = silentLogger,
  ) {}

  launch(request: Parameters<ProcessLauncher["launch"]>[0]): LaunchedProcess {
    const pty = this.spawnPty({
      ...request.pty,
      ...cleanExec(request.pty.file, request.pty.args),
    });
    return {
      pty,
      unit: null,
      started: Promise.resolve(),
      signal: (signal) => pty.kill(signal),
      release: async () => {
        await endGroup(pty, request.stopTimeoutSec * 1000);
        return null;
      },
      usage: async () => null,
    };
  }

  reclaim(records: SessionRecord[], graceMs: number): Promise<void> {
    return reapStaleProcesses(records, graceMs, this.log);
  }
}

/**
 * What claude left in its process group (tools, MCP servers that ignore the hangup) gets SIGTERM,
 * then SIGKILL after the grace period, as systemd stops a scope.
 */
async function endGroup(group: PtyProcess, graceMs: number): Promise<void> {
  if (!groupAlive(group.pid)) return;
  group.kill("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (groupAlive(group.pid)) {
    if (Date.now() >= deadline) {
      group.kill("SIGKILL");
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
