import type { HostConnection } from "./host-connection.js";

/** A launched host as its launcher holds it: its pid, and its connection once it is up. */
export class HostHandle {
  private connection: HostConnection | null = null;

  constructor(
    readonly pid: number,
    readonly started: Promise<HostConnection>,
  ) {
    started.then(
      (c) => (this.connection = c),
      () => {},
    );
  }

  /** claude's pid, once the host is connected. */
  get claudePid(): number | null {
    return this.connection?.pid ?? null;
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

  /** Ends the host itself. */
  kill(): void {
    try {
      process.kill(this.pid, "SIGKILL");
    } catch {
      // gone already
    }
  }
}
