import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { detectDialog } from "../src/session/dialogs.js";
import { makeHookedPool, makePool, waitFor, waitForSession, type TestPool } from "./helpers.js";

/** Screens as Claude Code 2.1.332 draws them (captured with tmux on this machine). */
const screens: [string, string][] = [
  [
    "trust-folder",
    ` Accessing workspace:

 /tmp/realclaude/work.dir

 Quick safety check: Is this a project you created or one you trust? (Like your own code, a well-known open source
 project, or work from your team). If not, take a moment to review what's in this folder first.

 ❯ No, exit
   Yes, I trust this folder`,
  ],
  [
    "api-key",
    `  Detected a custom API key in your environment

  ANTHROPIC_API_KEY: sk-ant-...xxxxxxxxxxxxxxxxxxxx

  Do you want to use this API key?

    Yes
  ❯ No (recommended)`,
  ],
  [
    "bypass-permissions",
    `  WARNING: Claude Code running in Bypass Permissions mode
  In Bypass Permissions mode, Claude Code will not ask for your approval before running potentially dangerous
  commands.
  ❯ No, exit
    Yes, I accept`,
  ],
  [
    "development-channels",
    `  WARNING: Loading development channels
  --dangerously-load-development-channels is for local channel development only. Do not use this option to run
  channels you have downloaded off the internet.
  Channels: server:foo
  ❯ 1. I am using this for local development
    2. Exit`,
  ],
  [
    "onboarding",
    ` Let's get started.
 Choose the text style that looks best with your terminal
 To change this later, run /theme
 ❯ ✔ Auto (match terminal)`,
  ],
  ["login", ` Select login method:\n ❯ 1. Claude account with subscription`],
];

describe("dialog detection", () => {
  for (const [dialog, text] of screens) {
    it(`recognises ${dialog}`, () => assert.equal(detectDialog(text.split("\n")), dialog));
  }
  it("a ready prompt is no dialog", () => {
    const ready = [" ▐▛███▛█   Claude Code v2.1.332", "❯ ", "  ⏸ manual mode on · ? for shortcuts"];
    assert.equal(detectDialog(ready), null);
  });
});

describe("blockedOn", () => {
  const pools: TestPool[] = [];
  after(async () => Promise.all(pools.map((t) => t.close())));

  it("is reported while claude waits at a dialog, stops the idle clock, and clears when answered", async () => {
    const t = makePool({ idleTimeoutMinutes: 1 });
    pools.push(t);
    const s = t.pool.spawn({ name: "asks", env: { FAKE_CLAUDE_DIALOG: "trust-folder" } });
    const blocked = await waitForSession(
      t.pool,
      s.id,
      "blocked",
      (x) => x.blockedOn === "trust-folder",
    );
    assert.equal(blocked.idleSeconds, 0);
    t.pool.sweepIdle(Date.now() + 3_600_000);
    assert.equal(t.pool.get(s.id).status, "running", "a blocked session is never idle-stopped");
    await t.pool.send(s.id, "\x1b[B", { raw: true });
    await t.pool.send(s.id, "\r", { raw: true });
    const answered = await waitForSession(t.pool, s.id, "answered", (x) => x.blockedOn === null);
    assert.equal(answered.status, "running");
    assert.match((await t.pool.find(s.id).text()).join("\n"), /Claude Code \(fake\)/);
  });

  it("keeps a message queued for a starting session out of the dialog claude draws first", async () => {
    const t = await makeHookedPool();
    pools.push(t);
    const s = t.pool.spawn({
      name: "asks-first",
      channel: false,
      env: { FAKE_CLAUDE_DIALOG: "trust-folder" },
    });
    // Queued before claude drew anything: typing it the moment claude runs would answer the
    // dialog ("No, exit" is its default) with the message's Enter.
    const entry = t.hub.send(s.id, "hello after the dialog", {}, { from: "test", client: null });
    await waitForSession(t.pool, s.id, "blocked", (x) => x.blockedOn === "trust-folder");
    assert.equal(entry.state, "queued");
    await t.pool.send(s.id, "\x1b[B", { raw: true });
    await t.pool.send(s.id, "\r", { raw: true });
    await waitFor(`the reply, message ${entry.state}`, () => entry.state === "replied");
    assert.deepEqual(
      entry.replies.map((r) => r.text),
      ["You said: hello after the dialog"],
    );
    assert.equal(t.pool.get(s.id).restarts, 0);
  });
});
