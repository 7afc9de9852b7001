import type { HostSpec } from "../src/host/protocol.js";

/** A terminal as a session's host drives it: the bytes claude writes, unparsed. */
export interface Disposable {
  dispose(): void;
}

export interface PtyExit {
  exitCode: number;
  /** Signal number that ended the process, if one did. */
  signal?: number;
}

export interface PtyProcess {
  readonly pid: number;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  /** Sends a signal to the process (default SIGHUP, like closing the terminal). */
  kill(signal?: NodeJS.Signals): void;
  onData(listener: (data: Buffer) => void): Disposable;
  onExit(listener: (exit: PtyExit) => void): Disposable;
  /** Stops reading the terminal: the program blocks in its writes once the kernel's buffer is full. */
  pause(): void;
  /** Reads the terminal again after pause(). */
  resume(): void;
}

/** What starts a program in a terminal: the part of a host's spec that says so. */
export type PtySpawnOptions = Pick<HostSpec, "file" | "args" | "cwd" | "env" | "cols" | "rows">;

export type PtySpawner = (options: PtySpawnOptions) => PtyProcess;
