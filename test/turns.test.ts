/**
 * Conversation evidence from the fake claude's hooks, in-process: a pool wired as the supervisor
 * wires it (makeHookedPool), its turns, activity, idle sweep, and the screen as the fallback.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { isPromptOf } from "../src/channel/hub.js";
import { Ledger } from "../src/channel/ledger.js";
import type { Pool } from "../src/pool.js";
import { promptChars, type EndedTurn, type Turn } from "../src/session/evidence.js";
import {
  makeHookedPool,
  OutputRecorder,
  processArgs,
  waitFor,
  waitForSession,
  waitForStatus,
  type HookedPool,
} from "./helpers.js";

const pools: HookedPool[] = [];
after(async () => {
  await Promise.all(pools.map((t) => t.close()));
});

async function hookedPool(config: Record<string, unknown> = {}): Promise<HookedPool> {
  const t = await makeHookedPool({ channel: false, idleTimeoutMinutes: 60, ...config });
  pools.push(t);
  return t;
}

/** What a session does, as its session.changed and turn.* events tell. */
class Watch {
  /** Each activity the session JSON showed, once per change. */
  readonly activities: (string | null)[] = [];
  readonly started: Turn[] = [];
  readonly deltas: string[] = [];
  readonly ended: EndedTurn[] = [];

  constructor(pool: Pool, id: string) {
    this.activities.push(pool.get(id).activity);
    pool.on("session.changed", (info) => {
      if (info.id === id && this.activities.at(-1) !== info.activity) {
        this.activities.push(info.activity);
      }
    });
    pool.on("turn.started", (sid, turn) => void (sid === id && this.started.push(turn)));
    pool.on("turn.delta", (sid, _turnId, text) => void (sid === id && this.deltas.push(text)));
    pool.on("turn.ended", (sid, turn) => void (sid === id && this.ended.push(turn)));
  }

  turnEnded(count = 1): Promise<EndedTurn> {
    return waitFor(
      () => `${count} turn.ended; saw ${JSON.stringify(this.ended)}`,
      () => this.ended[count - 1],
    );
  }
}

function untilActivity(pool: Pool, id: string, activity: string) {
  return waitForSession(pool, id, `activity ${activity}`, (s) => s.activity === activity);
}

