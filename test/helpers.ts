import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after } from "node:test";
import { fileURLToPath } from "node:url";
import { AuditLog } from "../src/channel/audit-log.js";
import { ChannelHub } from "../src/channel/hub.js";
import { parseConfig } from "../src/config/load.js";
import type { PoolConfig } from "../src/config/types.js";
import { hookDispatcher } from "../src/hooks/dispatch.js";
import { HookServer, type HookHandler } from "../src/hooks/hook-server.js";
import { HookSettingsFiles } from "../src/hooks/settings.js";
import { silentLogger } from "../src/log.js";
import { Pool, type PoolOptions } from "../src/pool.js";
import { RpcError } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import type { SessionStatus } from "../src/session/status.js";
import { StateStore } from "../src/store/state-store.js";
import { processesUnder, type Leftover } from "./leftovers.js";

const here = fileURLToPath(new URL(".", import.meta.url));
/** The compiled fake claude, `dist/test/fake-claude.js`. */
export const fakeClaude = resolve(here, "fake-claude.js");
/** The repository root, two levels above `dist/test`. */
export const repoRoot = resolve(here, "..", "..");
export const claudePoolBin = join(repoRoot, "dist", "src", "bin", "claude-pool.js");

export function tempDir(prefix = "claude-pool-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Polls `probe` (sync or async) until it gives a value other than undefined/false, or fails at
 * the deadline. `what` may be a function, to describe what was last seen.
 */
export async function waitFor<T>(
  what: string | (() => string),
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * SIGKILLs whatever still runs in or points into `dir` (say the claude that ignored the hangup
 * of a pool killed with SIGKILL, and its channel server); resolves with them once they are gone.
 */
export async function endProcessesUnder(dir: string): Promise<Leftover[]> {
  const left = processesUnder(dir);
  for (const p of left) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
  await waitFor(
    () => `the processes left under ${dir} to die`,
    () => processesUnder(dir).length === 0,
  );
  return left;
}

/** Resolves with the session once `pool` reports it in `status`; fails at the deadline. */
export function waitForStatus(
  pool: Pool,
  id: string,
  status: SessionStatus,
  timeoutMs = 10_000,
): Promise<SessionInfo> {
  return waitForSession(pool, id, `status ${status}`, (s) => s.status === status, timeoutMs);
}

export function waitForSession(
  pool: Pool,
  id: string,
  what: string,
  test: (s: SessionInfo) => boolean,
  timeoutMs = 10_000,
): Promise<SessionInfo> {
  return new Promise((resolvePromise, reject) => {
    const seen: string[] = [];
    const check = (s: SessionInfo): boolean => {
      if (s.id !== id) return false;
      seen.push(s.status);
      if (!test(s)) return false;
      cleanup();
      resolvePromise(s);
      return true;
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(
          `timed out after ${timeoutMs} ms waiting for ${id} ${what}; saw ${seen.join(" → ")}`,
        ),
      );
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      pool.off("session.changed", check);
    };
    pool.on("session.changed", check);
    check(pool.get(id));
  });
}

/** Collects a session's PTY output; `waitFor(re)` resolves when the output matches. */
export class OutputRecorder {
  text = "";
  private waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  constructor(pool: Pool, id: () => string) {
    pool.on("session.output", (sessionId, data) => {
      if (sessionId !== id()) return;
      this.text += data;
      this.waiters = this.waiters.filter((w) => {
        const m = this.text.match(w.re);
        if (m) w.resolve(m);
        return !m;
      });
    });
  }

  waitFor(re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const m = this.text.match(re);
    if (m) return Promise.resolve(m);
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`timed out waiting for ${re} in output:\n${this.text.slice(-2000)}`)),
        timeoutMs,
      );
      this.waiters.push({
        re,
        resolve: (match) => {
          clearTimeout(timer);
          resolvePromise(match);
        },
      });
    });
  }

  clear(): void {
    this.text = "";
  }
}

/** Whether `pid` sleeps in the kernel in a write to its terminal, waiting for the reader. */
export function blockedInTtyWrite(pid: number): boolean {
  const state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1][0];
  return state === "S" && readFileSync(`/proc/${pid}/wchan`, "utf8") === "wait_woken";
}

/** claude's argv of a running process, read from /proc. */
export function processArgs(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(2, -1);
}

export interface TestPool {
  pool: Pool;
  config: PoolConfig;
  store: StateStore;
  dir: string;
  /** claude's config dir (CLAUDE_CONFIG_DIR) for the sessions of this pool. */
  claudeDir: string;
  /** Default working directory of the sessions. */
  workDir: string;
  env: NodeJS.ProcessEnv;
  /** This pool's config with `overrides` instead, for Pool.reconfigure. */
  configFor(overrides: Record<string, unknown>): PoolConfig;
  /** A second pool over the same registry, like the pool after a restart. */
  reopen(configOverrides?: Record<string, unknown>): Pool;
  close(): Promise<void>;
}

/**
 * A pool of fake claudes with its own state dir, claude config dir and working directory;
 * `wiring` goes to its first pool only (not to those `reopen` makes).
 */
