/**
 * Conversations with the real Claude Code CLI under the pool, its model played by the Anthropic
 * API stand-in: messages typed through the pool reach the API and the replies reach the screen,
 * and the history survives a kill and resume, and a crash and restart.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  contentText,
  lastUserText,
  newToolResults,
  overloaded,
  type MessagesRequest,
} from "./fake-anthropic.js";
import { waitFor, waitForSession, waitForStatus } from "./helpers.js";
import {
  answerDialog,
  claudeArgs,
  realPool,
  skipReason,
  startupMs,
  waitForIdle,
  waitForSavedReply,
  waitForScreen,
  type RealPool,
} from "./real-claude-support.js";

const skip = skipReason("real claude conversation tests");

const pools: RealPool[] = [];
after(async () => {
  await Promise.all(pools.map((t) => t.close()));
});

async function pool(config: Record<string, unknown> = {}): Promise<RealPool> {
  const t = await realPool({ config });
  pools.push(t);
  return t;
}

/** Resolves with the first turn, after the `seen` ones, that carries the user's `text`. */
function nextTurn(t: RealPool, text: string, seen = 0): Promise<MessagesRequest> {
  return waitFor(
    () => `a turn with "${text}"; the API saw ${JSON.stringify(t.api.turns().map(lastUserText))}`,
    () =>
      t.api
        .turns()
        .slice(seen)
        .find((r) => lastUserText(r) === text),
    15_000,
  );
}

/** The conversation as [role, text] pairs, without claude's own system message and reminders. */
function history(req: MessagesRequest): [string, string][] {
  return req.messages
    .filter((m) => m.role !== "system")
    .map((m) => [
      m.role,
      m.role === "user" ? lastUserText({ ...req, messages: [m] }) : contentText(m.content),
    ]);
}

describe("real claude conversations", { skip }, () => {
  it(
    "types a message through the pool, the API gets it, and the reply reaches the screen",
    { timeout: 60_000 },
    async (tc) => {
      const t = await pool();
      const started = Date.now();
      const s = t.pool.spawn({ name: "echo" });
      await waitForIdle(t, s.id);
      const ready = Date.now();
      await t.pool.send(s.id, "hello through the pool");
      const req = await nextTurn(t, "hello through the pool");
      const asked = Date.now();
      await waitForScreen(t.pool, s.id, /echo: hello through the pool/);
      const answered = Date.now();
      tc.diagnostic(
        `spawn to idle prompt ${ready - started} ms; typed to API request ${asked - ready} ms; to reply on screen ${answered - ready} ms`,
      );
      assert.equal(req.stream, true);
      const logged = t.api.messages().at(-1)!;
      assert.equal(logged.headers["anthropic-version"], "2023-06-01");
      assert.equal(logged.headers["x-claude-code-session-id"], s.claudeSessionId);
      assert.deepEqual(t.api.unserved(), [], "claude called nothing the stand-in does not know");
      tc.diagnostic(
        `requests: ${t.api.requests.map((r) => `${r.method} ${r.path}${r.kind ? ` (${r.kind})` : ""}`).join(", ")}`,
      );
    },
  );

  it(
    "resumes after a kill with the earlier turns in the next request",
    { timeout: 90_000 },
    async () => {
      const t = await pool();
      const s = t.pool.spawn({ name: "resumed" });
      await waitForIdle(t, s.id);
      await t.pool.send(s.id, "remember the first message");
      await waitForScreen(t.pool, s.id, /echo: remember the first message/);
      await t.pool.kill(s.id);

      const seen = t.api.turns().length;
      t.pool.resume(s.id);
      await waitForStatus(t.pool, s.id, "running", startupMs);
      assert.deepEqual(claudeArgs(t.pool.get(s.id).pid!).slice(0, 2), [
        "--resume",
        s.claudeSessionId,
      ]);
      await waitForIdle(t, s.id);
      await t.pool.send(s.id, "and now the second");
      const req = await nextTurn(t, "and now the second", seen);
      assert.deepEqual(history(req), [
        ["user", "remember the first message"],
        ["assistant", "echo: remember the first message"],
        ["user", "and now the second"],
      ]);
      await waitForScreen(t.pool, s.id, /echo: and now the second/);
    },
  );

  it(
    "restarts a claude killed with SIGKILL with --resume, and the history goes on",
    { timeout: 90_000 },
    async (tc) => {
      const t = await pool();
      const s = t.pool.spawn({ name: "crashed" });
      const first = await waitForIdle(t, s.id);
      await t.pool.send(s.id, "before the crash");
      await waitForScreen(t.pool, s.id, /echo: before the crash/);
      const shown = Date.now();
      await waitForSavedReply(t, s.id, "echo: before the crash");
      tc.diagnostic(
        `reply saved in the transcript ${Date.now() - shown} ms after it was on the screen`,
      );

      const seen = t.api.turns().length;
      process.kill(first.pid as number, "SIGKILL");
      const restarted = await waitForSession(
        t.pool,
        s.id,
        "running again in a new process",
        (x) => x.status === "running" && x.pid !== null && x.pid !== first.pid,
        startupMs,
      );
      assert.equal(restarted.restarts, 1);
      assert.deepEqual(claudeArgs(restarted.pid!).slice(0, 2), ["--resume", s.claudeSessionId]);
      await waitForIdle(t, s.id);
      await t.pool.send(s.id, "after the crash");
      const req = await nextTurn(t, "after the crash", seen);
      assert.deepEqual(history(req), [
        ["user", "before the crash"],
        ["assistant", "echo: before the crash"],
        ["user", "after the crash"],
      ]);
    },
  );

  it(
    "asks before a Bash command in --permission-mode default, and runs it when answered",
    { timeout: 60_000 },
    async () => {
      const t = await pool();
      t.api.script([
        {
          toolUses: [
            {
              name: "Bash",
              input: {
                command: "echo tool-ran > ran.txt && cat ran.txt",
                description: "Write a file",
              },
            },
          ],
        },
        { text: "The command ran." },
      ]);
      const s = t.pool.spawn({ name: "asks", args: ["--permission-mode", "default"] });
      await waitForIdle(t, s.id);
      await t.pool.send(s.id, "run the command");
      await waitForScreen(t.pool, s.id, /Do you want to proceed\?/);
      assert.equal(t.api.turns().length, 1, "nothing ran before the answer");
      assert.ok(!existsSync(join(t.workDir, "ran.txt")));

      await answerDialog(t.pool, s.id, /Do you want to proceed\?/, "1");
      const req = await waitFor(
        "the tool result in a request",
        () => t.api.turns().find((r) => newToolResults(r).length > 0),
        15_000,
      );
      const [result] = newToolResults(req);
      assert.equal(result.is_error, false);
      assert.equal(contentText(result.content), "tool-ran");
      assert.equal(readFileSync(join(t.workDir, "ran.txt"), "utf8"), "tool-ran\n");
      await waitForScreen(t.pool, s.id, /The command ran\./);
    },
  );

  it(
    "retries a 529 overloaded answer and shows the reply that follows",
    { timeout: 60_000 },
    async () => {
      const t = await pool();
      t.api.script([overloaded, { text: "made it after the retry" }]);
      const s = t.pool.spawn({ name: "overloaded" });
      await waitForIdle(t, s.id);
      await t.pool.send(s.id, "are you busy");
      await waitForScreen(t.pool, s.id, /made it after the retry/);
      const turns = t.api.turns().filter((r) => lastUserText(r) === "are you busy");
      assert.equal(turns.length, 2, "one request answered 529, one retried");
    },
  );
});
