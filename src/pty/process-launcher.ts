import type { LaunchedProcess, ProcessLauncher } from "../session/launcher.js";
import type { PtySpawner } from "./pty.js";

/** Sessions as plain PTY children of the pool, each in its own process group. */
export class PlainLauncher implements ProcessLauncher {
  readonly kind = "process";

  constructor(private readonly spawnPty: PtySpawner) {}

  launch(request: Parameters<ProcessLauncher["launch"]>[0]): LaunchedProcess {
    const pty = this.spawnPty(request.pty);
    return {
      pty,
      unit: null,
      started: Promise.resolve(),
      signal: (signal) => pty.kill(signal),
      release: async () => null,
      usage: async () => null,
    };
  }
}