export function makePool(
  configOverrides: Record<string, unknown> = {},
  dir = tempDir(),
  wiring: Pick<PoolOptions, "hooks" | "channel"> = {},
): TestPool {
  const claudeDir = join(dir, "claude");
  const workDir = join(dir, "work");
  mkdirSync(workDir, { recursive: true });
  const env = { ...process.env, CLAUDE_CONFIG_DIR: claudeDir };
  const store = new StateStore(join(dir, "state"));
  const configFor = (overrides: Record<string, unknown>) =>
    parseConfig(
      JSON.stringify({
        claudePath: fakeClaude,
        stopTimeoutSeconds: 2,
        restart: { backoffSeconds: 0.05, maxBackoffSeconds: 1 },
        defaults: { workingDirectory: workDir },
        ...overrides,
      }),
      "test config",
    );
  const config = configFor(configOverrides);
  const pools: Pool[] = [];
  const open = (c: PoolConfig, extra: Pick<PoolOptions, "hooks" | "channel"> = {}) => {
    const p = new Pool({ config: c, store, env, sessionsDir: join(dir, "sessions"), ...extra });
    pools.push(p);
    return p;
  };
  return {
    pool: open(config, wiring),
    config,
    store,
    dir,
    claudeDir,
    workDir,
    env,
    configFor,
    reopen: (overrides = configOverrides) => open(configFor(overrides)),
    close: async () => {
      await Promise.all(pools.map((p) => p.shutdown()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface HookedPool extends TestPool {
  /** The channel hub the hooks' permission requests go to; channel.send's path in-process. */
  hub: ChannelHub<object>;
}

/**
 * makePool whose sessions report their hooks to it, wired as the supervisor wires them: a
 * loopback HookServer, a --settings file per launch, each call dispatched to its session (and a
 * permission request to the channel hub). The pool has no channel server.
 */
export async function makeHookedPool(
  configOverrides: Record<string, unknown> = {},
): Promise<HookedPool> {
  const dir = tempDir();
  let dispatch: HookHandler = (call) => call.answer({});
  const server = new HookServer((call) => dispatch(call), silentLogger);
  await server.listen();
  const hooks = new HookSettingsFiles(
    join(dir, "hooks"),
    server,
    () => t.pool.currentConfig().permissionTimeoutSeconds,
  );
  const t = makePool(configOverrides, dir, { hooks });
  const hub = new ChannelHub<object>(t.pool, {
    config: () => t.pool.currentConfig(),
    audit: new AuditLog(join(dir, "audit.log")),
    log: silentLogger,
  });
  dispatch = hookDispatcher(t.pool, hub);
  return {
    ...t,
    hub,
    close: async () => {
      await t.close();
      server.close();
    },
  };
}

/**
 * `claude-pool start` as its own process, the way systemd runs it, with its state, claude config
 * and control socket under `dir`.
 */
export class PoolProcess {
  stderr = "";
  readonly child: ChildProcess;
  readonly socket: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(
    readonly dir: string,
    args: string[],
    env: Record<string, string> = {},
    bin = claudePoolBin,
  ) {
    this.socket = join(dir, "control.sock");
    // Run as users run it: by its #! line, which gives node its flags.
    this.child = spawn(bin, ["start", ...args], {
      env: {
        ...process.env,
        XDG_STATE_HOME: join(dir, "state"),
        CLAUDE_CONFIG_DIR: join(dir, "claude"),
        CLAUDE_POOL_SOCKET: this.socket,
        JOURNAL_STREAM: "",
        ...env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code, signal) => resolve({ code, signal })),
    );
  }

  waitForLog(re: RegExp, timeoutMs = 10_000): Promise<true> {
    return waitFor(
      () => `log ${re} in:\n${this.stderr}`,
      () => re.test(this.stderr),
      timeoutMs,
    );
  }

  /** Resolves once the control socket answers. */
  ready(): Promise<true> {
    return this.waitForLog(/control socket: /);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await this.exited;
  }
}

/** Writes `dir/pool.json` for fake claudes (working directory `dir/work`, any free API port). */
export function writeFakeConfig(dir: string, config: Record<string, unknown> = {}): void {
  mkdirSync(join(dir, "work"), { recursive: true });
  writeFileSync(
    join(dir, "pool.json"),
    JSON.stringify({
      claudePath: fakeClaude,
      apiPort: 0,
      defaults: { workingDirectory: join(dir, "work") },
      ...config,
    }),
  );
}

/**
 * Writes a config for fake claudes (working directory `dir/work`) over `config`, and starts
 * `claude-pool start` with it; resolves once the control socket answers.
 */
export async function startFakePool(
  config: Record<string, unknown> = {},
  dir = tempDir(),
  env: Record<string, string> = {},
): Promise<PoolProcess> {
  writeFakeConfig(dir, config);
  const pool = new PoolProcess(dir, ["--config", join(dir, "pool.json")], env);
  await pool.ready();
  return pool;
}

/** makePool for one test file: every pool it makes is closed after the file's tests. */
export function poolFactory(): (config?: Record<string, unknown>) => TestPool {
  const pools: TestPool[] = [];
  after(async () => {
    await Promise.all(pools.map((t) => t.close()));
  });
  return (config = {}) => {
    const t = makePool(config);
    pools.push(t);
    return t;
  };
}

/** Asserts that `promise` rejects with a JSON-RPC error of `code` whose message matches. */
export async function rejectsWithRpc(
  promise: Promise<unknown>,
  code: number,
  message: RegExp,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof RpcError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}
