/** `claude-pool start` from exec to ready: the ready line, and signals that come on the way. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { PoolProcess, tempDir, writeFakeConfig } from "./helpers.js";

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
});
