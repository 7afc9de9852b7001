import type { Limits } from "../config/types.js";
import type { HostConnection } from "../host/host-connection.js";
import type { HostSpec } from "../host/protocol.js";
import type { HostHello } from "../host/protocol.js";
import type { SessionRecord } from "./session.js";

export interface Usage {
  memoryBytes: number | null;
  cpuSeconds: number | null;
  tasks: number | null;
}

export interface LaunchRequest {
  sessionId: string;
  name: string;
  limits: Limits;
  /** Grace period the unit gives its processes between SIGTERM and SIGKILL. */
  stopTimeoutSec: number;
  /** What the session's host runs. */
  host: HostSpec;
}

/** One session host (and the claude it runs) and whatever holds it: its own session, or a systemd scope. */
export interface LaunchedProcess {
  readonly hostPid: number;
  /** The systemd unit holding the session, once it is placed there; null outside systemd. */
  readonly unit: string | null;
  /** Resolves once the host is placed (a no-op outside systemd); rejects if it could not be. */
  readonly placed: Promise<void>;
  /** Resolves with the connection to the host once it runs claude; rejects if it never does. */
  readonly started: Promise<HostConnection>;
  /** After a failed placement: lets the host run outside a scope. */
  runUnplaced(): void;
  /** Ends the host at once (a launch that cannot go on). */
  abort(): void;
  /** Signals everything the session runs: claude, its tools, its MCP servers. */
  signal(signal: NodeJS.Signals): void;
  /**
   * After claude exits: ends what it left behind and frees the unit's name. Resolves with the
   * unit's result ("oom-kill", "success", …) where systemd reports one.
   */
  release(): Promise<string | null>;
  usage(): Promise<Usage | null>;
}

/** Where sessions' hosts run: in sessions of their own, or in transient systemd scopes. */
export interface ProcessLauncher {
  readonly kind: "scope" | "process";
  launch(request: LaunchRequest): LaunchedProcess;
  /** Gets ready for a launch ahead of time (a host waiting for its session). */
  prepare(): void;
  /** Ends what is kept ready; running sessions are left alone. */
  close(): void;
  /**
   * At pool start: reconnects to the hosts a previous pool left running, and ends what is left
   * of the other sessions. Resolves with the adopted ones, by session id.
   */
  adopt(
    records: SessionRecord[],
    socketOf: (id: string) => string,
    graceMs: number,
  ): Promise<Map<string, Adopted>>;
}

/** A session found running: its process, and the hello of a host of another protocol, if so. */
export interface Adopted {
  launched: LaunchedProcess;
  legacy: HostHello | null;
}
