/** claude's environment, built from the pool's: the base set, inheritEnv, the session's env. */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { connectUnix } from "../src/rpc/client.js";
import { buildClaudeEnv } from "../src/session/claude-env.js";
import type { SessionInfo } from "../src/session/session.js";
import { startFakePool, waitFor } from "./helpers.js";

const poolEnv = {
  HOME: "/home/ann",
  USER: "ann",
  PATH: "/usr/bin:/bin",
  LANG: "de_DE.UTF-8",
  LC_ALL: "de_DE.UTF-8",
  TZ: "Europe/Berlin",
  XDG_RUNTIME_DIR: "/run/user/1000",
  https_proxy: "http://proxy:3128",
  NO_PROXY: "localhost",
  NODE_EXTRA_CA_CERTS: "/etc/ca.pem",
  ANTHROPIC_API_KEY: "sk-ant-1",
  CLAUDE_CONFIG_DIR: "/home/ann/.claude",
  CLAUDE_CODE_USE_BEDROCK: "1",
  DISABLE_TELEMETRY: "1",
  AWS_REGION: "eu-west-1",
  TERM: "screen-256color",
  TMUX: "/tmp/tmux-1000/default,1234,0",
  TMUX_PANE: "%3",
  STY: "1234.pts-0",
  EDITOR: "vim",
  SSH_AUTH_SOCK: "/tmp/ssh-agent",
  CLAUDECODE: "1",
  IS_SANDBOX: "1",
  CLAUDE_POOL_CONFIG: "/etc/pool.json",
  CLAUDE_POOL_SOCKET: "/run/user/1000/claude-pool/control.sock",
  NOTIFY_SOCKET: "/run/systemd/notify",
  LISTEN_FDS: "1",
  INVOCATION_ID: "abc",
  UNSET: undefined,
};
const spec = { env: {}, workingDirectory: "/work" };

describe("claude's environment", () => {
  it("keeps the base set and drops the rest of the pool's shell", () => {
    const env = buildClaudeEnv(poolEnv, [], spec, "s1");
    for (const name of [
      "HOME",
      "USER",
      "PATH",
      "LANG",
      "LC_ALL",
      "TZ",
      "XDG_RUNTIME_DIR",
      "https_proxy",
      "NO_PROXY",
      "NODE_EXTRA_CA_CERTS",
      "ANTHROPIC_API_KEY",
      "CLAUDE_CONFIG_DIR",
      "CLAUDE_CODE_USE_BEDROCK",
      "DISABLE_TELEMETRY",
      "AWS_REGION",
    ]) {
      assert.equal(env[name], poolEnv[name as keyof typeof poolEnv], name);
    }
    for (const name of [
      "TMUX",
      "TMUX_PANE",
      "STY",
      "EDITOR",
      "SSH_AUTH_SOCK",
      "CLAUDECODE",
      "IS_SANDBOX",
    ]) {
      assert.equal(env[name], undefined, name);
    }
    assert.equal(env.TERM, "xterm-256color");
    assert.equal(env.COLORTERM, "truecolor");
    assert.equal(env.CLAUDE_POOL_SESSION_ID, "s1");
    assert.equal(env.PWD, "/work");
  });

  it("inherits the names inheritEnv lists, or everything with true", () => {
    const listed = buildClaudeEnv(poolEnv, ["EDITOR", "SSH_AUTH_SOCK", "NOT_THERE"], spec, "s1");
    assert.equal(listed.EDITOR, "vim");
    assert.equal(listed.SSH_AUTH_SOCK, "/tmp/ssh-agent");
    assert.equal(listed.TMUX, undefined);
    assert.equal("NOT_THERE" in listed, false);
    const all = buildClaudeEnv(poolEnv, true, spec, "s1");
    assert.equal(all.TMUX, poolEnv.TMUX);
    assert.equal(all.STY, poolEnv.STY);
    assert.equal(all.LANG, poolEnv.LANG);
    assert.deepEqual(
      buildClaudeEnv(poolEnv, false, spec, "s1"),
      buildClaudeEnv(poolEnv, [], spec, "s1"),
    );
  });

  it("never passes systemd's variables or the pool's own, even when asked to", () => {
    for (const inherit of [true, ["NOTIFY_SOCKET", "LISTEN_FDS", "CLAUDE_POOL_SOCKET"]]) {
      const env = buildClaudeEnv(poolEnv, inherit, spec, "s1");
      for (const name of [
        "NOTIFY_SOCKET",
        "LISTEN_FDS",
        "INVOCATION_ID",
        "CLAUDE_POOL_CONFIG",
        "CLAUDE_POOL_SOCKET",
      ]) {
        assert.equal(env[name], undefined, `${name} with inheritEnv ${JSON.stringify(inherit)}`);
      }
    }
  });

  it("the session's env wins over the pool's; the pool's session id and PWD win over both", () => {
    const env = buildClaudeEnv(
      poolEnv,
      [],
      {
        workingDirectory: "/work",
        env: { LANG: "C.UTF-8", TMUX: "mine", TERM: "dumb", CLAUDE_POOL_SESSION_ID: "x" },
      },
      "s1",
    );
    assert.equal(env.LANG, "C.UTF-8");
    assert.equal(env.TMUX, "mine");
    assert.equal(env.TERM, "dumb");
    assert.equal(env.CLAUDE_POOL_SESSION_ID, "s1");
  });

  it("holds only variables of the pool's environment, the session's env, and the pool's four", () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/);
    fc.assert(
      fc.property(
        fc.dictionary(name, fc.string()),
        fc.dictionary(name, fc.string()),
        fc.oneof(fc.boolean(), fc.array(name)),
        (pool, session, inherit) => {
          const env = buildClaudeEnv(pool, inherit, { env: session, workingDirectory: "/w" }, "id");
          for (const [key, value] of Object.entries(env)) {
            if (["TERM", "COLORTERM", "CLAUDE_POOL_SESSION_ID", "PWD"].includes(key)) continue;
            assert.equal(value, Object.hasOwn(session, key) ? session[key] : pool[key], key);
          }
          for (const [key, value] of Object.entries(session)) {
            if (key !== "CLAUDE_POOL_SESSION_ID" && key !== "PWD") assert.equal(env[key], value);
          }
        },
      ),
    );
  });
});

describe("a pool started from a tmux pane", () => {
  it("hands claude neither TMUX nor TMUX_PANE unless inheritEnv names it", async () => {
    const pool = await startFakePool({ inheritEnv: ["TMUX_PANE"] }, undefined, {
      TMUX: "/tmp/tmux-1000/default,4242,0",
      TMUX_PANE: "%7",
      LANG: "C.UTF-8",
    });
    const client = await connectUnix(pool.socket);
    after(async () => {
      client.close();
      await pool.stop();
    });
    const { id } = await client.call<SessionInfo>("session.spawn", { name: "pane" });
    await waitFor("the session to run", async () => {
      const s = await client.call<SessionInfo>("session.get", { id });
      return s.status === "running";
    });
    for (const [name, expected] of [
      ["TMUX", "TMUX is unset"],
      ["TMUX_PANE", "TMUX_PANE=%7"],
      ["LANG", "LANG=C.UTF-8"],
    ]) {
      await client.call("session.send", { id, text: `/env ${name}` });
      await waitFor(`${expected} on the screen`, async () => {
        const { lines } = await client.call<{ lines: string[] }>("session.logs", { id });
        return lines.some((line) => line.includes(expected));
      });
    }
  });
});
