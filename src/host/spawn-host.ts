import { spawn, type ChildProcessByStdio } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Readable, Writable } from "node:stream";
import { stderrIsJournal } from "../log.js";
import { HostConnection } from "./host-connection.js";
import type { HostSpec } from "./protocol.js";

/** The host program (native/), built into dist/native beside dist/src. */
export const hostProgram = fileURLToPath(new URL("../../native/claude-pool-host", import.meta.url));
/** Variables meant for the supervisor alone. */
const supervisorOnly = /^(NOTIFY_SOCKET|LISTEN_(FDS|PID|FDNAMES)|WATCHDOG_(USEC|PID))$/;
const readyTimeoutMs = 30_000;
/**
 * The next spare starts once the launched claude has drawn (its start-up, which the launch waits
 * for, is then done), or this long after the launch.
 */
const defaultSpareDelayMs = 1000;

/**
 * A host process that has loaded its code and waits for its session's spec on stdin. It forks
 * nothing before that, so it can be placed in a scope while it waits.
 */
export interface HostProcess {
  readonly pid: number;
  /** claude's pid, once the host has said it is ready. */
  readonly claudePid: number | null;
  /** Resolves once the host process has ended. */
  readonly gone: Promise<void>;
  /** Hands the host its session; resolves with the supervisor's connection to it. */
  start(spec: HostSpec): Promise<HostConnection>;
  kill(): void;
}

/**
 * Starts hosts in sessions of their own, so they outlive the supervisor, and keeps one started
 * ahead, so a launch costs only claude's start-up.
 */
export class HostSpawner {
  private spare: HostProcess | null = null;
  private spareTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly spareDelayMs = defaultSpareDelayMs) {}

  /** A waiting host for a launch; the next one starts once its claude has drawn. */
  take(): HostProcess {
    const host = this.spare ?? this.newHost();
    this.spare = null;
    if (this.spareTimer === null && !this.closed) {
      this.spareTimer = setTimeout(() => this.prepare(), this.spareDelayMs);
      this.spareTimer.unref();
    }
    return host;
  }

  /** Starts the spare host, if there is none. */
  prepare(): void {
    if (this.spareTimer !== null) clearTimeout(this.spareTimer);
    this.spareTimer = null;
    if (this.closed || this.spare !== null) return;
    this.spare = this.newHost();
  }

  /** A host whose claude's first output is the cue for the next spare. */
  private newHost(): HostProcess {
    return startHost(() => this.prepare());
  }

  close(): void {
    this.closed = true;
    if (this.spareTimer !== null) clearTimeout(this.spareTimer);
    this.spareTimer = null;
    this.spare?.kill();
    this.spare = null;
  }
}

/** `drawn`: the host's claude has written its first output. */
function startHost(drawn: () => void): HostProcess {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !supervisorOnly.test(name)),
  );
  // The journal outlives the supervisor; a terminal or a test's pipe must not be held open by a
  // host, which otherwise writes to a file beside its socket.
  const child = spawn(hostProgram, [], {
    argv0: "claude-pool host",
    cwd: "/",
    env,
    detached: true,
    stdio: ["pipe", "pipe", stderrIsJournal() ? "inherit" : "ignore"],
  }) as ChildProcessByStdio<Writable, Readable, null>;
  child.unref();
  // Without a pid (or its pipes: EMFILE) it never ran; its "error" event says why.
  if (child.pid === undefined || !child.stdin || !child.stdout) {
    const failed = new Promise<Error>((resolve) => {
      child.once("error", resolve);
      setTimeout(resolve, 1000, new Error("the session's host did not start")).unref();
    });
    return {
      pid: -1,
      claudePid: null,
      gone: Promise.resolve(),
      kill: () => {},
      start: () => failed.then((err) => Promise.reject(err)),
    };
  }
  child.stdin.on("error", () => {});
  let exited: Error | null = null;
  child.once("exit", (code, signal) => {
    exited = new Error(
      `the session's host exited (${signal ?? `code ${code}`}) before it was ready`,
    );
  });
  child.once("error", (err) => (exited = err));
  const gone = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
  const host: HostProcess & { claudePid: number | null } = {
    pid: child.pid,
    claudePid: null,
    gone,
    kill: () => child.kill("SIGKILL"),
    start: (spec) =>
      new Promise<void>((resolve, reject) => {
        if (exited) return reject(exited);
        let out = "";
        const timer = setTimeout(
          () => done(new Error(`not ready in ${readyTimeoutMs} ms`)),
          readyTimeoutMs,
        );
        const done = (err?: Error) => {
          clearTimeout(timer);
          child.stdout.destroy();
          child.off("exit", onExit);
          if (err) reject(err);
          else resolve();
        };
        const onExit = () => done(exited ?? new Error("the session's host exited"));
        child.on("exit", onExit);
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          if (!out.includes("\n")) return;
          host.claudePid = Number(/^ready (\d+)/.exec(out)?.[1]) || null;
          done();
        });
        child.stdin.end(JSON.stringify(spec));
      })
        .then(() => HostConnection.open(spec.socketPath))
        .then((connection) => {
          connection.once("data", drawn);
          return connection;
        }),
  };
  return host;
}
