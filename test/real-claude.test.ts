/**
 * Smoke test against the real Claude Code CLI (installed by test/install-real-claude), started
 * offline with a pre-seeded config dir and the Anthropic API stand-in (real-claude-support.ts).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { LedgerEntry } from "../src/channel/ledger.js";
import { connectUnix } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import { FakeAnthropic, lastUserText } from "./fake-anthropic.js";
import {
  processArgs,
  startFakePool,
  tempDir,
  waitFor,
  waitForSession,
  waitForStatus,
} from "./helpers.js";
import {
  claudeEnv,
  readJson,
  realClaude,
  realPool,
  seedClaudeDir,
  skipReason,
  startupMs,
  type RealPool,
} from "./real-claude-support.js";

const skip = skipReason("real claude smoke test");

const pools: RealPool[] = [];
after(async () => {
  await Promise.all(pools.map((t) => t.close()));
});

async function pool(trusted: (t: { workDir: string }) => string[]): Promise<RealPool> {
  const t = await realPool({ trusted });
  pools.push(t);
  return t;
}

describe("real claude", { skip }, () => {
  it(
    "runs under the pool with the --session-id the pool chose, and stops on kill",
    { timeout: 60_000 },
    async (tc) => {
      const t = await pool((x) => [x.workDir]);
      const started = Date.now();
      const s = t.pool.spawn({ name: "smoke" });
      const running = await waitForStatus(t.pool, s.id, "running", startupMs);
      const file = join(t.claudeDir, "sessions", `${running.pid}.json`);
      const info = await waitFor("claude's sessions/<pid>.json", () => readJson(file), startupMs);
      assert.equal(info.sessionId, s.claudeSessionId);
      assert.equal(info.pid, running.pid);
      assert.equal(info.cwd, t.workDir);
      // The file first carries a name derived from the folder; --name lands a moment later, and
      // may come after the REPL is up ("status":"idle", waiting for input).
      const ready = await waitFor(
        () =>
          `claude's REPL to be idle with --name; its session file: ${JSON.stringify(readJson(file))}`,
        () => {
          const now = readJson(file);
          return now?.status === "idle" && now.name === "smoke" ? now : undefined;
        },
        startupMs,
      );
      tc.diagnostic(`spawn to idle prompt with its name ${Date.now() - started} ms`);
      assert.equal(ready.sessionId, s.claudeSessionId);
      assert.equal(t.pool.get(s.id).blockedOn, null);
      const stopped = await t.pool.kill(s.id);
      assert.equal(stopped.status, "stopped");
      assert.ok(!existsSync(file), "claude removed its session file on SIGTERM");
    },
  );

  it(
    "reports the trust dialog of an untrusted folder as blockedOn",
    { timeout: 60_000 },
    async () => {
      const t = await pool(() => []);
      const s = t.pool.spawn({ name: "untrusted" });
      const blocked = await waitForSession(
        t.pool,
        s.id,
        "blockedOn trust-folder",
        (x) => x.blockedOn === "trust-folder",
        startupMs,
      );
      assert.equal(blocked.status, "running");
      assert.equal(blocked.idleSeconds, 0, "idle time does not run while blocked");
      await t.pool.kill(s.id);
    },
  );

  it(
    "accepts the pool's --mcp-config and development channel, starts the channel server, and gets messages typed when it ignores the channel",
    { timeout: 90_000 },
    async () => {
      const dir = tempDir();
      const work = join(dir, "work");
      const claudeDir = join(dir, "claude");
      seedClaudeDir(claudeDir, [work]);
      const api = await FakeAnthropic.start();
      const pool = await startFakePool(
        {
          claudePath: realClaude,
          stopTimeoutSeconds: 5,
          channelFallbackSeconds: 2,
          defaults: { workingDirectory: work, env: claudeEnv(api, claudeDir, join(dir, "home")) },
        },
        dir,
      );
      const client = await connectUnix(pool.socket);
      try {
        const s = await client.call<SessionInfo>("session.spawn", { name: "channel" });
        // Without a login claude still starts the MCP server; the pool sees its channel connect.
        await waitFor(
          "the channel server to connect",
          async () => (await client.call<SessionInfo>("session.get", { id: s.id })).channel,
          startupMs,
        );
        const info = await client.call<SessionInfo>("session.get", { id: s.id });
        const args = processArgs(info.pid!);
        assert.deepEqual(args.slice(-2), [
          "--dangerously-load-development-channels",
          "server:claude-pool",
        ]);
        assert.equal(info.status, "running");
        assert.ok(
          info.blockedOn === null || info.blockedOn === "development-channels",
          `claude reached its interface, not an argument error (blockedOn ${info.blockedOn})`,
        );
        // claude drops channel notifications without a login: the pool types the message instead.
        await client.call("channel.send", { id: s.id, content: "hello from the pool" });
        const entry = await waitFor(
          "the message typed into the terminal",
          async () => {
            const [e] = await client.call<LedgerEntry[]>("channel.history", { id: s.id });
            return e.via === "pty" ? e : undefined;
          },
          30_000,
        );
        assert.match(String(entry.note), /channels are not available|started no turn/);
        await waitFor(
          () =>
            `the typed message to reach the API; it saw ${JSON.stringify(api.turns().map(lastUserText))}`,
          () => api.turns().some((r) => lastUserText(r).includes("hello from the pool")),
          15_000,
        );
      } finally {
        client.close();
        await pool.stop();
        await api.close();
      }
    },
  );
});