describe("turns reported by claude's hooks", () => {
  it("a typed message starts a turn and ends it with the reply: idle → busy → idle", async () => {
    const t = await hookedPool();
    const s = t.pool.spawn({ name: "typed" });
    await untilActivity(t.pool, s.id, "idle");
    const watch = new Watch(t.pool, s.id);
    await t.pool.send(s.id, "hello hooks");
    const ended = await watch.turnEnded();
    assert.equal(watch.started.length, 1);
    const [started] = watch.started;
    assert.match(started.id, /^[0-9a-f-]{36}$/, "the turn is named by claude's prompt_id");
    assert.equal(started.prompt, "hello hooks");
    assert.deepEqual(
      [ended.id, ended.outcome, ended.reply],
      [started.id, "done", "You said: hello hooks"],
    );
    assert.deepEqual(watch.deltas, ["You said: hello hooks"]);
    assert.deepEqual(watch.activities, ["idle", "busy", "idle"]);
    const info = t.pool.get(s.id);
    assert.equal(info.evidence, "hooks");
    assert.equal(info.turn, null);
    assert.deepEqual(info.lastTurn, ended);
  });

  it("a message channel.send types in is replied with the turn's reply", async () => {
    const t = await hookedPool();
    const s = t.pool.spawn({ name: "hub" });
    await untilActivity(t.pool, s.id, "idle");
    const replies: { chatId: string; text: string; messageIds: string[] }[] = [];
    t.hub.on("reply", (id, chatId, text, messageIds) => {
      if (id === s.id) replies.push({ chatId, text, messageIds });
    });
    const origin = { from: "test", client: null };
    const sent = ["first", "second", "third"].map((c) => t.hub.send(s.id, c, {}, origin));
    await waitFor(
      () => `three replies; saw ${JSON.stringify(replies)}`,
      () => replies.length >= 3,
    );
    assert.deepEqual(
      replies,
      sent.map((e) => ({
        chatId: e.chatId,
        text: `You said: ${e.content}`,
        messageIds: [e.messageId],
      })),
    );
    assert.ok(t.hub.history(s.id, 10).every((e) => e.state === "replied" && e.via === "pty"));
  });

  it("a message typed before the last one's turn started gets its own turn's reply", async () => {
    const t = await hookedPool();
    const s = t.pool.spawn({ name: "slow-hooks", env: { FAKE_CLAUDE_HOOK_DELAY_MS: "300" } });
    await untilActivity(t.pool, s.id, "idle");
    const watch = new Watch(t.pool, s.id);
    const replies: { text: string; messageIds: string[] }[] = [];
    t.hub.on("reply", (id, _chatId, text, messageIds) => {
      if (id === s.id) replies.push({ text, messageIds });
    });
    const origin = { from: "test", client: null };
    const sent = ["one", "two"].map((c) => t.hub.send(s.id, c, {}, origin));
    await watch.turnEnded(2);
    assert.deepEqual(
      watch.started.map((turn) => turn.prompt),
      ["one", "two"],
    );
    assert.deepEqual(
      replies,
      sent.map((e) => ({ text: `You said: ${e.content}`, messageIds: [e.messageId] })),
    );
  });

  it("messages of one chat typed during a turn get their own turns' replies", async () => {
    const t = await hookedPool();
    const s = t.pool.spawn({ name: "one-chat", env: { FAKE_CLAUDE_REPLY_DELAY_MS: "300" } });
    await untilActivity(t.pool, s.id, "idle");
    const replies: { chatId: string; text: string; messageIds: string[] }[] = [];
    t.hub.on("reply", (id, chatId, text, messageIds) => {
      if (id === s.id) replies.push({ chatId, text, messageIds });
    });
    const origin = { from: "test", client: null };
    const meta = { chat_id: "chat-1" };
    const sent = ["a", "b", "c"].map((c) => t.hub.send(s.id, c, meta, origin));
    await waitFor(
      () => `three replies; saw ${JSON.stringify(replies)}`,
      () => replies.length >= 3,
      15_000,
    );
    assert.deepEqual(
      replies,
      sent.map((e) => ({
        chatId: "chat-1",
        text: `You said: ${e.content}`,
        messageIds: [e.messageId],
      })),
    );
  });

  it("a session's own --settings is merged into the pool's, whose hooks keep reporting", async () => {
    const t = await hookedPool();
    const own = join(t.dir, "own-settings.json");
    writeFileSync(own, JSON.stringify({ permissions: { allow: ["Bash(true)"] } }));
    const s = t.pool.spawn({ name: "own-settings", args: ["--settings", own] });
    const output = new OutputRecorder(t.pool, () => s.id);
    await untilActivity(t.pool, s.id, "idle");
    await t.pool.send(s.id, "still heard");
    // The fake shows its reply only once UserPromptSubmit is answered.
    await output.waitFor(/You said: still heard/);
    assert.equal(t.pool.get(s.id).evidence, "hooks");
    const args = processArgs(t.pool.get(s.id).pid!);
    const settings = args.filter((a) => a === "--settings");
    assert.equal(settings.length, 1, "claude gets one --settings");
    const generated = JSON.parse(readFileSync(args[args.indexOf("--settings") + 1], "utf8"));
    assert.deepEqual(generated.permissions, { allow: ["Bash(true)"] });
    assert.ok(Array.isArray(generated.hooks.Stop));
  });

  it("the idle sweep stops an idle session, not a busy or a waiting one", async () => {
    const t = await hookedPool();
    const idle = t.pool.spawn({ name: "idle" });
    const busy = t.pool.spawn({ name: "busy", env: { FAKE_CLAUDE_REPLY_DELAY_MS: "60000" } });
    const waiting = t.pool.spawn({ name: "waiting", env: { FAKE_CLAUDE_DIALOG: "trust-folder" } });
    await untilActivity(t.pool, idle.id, "idle");
    await untilActivity(t.pool, busy.id, "idle");
    await t.pool.send(busy.id, "take a minute");
    await untilActivity(t.pool, busy.id, "busy");
    const atDialog = await untilActivity(t.pool, waiting.id, "waiting");
    assert.deepEqual(atDialog.waitingFor, { kind: "dialog", dialog: "trust-folder" });

    t.pool.sweepIdle(Date.now() + 5 * 3_600_000);
    await waitForStatus(t.pool, idle.id, "stopped");
    assert.match(String(t.pool.get(idle.id).reason), /^idle for \d+ min$/);
    for (const s of [busy, waiting]) assert.equal(t.pool.get(s.id).status, "running", s.name);
  });
});

