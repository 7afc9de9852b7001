import type { PtyProcess, PtySpawner, PtySpawnOptions } from "../pty/pty.js";
import type { SystemdManager } from "./manager.js";
import { continueProcess, stoppedLaunch, waitUntilStopped } from "./scope-launch.js";
import type { ScopeOptions } from "./scope-properties.js";

export type ScopeRequest = Omit<ScopeOptions, "pids"> & { unit: string };

export interface ScopedSpawn {
  /** At once; its pid is the program's, which runs only after placement. */
  pty: PtyProcess;
  /**
   * Resolves when the process is in the scope and running. Rejects when it could not be placed,
   * leaving the process stopped: SIGKILL it, or run it outside a scope with continueProcess.
   * Signals other than SIGKILL and SIGCONT stay pending while it is stopped.
   */
  placed: Promise<void>;
}

/** Spawns a PTY program that starts inside a new transient scope (see scope-launch.ts). */
export function spawnInScope(
  spawn: PtySpawner,
  manager: SystemdManager,
  scope: ScopeRequest,
  options: PtySpawnOptions,
  timeoutMs = 5000,
): ScopedSpawn {
  const pty = spawn({ ...options, ...stoppedLaunch(options.file, options.args) });
  const { unit, ...scopeOptions } = scope;
  const placed = (async () => {
    await waitUntilStopped(pty.pid, timeoutMs);
    await manager.startScope(unit, { ...scopeOptions, pids: [pty.pid] }, { timeoutMs });
    if (!continueProcess(pty.pid)) throw new Error(`process ${pty.pid} exited during placement`);
  })();
  return { pty, placed };
}
