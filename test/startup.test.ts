/** `claude-pool start` from exec to ready: the ready line, and signals that come on the way. */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { processState } from "../src/proc.js";
import type { SessionRecord } from "../src/session/session.js";
import { PoolProcess, tempDir, waitFor, writeFakeConfig } from "./helpers.js";

const pools: PoolProcess[] = [];
after(async () => {
  for (const p of pools) await p.stop();
});

function startPool(): PoolProcess {
  const dir = tempDir();
  writeFakeConfig(dir, {
    stopTimeoutSeconds: 1,
    primarySession: { name: "junior", keepWarm: true, workingDirectory: join(dir, "work") },
  });
  const pool = new PoolProcess(dir, ["--config", join(dir, "pool.json")]);
  pools.push(pool);
  return pool;
}

/**
 * Resolves once the pool catches SIGHUP (the SigCgt mask of /proc/PID/status), which it does
 * after SIGTERM and SIGINT. (node catches those two from its start, and then re-raises them.)
 */
function catchesSignals(pid: number): Promise<true> {
  return waitFor(`pid ${pid} to catch SIGHUP`, () => {
    const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))!;
    return (BigInt(`0x${mask[1]}`) & 1n) !== 0n;
  });
}

/** Sessions of the registry whose claude still runs. */
function leftovers(pool: PoolProcess): SessionRecord[] {
  const file = join(pool.dir, "state", "claude-pool", "state.json");
  if (!existsSync(file)) return [];
  const { sessions } = JSON.parse(readFileSync(file, "utf8")) as { sessions: SessionRecord[] };
  return sessions.filter((s) => s.pid !== null && ![null, "Z"].includes(processState(s.pid)));
}

describe("claude-pool start", () => {
  it("logs one ready line once the socket and the remote API listen", async () => {
    const pool = startPool();
    await pool.waitForLog(/claude-pool ready: /);
    const line = /^.*claude-pool ready: .*$/m.exec(pool.stderr)![0];
    const api = /remote API: (ws:\/\/[^/\s]+)\/rpc/.exec(pool.stderr)![1];
    assert.match(line, /^\S+ INFO {2}claude-pool ready: 1 session, socket (\S+), api (\S+)$/);
    assert.ok(line.endsWith(`socket ${pool.socket}, api ${api}`), line);
    assert.ok(
      pool.stderr.indexOf("control socket: ") < pool.stderr.indexOf(line),
      "after everything listens",
    );
  });

  it("holds a SIGHUP that comes long before it is ready, and reloads once it is", async () => {
    const pool = startPool();
    await catchesSignals(pool.child.pid!);
    assert.ok(!existsSync(pool.socket), "it catches SIGHUP before the control socket listens");
    pool.child.kill("SIGHUP");
    await pool.waitForLog(/reloaded .*pool\.json/);
    assert.equal(pool.child.exitCode, null, "the pool runs on");
    assert.ok(
      pool.stderr.indexOf("claude-pool ready: ") < pool.stderr.indexOf("reloaded "),
      pool.stderr,
    );
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`stops cleanly on a ${signal} while starting, leaving no claude behind`, async () => {
      const pool = startPool();
      await pool.waitForLog(/config: /); // its first line, long before it listens
      assert.ok(!existsSync(pool.socket));
      pool.child.kill(signal);
      assert.deepEqual(await pool.exited, { code: 0, signal: null }, pool.stderr);
      // before its sessions started, as a rule; past that it stops them, as on any stop
      assert.match(
        pool.stderr,
        new RegExp(
          `${signal} while starting: stopped before any session started|${signal}: stopping sessions`,
        ),
      );
      assert.deepEqual(leftovers(pool), []);
    });
  }
});