describe("the screen as the fallback (FAKE_CLAUDE_HOOKS=0)", () => {
  it("sees a turn by claude's busy footer, and takes its reply from the transcript", async () => {
    const t = await hookedPool();
    const env = { FAKE_CLAUDE_HOOKS: "0", FAKE_CLAUDE_REPLY_DELAY_MS: "500" };
    const s = t.pool.spawn({ name: "screen", env });
    await untilActivity(t.pool, s.id, "idle");
    const watch = new Watch(t.pool, s.id);
    const replies: string[] = [];
    t.hub.on("reply", (id, _chatId, text) => void (id === s.id && replies.push(text)));
    const entry = t.hub.send(s.id, "seen on the screen", {}, { from: "test", client: null });
    const ended = await watch.turnEnded();
    assert.equal(t.pool.get(s.id).evidence, "screen");
    assert.deepEqual(watch.activities, ["idle", "busy", "idle"]);
    assert.deepEqual([watch.started[0].prompt, ended.outcome], ["", "done"]);
    assert.equal(ended.reply, "You said: seen on the screen");
    assert.deepEqual(replies, ["You said: seen on the screen"]);
    assert.equal(t.pool.get(s.id).lastTurn?.reply, "You said: seen on the screen");
    assert.equal(t.hub.history(s.id, 1)[0].messageId, entry.messageId);
    assert.equal(t.hub.history(s.id, 1)[0].state, "replied");
  });

  it("sees no turn at all when the busy footer never reaches a screen reading", async () => {
    const t = await hookedPool();
    const s = t.pool.spawn({ name: "quick", env: { FAKE_CLAUDE_HOOKS: "0" } });
    const output = new OutputRecorder(t.pool, () => s.id);
    await untilActivity(t.pool, s.id, "idle");
    const watch = new Watch(t.pool, s.id);
    await t.pool.send(s.id, "too quick to see");
    await output.waitFor(/You said: too quick to see/);
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the screen's next reading
    assert.deepEqual([watch.started, watch.ended, watch.activities], [[], [], ["idle"]]);
    assert.equal(t.pool.get(s.id).evidence, "screen");
  });
});

describe("which messages a turn answers", () => {
  it("a turn's prompt is a message exactly, or its first 200 characters", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 400 }), (content) => {
        fc.pre(content.trim() !== "");
        assert.ok(isPromptOf(content.slice(0, promptChars), content));
        assert.ok(!isPromptOf("", content), "a turn without a prompt is no message's");
      }),
    );
    fc.assert(
      fc.property(
        fc.string({ maxLength: 150 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        (a, more) => {
          fc.pre(a.trim() !== "" && more.trim() !== "");
          // "one" is not the prompt of "one two", nor the other way round
          assert.ok(!isPromptOf(a, `${a} ${more}`));
          assert.ok(!isPromptOf(`${a} ${more}`, a));
        },
      ),
    );
    assert.ok(isPromptOf("two lines\nhere", "two lines\r\nhere  "));
  });

  it("a turn's reply answers its own messages, not the others of their chat", () => {
    const ledger = new Ledger("s1");
    const [a, b, c] = ["a", "b", "c"].map((x) => ledger.add(x, { chat_id: "c1" }, "test"));
    for (const e of [a, b]) ledger.markDelivered(e, "pty");
    const foreign = new Ledger("s2").add("x", {}, "test");
    assert.deepEqual(ledger.replyTo([a, c, foreign], "reply to a"), [a]);
    assert.deepEqual(
      [a, b, c].map((e) => [e.state, e.replies.map((r) => r.text)]),
      [
        ["replied", ["reply to a"]],
        ["delivered", []],
        ["queued", []],
      ],
    );
    assert.deepEqual(ledger.replyTo([a], "again"), [], "a message is answered once");
  });
});
