import { isRunning, isSameProcess, processState } from "../proc.js";
import type { HostConnection } from "./host-connection.js";
import type { HostProcess } from "./spawn-host.js";

/** A launched host as its launcher holds it: its pid, and its connection once it is up. */
export class HostHandle {
  private connection: HostConnection | null = null;
  private gone: Promise<void> | null = null;

  /** `spawned`: the host as this pool started it (not adopted), which knows more of it. */
  constructor(
    readonly pid: number,
    readonly started: Promise<HostConnection>,
    private readonly spawned: Pick<HostProcess, "claudePid" | "gone" | "kill"> | null = null,
  ) {
    started.then(
      (c) => (this.connection = c),
      () => {},
    );
  }

  /** claude's pid, once the host has started it. */
  get claudePid(): number | null {
    // As the host said it when ready, for a connection that failed.
    return this.connection?.pid ?? this.spawned?.claudePid ?? null;
  }

  /** Signals claude's process group through the host, once it is up (SIGKILL: the host now). */
  signal(signal: NodeJS.Signals): void {
    if (this.connection) this.connection.kill(signal);
    else if (signal === "SIGKILL") this.kill();
    else
      void this.started.then(
        (c) => c.kill(signal),
        () => {},
      );
  }

  /** Resolves once the host has gone; one still there after `ms` (from the first call) is killed. */
  exited(ms: number): Promise<void> {
    this.gone ??= this.waitForExit(ms);
    return this.gone;
  }

  private async waitForExit(ms: number): Promise<void> {
    if (this.spawned) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, true)));
      const killed = await Promise.race([this.spawned.gone.then(() => false), late]);
      clearTimeout(timer);
      if (killed) this.kill();
      return;
    }
    const deadline = Date.now() + ms;
    while (this.pid > 0 && isRunning(this.pid) && processState(this.pid) !== "Z") {
      if (Date.now() >= deadline) return this.kill();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Ends the host itself. */
  kill(): void {
    // A spawned host is killed through its ChildProcess, which does nothing once it was reaped.
    if (this.spawned) return this.spawned.kill();
    // An adopted one only while its pid is still that host's (a pid of -1 would be every process).
    const start = this.connection?.hello.hostStart ?? null;
    if (this.pid <= 0 || (start !== null && !isSameProcess(this.pid, start))) return;
    try {
      process.kill(this.pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
}
