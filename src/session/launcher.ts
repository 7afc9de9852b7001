import type { Limits } from "../config/types.js";
import type { PtyProcess, PtySpawnOptions } from "../pty/pty.js";
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
  pty: PtySpawnOptions;
}

/** One claude process and whatever holds it (a process group, or a systemd scope). */
export interface LaunchedProcess {
  readonly pty: PtyProcess;
  /** The systemd unit holding the session, once it is placed there; null outside systemd. */
  readonly unit: string | null;
  /** Resolves once claude runs where it belongs; rejects when it could not be placed. */
  readonly started: Promise<void>;
  /** Signals everything the session runs: claude, its tools, its MCP servers. */
  signal(signal: NodeJS.Signals): void;
  /**
   * After claude exits: ends what it left behind and frees the unit's name. Resolves with the
   * unit's result ("oom-kill", "success", …) where systemd reports one.
   */
  release(): Promise<string | null>;
  usage(): Promise<Usage | null>;
}

/** Where sessions' processes run: plain PTY children, or transient systemd scopes. */
export interface ProcessLauncher {
  readonly kind: "scope" | "process";
  launch(request: LaunchRequest): LaunchedProcess;
  /**
   * At pool start: ends what the registry's sessions left running under a previous pool. Their
   * PTYs died with it, so they cannot be adopted; their conversations resume in new processes.
   */
  reclaim(records: SessionRecord[], graceMs: number): Promise<void>;
}
