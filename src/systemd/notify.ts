import { execFile } from "node:child_process";

const SYSTEMD_NOTIFY = "/usr/bin/systemd-notify";
/** Longer than systemd-notify's wait for the manager to take the message (it waits by default). */
const NOTIFY_TIMEOUT_MS = 10_000;

/**
 * sd_notify(3) for a Type=notify service. Node has no unix datagram sockets, so each message is
 * sent by /usr/bin/systemd-notify, which the unit accepts with NotifyAccess=all. Outside systemd
 * (no NOTIFY_SOCKET) every call is a no-op; no call ever throws. Messages go out in call order.
 */
export class ServiceNotifier {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly socket: string | null,
    /** How often to send WATCHDOG=1 (half of WatchdogSec), or null when there is no watchdog. */
    readonly watchdogIntervalMs: number | null,
    private readonly pid: number,
    private readonly command: string,
  ) {}

  /**
   * Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, then removes them from `env`, like
   * sd_notify's unset_environment, so sessions and their tools do not inherit them.
   */
  static fromEnvironment(
    env: NodeJS.ProcessEnv = process.env,
    pid: number = process.pid,
    command: string = SYSTEMD_NOTIFY,
  ): ServiceNotifier {
    const socket = env.NOTIFY_SOCKET || null;
    const usec = Number(env.WATCHDOG_USEC);
    const forPid = env.WATCHDOG_PID === undefined ? pid : Number(env.WATCHDOG_PID);
    const interval = socket && forPid === pid && usec > 0 ? Math.max(1, usec / 2000) : null;
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
    return new ServiceNotifier(socket, interval, pid, command);
  }

  get enabled(): boolean {
    return this.socket !== null;
  }

  ready(status?: string): Promise<boolean> {
    return this.send(["READY=1", ...statusField(status)]);
  }

  status(text: string): Promise<boolean> {
    return this.send(statusField(text));
  }

  /** Before a reload (SIGHUP); send ready() when it is done. */
  reloading(status?: string): Promise<boolean> {
    return this.send(["RELOADING=1", ...statusField(status)]);
  }

  stopping(status?: string): Promise<boolean> {
    return this.send(["STOPPING=1", ...statusField(status)]);
  }

  watchdog(): Promise<boolean> {
    return this.send(["WATCHDOG=1"]);
  }

  /** Pings the watchdog until the returned function is called; a no-op without a watchdog. */
  startWatchdog(): () => void {
    if (this.watchdogIntervalMs === null) return () => {};
    const timer = setInterval(() => void this.watchdog(), this.watchdogIntervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Resolves true once systemd-notify has delivered the fields, false if it could not. */
  private send(fields: string[]): Promise<boolean> {
    const { socket } = this;
    if (socket === null) return Promise.resolve(false);
    const sent = this.queue.then(
      () =>
        new Promise<boolean>((resolve) => {
          execFile(
            this.command,
            [`--pid=${this.pid}`, ...fields],
            { env: { ...process.env, NOTIFY_SOCKET: socket }, timeout: NOTIFY_TIMEOUT_MS },
            (err) => resolve(err === null),
          );
        }),
    );
    this.queue = sent;
    return sent;
  }
}

function statusField(text: string | undefined): string[] {
  return text === undefined ? [] : [`STATUS=${text.replace(/\s+/g, " ")}`];
}
