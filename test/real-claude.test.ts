/**
 * Smoke test against the real Claude Code CLI (installed by test/install-real-claude). It starts
 * offline, without a login, when its config dir is pre-seeded: onboarding done, the folder
 * trusted, and a dummy API key approved.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { LedgerEntry } from "../src/channel/ledger.js";
import { connectUnix } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import {
  makePool,
  processArgs,
  repoRoot,
  startFakePool,
  tempDir,
  waitFor,
  waitForSession,
  waitForStatus,
  type TestPool,
} from "./helpers.js";

const realClaude =
  process.env.CLAUDE_POOL_REAL_CLAUDE ??
  join(repoRoot, "test", ".real-claude", "node_modules", ".bin", "claude");
const skip = existsSync(realClaude)
  ? false
  : `real claude not installed at ${realClaude} (run test/install-real-claude)`;
if (skip) console.log(`# skipping real claude smoke test: ${skip}`);

const apiKey = `sk-ant-api03-${"x".repeat(80)}-pooltest0123456789AA`;
/** Offline start-up waits out ~17 s of remote-settings retries. */
const startupMs = 60_000;

/** The JSON in `file`, or undefined while it is missing or half-written (claude writes in place). */
function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** `.claude.json` that lets claude start offline: onboarding done, folders trusted, key approved. */
function seededConfig(trusted: string[]): Record<string, unknown> {
  return {
    hasCompletedOnboarding: true,
    projects: Object.fromEntries(trusted.map((d) => [d, { hasTrustDialogAccepted: true }])),
    customApiKeyResponses: { approved: [apiKey.slice(-20)], rejected: [] },
  };
}

const pools: TestPool[] = [];
after(async () => {
  await Promise.all(pools.map((t) => t.close()));
});

function realPool(trustedDirs: string[] | ((t: TestPool) => string[])): TestPool {
  const t = makePool({ claudePath: realClaude, stopTimeoutSeconds: 5 });
  pools.push(t);
  const home = join(t.dir, "home");
  mkdirSync(home, { recursive: true });
  mkdirSync(t.claudeDir, { recursive: true });
  const trusted = typeof trustedDirs === "function" ? trustedDirs(t) : trustedDirs;
  writeFileSync(join(t.claudeDir, ".claude.json"), JSON.stringify(seededConfig(trusted)));
  Object.assign(t.env, { HOME: home, ANTHROPIC_API_KEY: apiKey, DISABLE_AUTOUPDATER: "1" });
  return t;
}

describe("real claude", { skip }, () => {
  it(
    "runs under the pool with the --session-id the pool chose, and stops on kill",
    { timeout: 120_000 },
    async () => {
      const t = realPool((x) => [x.workDir]);
      const s = t.pool.spawn({ name: "smoke" });
      const running = await waitForStatus(t.pool, s.id, "running", startupMs);
      const file = join(t.claudeDir, "sessions", `${running.pid}.json`);
      const info = await waitFor("claude's sessions/<pid>.json", () => readJson(file), startupMs);
      assert.equal(info.sessionId, s.claudeSessionId);
      assert.equal(info.pid, running.pid);
      assert.equal(info.cwd, t.workDir);
      // The file may first carry a name derived from the folder; --name lands by the time the
      // REPL is up ("status":"idle", waiting for input).
      const ready = await waitFor(
        "claude's REPL to be idle",
        () => (readJson(file)?.status === "idle" ? readJson(file) : undefined),
        startupMs,
      );
      assert.equal(ready.name, "smoke");
      assert.equal(ready.sessionId, s.claudeSessionId);
      assert.equal(t.pool.get(s.id).blockedOn, null);
      const stopped = await t.pool.kill(s.id);
      assert.equal(stopped.status, "stopped");
      assert.ok(!existsSync(file), "claude removed its session file on SIGTERM");
    },
  );

  it(
    "reports the trust dialog of an untrusted folder as blockedOn",
    { timeout: 120_000 },
    async () => {
      const t = realPool([]);
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
    { timeout: 150_000 },
    async () => {
      const dir = tempDir();
      const work = join(dir, "work");
      const home = join(dir, "home");
      mkdirSync(home, { recursive: true });
      mkdirSync(join(dir, "claude"), { recursive: true });
      writeFileSync(join(dir, "claude", ".claude.json"), JSON.stringify(seededConfig([work])));
      const pool = await startFakePool(
        { claudePath: realClaude, stopTimeoutSeconds: 5, channelFallbackSeconds: 2 },
        dir,
        { HOME: home, ANTHROPIC_API_KEY: apiKey, DISABLE_AUTOUPDATER: "1" },
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
        const args = processArgs(s.pid!);
        assert.deepEqual(args.slice(-2), [
          "--dangerously-load-development-channels",
          "server:claude-pool",
        ]);
        const info = await client.call<SessionInfo>("session.get", { id: s.id });
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
        assert.match(String(entry.note), /no notice of its channel/);
      } finally {
        client.close();
        await pool.stop();
      }
    },
  );
});
