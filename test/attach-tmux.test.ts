/** `claude-poolctl attach` in a real terminal: tmux runs it, send-keys types, capture-pane reads. */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connectUnix } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import { PoolProcess, repoRoot, startFakePool, waitFor } from "./helpers.js";

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const poolctl = join(repoRoot, "dist", "src", "bin", "claude-poolctl.js");
const server = `claude-pool-test-${process.pid}`;
const tmux = (...args: string[]) =>
  execFileSync("tmux", ["-L", server, ...args], { encoding: "utf8" });
const screen = (target = "t") => tmux("capture-pane", "-p", "-J", "-t", target);
const title = (target = "t") => tmux("display-message", "-p", "-t", target, "#{pane_title}").trim();
const attachCommand = (args: string) =>
  `CLAUDE_POOL_SOCKET=${pool.socket} ${process.execPath} ${poolctl} attach ${args}; echo "exit=$?"`;

let pool: PoolProcess;

describe("claude-poolctl attach under tmux", { skip: !hasTmux && "tmux is not installed" }, () => {
  before(async () => {
    pool = await startFakePool();
    const client = await connectUnix(pool.socket);
    await client.call<SessionInfo>("session.spawn", { name: "tty" });
    await client.call<SessionInfo>("session.spawn", { name: "stopped" });
    await client.call<SessionInfo>("session.kill", { id: "stopped" });
    client.close();
    tmux(
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      "100",
      "-y",
      "30",
      `printf '\\033]2;before attach\\007'; ${attachCommand("tty")}; sleep 60`,
    );
  });

  after(async () => {
    spawnSync("tmux", ["-L", server, "kill-server"]);
    await pool.stop();
  });

  it("draws the session's screen in the alternate screen", async () => {
    await waitFor("the fake's banner", () => /Claude Code \(fake\) v2\.1\.332/.test(screen()));
    assert.doesNotMatch(
      screen(),
      /attached to tty/,
      "the banner line is under the alternate screen",
    );
    assert.match(
      title(),
      /^attached to tty \([0-9a-f]{8}\); detach with C-\]$/,
      "so the title says it",
    );
  });

  it("forwards keys", async () => {
    tmux("send-keys", "-t", "t", "typed in tmux", "Enter");
    await waitFor("the reply", () => /You said: typed in tmux/.test(screen()));
  });

  it("forwards the window size", async () => {
    tmux("resize-window", "-t", "t", "-x", "90", "-y", "25");
    // re-ask until the resize has reached claude (SIGWINCH and input race inside it)
    await waitFor(
      "claude to see 90x25",
      () => {
        tmux("send-keys", "-t", "t", "/size", "Enter");
        return /90x25/.test(screen());
      },
      10_000,
    );
  });

  it("detaches with Ctrl-], restoring the terminal", async () => {
    tmux("send-keys", "-t", "t", "C-]");
    await waitFor("detached", () => /\[detached from tty\][\s\S]*exit=0/.test(screen()));
    assert.match(screen(), /attached to tty \([0-9a-f]{8}\); detach with C-\]/);
    assert.doesNotMatch(
      screen(),
      /You said/,
      "the session's screen is gone with the alternate screen",
    );
    assert.equal(title(), "before attach", "the title is given back");
  });

  it("refuses a stopped session (exit 1, saying so); attach --resume resumes it first", async () => {
    tmux(
      "new-session",
      "-d",
      "-s",
      "s",
      "-x",
      "100",
      "-y",
      "30",
      `${attachCommand("stopped")}; ${attachCommand("--resume stopped")}; sleep 60`,
    );
    await waitFor("the refusal", () =>
      /session stopped is stopped[\s\S]*attach --resume stopped[\s\S]*exit=1/.test(screen("s")),
    );
    await waitFor("the resumed session's banner", () =>
      /Claude Code \(fake\) v2\.1\.332/.test(screen("s")),
    );
    tmux("send-keys", "-t", "s", "resumed and typed", "Enter");
    await waitFor("the reply", () => /You said: resumed and typed/.test(screen("s")));
    tmux("send-keys", "-t", "s", "C-]");
    await waitFor("detached", () => /\[detached from stopped\][\s\S]*exit=0/.test(screen("s")));
  });
});
