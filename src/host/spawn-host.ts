import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { stderrIsJournal } from "../log.js";
import { fileURLToPath } from "node:url";
import { stoppedLaunch } from "../systemd/scope-launch.js";
import type { HostSpec } from "./host.js";

/** The host's entry point, beside this module in the same build. */
const hostMain = fileURLToPath(new URL("./main.js", import.meta.url));
/** A host is mostly idle: a small young generation keeps its memory down. */
const nodeFlags = ["--max-semi-space-size=1", "--max-old-space-size=256"];
/** Variables meant for the supervisor alone. */
const supervisorOnly = /^(NOTIFY_SOCKET|LISTEN_(FDS|PID|FDNAMES)|WATCHDOG_(USEC|PID))$/;

export interface SpawnedHost {
  pid: number;
  /** Resolves once the host listens on its socket; rejects if it exits first. */
  ready: Promise<void>;
}

/**
 * Starts a session's host in a session of its own, so it outlives the supervisor. With
 * `stopFirst` it stops itself before it execs node, for placement in a systemd scope.
 */
export function spawnHost(spec: HostSpec, stopFirst: boolean, timeoutMs = 30_000): SpawnedHost {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !supervisorOnly.test(name)),
  );
  const node = { file: process.execPath, args: [...nodeFlags, hostMain] };
  const command = stopFirst ? stoppedLaunch(node.file, node.args) : node;
  mkdirSync(dirname(spec.socketPath), { recursive: true, mode: 0o700 });
  // The journal outlives the supervisor; a terminal or a test's pipe must not be held open by it.
  const log = stderrIsJournal()
    ? "inherit"
    : openSync(spec.socketPath.replace(/\.sock$/, ".host.log"), "a", 0o600);
  const child = spawn(command.file, command.args, {
    cwd: "/",
    env,
    detached: true,
    stdio: ["pipe", "pipe", log],
  }) as ChildProcessByStdio<Writable, Readable, null>;
  if (typeof log === "number") closeSync(log);
  child.unref();
  child.stdin.on("error", () => {});
  child.stdin.end(JSON.stringify(spec));
  const ready = new Promise<void>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => done(new Error(`not ready in ${timeoutMs} ms`)), timeoutMs);
    const done = (err?: Error) => {
      clearTimeout(timer);
      child.stdout.destroy();
      child.off("exit", onExit);
      if (err) reject(err);
      else resolve();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      done(
        new Error(`the session's host exited (${signal ?? `code ${code}`}) before it was ready`),
      );
    child.on("exit", onExit);
    child.on("error", (err) => done(err));
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) done();
    });
  });
  return { pid: child.pid ?? -1, ready };
}
