/**
 * claude-poolctl as a user runs it: the built binary as a child process against a pool of fake
 * claudes, over the control socket and the remote API.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { spawn as spawnPty } from "node-pty";
import { connectUnix, type RpcClient } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import { PoolProcess, repoRoot, startFakePool, tempDir, waitFor } from "./helpers.js";

const poolctl = join(repoRoot, "dist", "src", "bin", "claude-poolctl.js");
const missingSocket = join(tempDir(), "none.sock");

let pool: PoolProcess;
let url: string;
let admin: string;
let client: RpcClient;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A running claude-poolctl: what it printed so far, and its end. */
function start(args: string[], env: Record<string, string> = {}, input?: string) {
  const began = Date.now();
  const child = spawn(process.execPath, [poolctl, ...args], {
    env: {
      ...process.env,
      CLAUDE_POOL_SOCKET: pool.socket,
      CLAUDE_POOL_URL: "",
      ...env,
    },
  });
  const out = { stdout: "", stderr: "" };
  child.stdout.on("data", (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out.stderr += d.toString()));
  child.stdin.end(input);
  const done = new Promise<Run>((resolve) =>
    child.on("close", (status) => resolve({ status, ...out, ms: Date.now() - began })),
  );
  return { child, out, done };
}

const run = (args: string[], env: Record<string, string> = {}, input?: string) =>
  start(args, env, input).done;

async function runningSession(name: string): Promise<SessionInfo> {
  const s = await client.call<SessionInfo>("session.spawn", { name });
  return waitFor(`${name} running`, async () => {
    const now = await client.call<SessionInfo>("session.get", { id: s.id });
    return now.status === "running" && now;
  });
}

/** Resolves once the session's screen shows the fake's prompt (it takes input from then on). */
function untilPrompt(id: string): Promise<true> {
  return waitFor(`${id}'s prompt`, async () => {
    const { lines } = await client.call<{ lines: string[] }>("session.logs", {
      id,
    });
    return lines.some((l) => l.startsWith(">"));
  });
}

before(async () => {
  pool = await startFakePool({ stopTimeoutSeconds: 2 });
  url = /remote API: (ws:\/\/[^/\s]+)\/rpc/.exec(pool.stderr)![1];
  admin = readFileSync(join(pool.dir, "state", "claude-pool", "token"), "utf8").trim();
  client = await connectUnix(pool.socket);
});

after(async () => {
  client.close();
  await pool.stop();
});

describe("options before or after the command", () => {
  it("--url and --token before the command reach the remote pool (the README's example)", async () => {
    const listed = await run(["--url", url, "--token", admin, "list"], {
      CLAUDE_POOL_SOCKET: missingSocket,
    });
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /^ID\s+Name\s+Status/);
    const refused = await run([`--url=${url}`, "--token=bad", "status"]);
    assert.equal(refused.status, 1, "a bad token is refused, not ignored for the local pool");
    assert.match(refused.stderr, /unknown or revoked token/);
  });

  it("--socket=PATH and --json before the command apply", async () => {
    const listed = await run([`--socket=${pool.socket}`, "--json", "list"], {
      CLAUDE_POOL_SOCKET: missingSocket,
    });
    assert.equal(listed.status, 0, listed.stderr);
    assert.ok(Array.isArray(JSON.parse(listed.stdout)));
    const away = await run([`--socket=${missingSocket}`, "list"]);
    assert.equal(away.status, 3);
    assert.match(away.stderr, new RegExp(`cannot reach the pool at ${missingSocket}`));
  });

  it("the same options after the command, as --opt value or --opt=value, mean the same", async () => {
    for (const args of [
      ["list", "--json", "--socket", pool.socket],
      ["list", `--socket=${pool.socket}`, "--json"],
      ["--json", "list", "--socket", pool.socket],
    ]) {
      const listed = await run(args, { CLAUDE_POOL_SOCKET: missingSocket });
      assert.equal(listed.status, 0, `${args.join(" ")}: ${listed.stderr}`);
      assert.ok(Array.isArray(JSON.parse(listed.stdout)), args.join(" "));
    }
  });

  it("an option that cannot apply is a usage error (exit 2)", async () => {
    for (const [args, message] of [
      [["list", "--bogus"], /unknown option --bogus/],
      [["--follow", "logs", "x"], /unknown option --follow/],
      [["--json", "completion", "bash"], /--json does not apply to "completion"/],
      [["--token", "t", "list"], /--token is for a remote pool: give --url too/],
      [["--socket", pool.socket, "--url", url, "list"], /give one of them/],
      [["list", "--json=yes"], /--json takes no value/],
      [["list", "--socket"], /--socket needs a value/],
      [["list", "extra"], /"list" takes no arguments, not "extra"/],
      [["--json"], /no command given/],
    ] as const) {
      const result = await run([...args]);
      assert.equal(result.status, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /Run "claude-poolctl --help" for usage/);
    }
  });
});

describe("--timeout", () => {
  /** A server that accepts connections and never says a word. */
  async function silent(
    listen: (server: Server) => void,
  ): Promise<{ server: Server; sockets: Socket[] }> {
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => {
      server.once("listening", resolve);
      listen(server);
    });
    return { server, sockets };
  }

  it(
    "a pool that accepts and never answers: exit 3 after the default 10 s, saying so",
    { timeout: 30_000 },
    async () => {
      const path = join(tempDir(), "wedged.sock");
      const { server, sockets } = await silent((s) => s.listen(path));
      try {
        const result = await run(["status"], { CLAUDE_POOL_SOCKET: path });
        assert.equal(result.status, 3, result.stderr);
        assert.match(result.stderr, /the pool did not answer [\w.]+ within 10 s/);
        assert.match(result.stderr, /--timeout SECONDS waits longer/);
        assert.ok(result.ms >= 9_500 && result.ms < 20_000, `${result.ms} ms`);
        assert.ok(sockets.length > 0, "it connected");
      } finally {
        for (const s of sockets) s.destroy();
        server.close();
      }
    },
  );

  it(
    "--timeout SECONDS, over the socket and over a WebSocket that never upgrades",
    { timeout: 20_000 },
    async () => {
      const path = join(tempDir(), "wedged.sock");
      const unix = await silent((s) => s.listen(path));
      const tcp = await silent((s) => s.listen(0, "127.0.0.1"));
      const port = (tcp.server.address() as { port: number }).port;
      try {
        const local = await run(["status", "--timeout", "1"], {
          CLAUDE_POOL_SOCKET: path,
        });
        assert.equal(local.status, 3, local.stderr);
        assert.match(local.stderr, /did not answer [\w.]+ within 1 s/);
        assert.ok(local.ms < 5_000, `${local.ms} ms`);
        const remote = await run([
          "--timeout=1",
          "--url",
          `ws://127.0.0.1:${port}`,
          "--token",
          "x",
          "list",
        ]);
        assert.equal(remote.status, 3, remote.stderr);
        assert.match(remote.stderr, /did not answer the connection within 1 s/);
        assert.equal((await run(["list", "--timeout", "soon"])).status, 2);
      } finally {
        for (const { server, sockets } of [unix, tcp]) {
          for (const s of sockets) s.destroy();
          server.close();
        }
      }
    },
  );
});

describe("logs -f", () => {
  for (const [how, end] of [
    ["stops", (id: string) => run(["kill", id])],
    ["crashes", (id: string) => client.call("session.send", { id, text: "/crash 3" })],
    [
      "is removed",
      async (id: string) => {
        await client.call("session.kill", { id });
        await client.call("session.remove", { id });
      },
    ],
  ] as const) {
    it(
      `prints new output with \\n line ends, and ends (exit 0) when the session ${how}`,
      { timeout: 30_000 },
      async () => {
        const s = await runningSession(`follow-${how.replace(" ", "-")}`);
        await untilPrompt(s.id);
        const follow = start(["logs", "-f", s.id]);
        await waitFor("the screen so far", () => follow.out.stdout.includes(">"));
        await client.call("session.send", { id: s.id, text: "followed" });
        await waitFor(`the reply in ${JSON.stringify(follow.out.stdout)}`, () =>
          follow.out.stdout.includes("You said: followed\n"),
        );
        assert.ok(!follow.out.stdout.includes("\r"), JSON.stringify(follow.out.stdout));
        await end(s.id);
        const result = await follow.done;
        assert.equal(result.status, 0, result.stderr);
      },
    );
  }

  it("of a stopped session prints its screen and ends", { timeout: 30_000 }, async () => {
    const s = await runningSession("follow-stopped");
    await client.call("session.kill", { id: s.id });
    const result = await run(["logs", "--follow", s.id]);
    assert.equal(result.status, 0, result.stderr);
  });
});

describe("send", () => {
  it("ID - reads the message from standard input without its trailing newline", async () => {
    const s = await runningSession("stdin");
    await untilPrompt(s.id);
    const sent = await run(["send", s.id, "-"], {}, "from stdin\n");
    assert.equal(sent.status, 0, sent.stderr);
    const dir = join(pool.dir, "claude", "projects");
    const said = await waitFor("the message in the transcript", () => {
      for (const project of readdirSync(dir)) {
        const file = join(dir, project, `${s.claudeSessionId}.jsonl`);
        try {
          return readFileSync(file, "utf8")
            .trim()
            .split("\n")
            .map(
              (line) =>
                JSON.parse(line) as {
                  message: { role: string; content: unknown };
                },
            )
            .filter((e) => e.message.role === "user")
            .map((e) => e.message.content);
        } catch {
          // not this project's
        }
      }
      return undefined;
    });
    assert.deepEqual(said, ["from stdin"]);
    await client.call("session.kill", { id: s.id });
  });
});

describe("--help", () => {
  it("has no colour when piped", async () => {
    const help = await run(["--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /USAGE claude-poolctl/);
    assert.ok(!help.stdout.includes("\x1b"), JSON.stringify(help.stdout.slice(0, 200)));
    const sub = await run(["--url", url, "logs", "--help"]);
    assert.match(sub.stdout, /USAGE claude-poolctl logs \[OPTIONS\] <ID>/);
  });

  it("has colour on a terminal, unless NO_COLOR is set", async () => {
    const onTerminal = (env: Record<string, string>) =>
      new Promise<string>((resolve) => {
        const term = spawnPty(process.execPath, [poolctl, "--help"], {
          env: {
            ...process.env,
            NO_COLOR: "",
            CI: "",
            TEST: "",
            TERM: "xterm-256color",
            ...env,
          } as Record<string, string>,
        });
        let out = "";
        term.onData((d) => (out += d));
        term.onExit(() => resolve(out));
      });
    const cyan = "\x1b[36m";
    assert.ok((await onTerminal({})).includes(cyan), "colour on a terminal");
    assert.ok(!(await onTerminal({ NO_COLOR: "true" })).includes(cyan), "none with NO_COLOR");
  });
});

describe("status ID, restart, remove --force", () => {
  it("status ID prints every field of one session, its activity in words; --json the session", async () => {
    const s = await runningSession("detailed");
    const details = await run(["status", "detailed"]);
    assert.equal(details.status, 0, details.stderr);
    assert.match(details.stdout, new RegExp(`^id: +${s.id}$`, "m"));
    assert.match(details.stdout, /^name: +detailed$/m);
    assert.match(details.stdout, /^status: +running$/m);
    assert.match(details.stdout, new RegExp(`^claudeSessionId: +${s.claudeSessionId}$`, "m"));
    await waitFor("detailed at its prompt", async () => {
      const now = await client.call<SessionInfo>("session.get", { id: s.id });
      return now.activity === "idle";
    });
    const idle = (await run(["status", "detailed"])).stdout;
    assert.match(idle, /^activity: +idle$/m);
    assert.match(idle, /^waitingFor: +-$/m);
    assert.match(idle, /^evidence: +(hooks|screen)$/m);
    const json = JSON.parse((await run(["status", "--json", s.id])).stdout) as SessionInfo;
    assert.equal(json.pid, s.pid);
    const missing = await run(["status", "nonexistent"]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no session "nonexistent"/);
  });

  it("restart ID stops the session and resumes its conversation", async () => {
    const s = await runningSession("restarted");
    const restarted = await run(["restart", "restarted"]);
    assert.equal(restarted.status, 0, restarted.stderr);
    assert.match(
      restarted.stdout,
      new RegExp(`^restarted ${s.id} \\(restarted\\), (starting|running)`),
    );
    const now = await client.call<SessionInfo>("session.get", { id: s.id });
    assert.notEqual(now.pid, s.pid, "a new claude");
    assert.equal(now.claudeSessionId, s.claudeSessionId, "the same conversation");
    const stopped = await run(["kill", s.id]);
    assert.equal(stopped.status, 0, stopped.stderr);
    assert.match(
      (await run(["restart", s.id])).stdout,
      /^restarted .*\(restarted\)/,
      "a stopped one starts",
    );
    await client.call("session.kill", { id: s.id });
  });

  it("remove --force stops a running session, then removes it; without it, it is refused", async () => {
    const s = await runningSession("forced");
    const refused = await run(["remove", "forced"]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /stop it first/);
    const removed = await run(["remove", "--force", "forced"]);
    assert.equal(removed.status, 0, removed.stderr);
    assert.equal(removed.stdout, `removed ${s.id}\n`);
    assert.ok(!(await client.call<SessionInfo[]>("session.list")).some((x) => x.id === s.id));
  });
});

describe("transcript", () => {
  it("prints the conversation: who, when, what; -n the last entries; --json the result", async () => {
    const s = await runningSession("talked");
    await untilPrompt(s.id);
    const empty = await run(["transcript", "talked"]);
    assert.equal(empty.status, 0, empty.stderr);
    assert.equal(empty.stdout, "");
    assert.match(empty.stderr, /no conversation yet/);
    for (const text of ["first question", "second question"]) {
      await client.call("session.send", { id: s.id, text });
      await waitFor(`the reply to ${text}`, async () => {
        const { entries } = await client.call<{ entries: unknown[] }>("session.transcript", {
          id: s.id,
        });
        return entries.length >= (text === "first question" ? 2 : 4);
      });
    }
    const time = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`;
    const all = await run(["transcript", "talked"]);
    assert.equal(all.status, 0, all.stderr);
    assert.match(
      all.stdout,
      new RegExp(
        `^you · ${time}\nfirst question\n\nclaude · ${time}\nYou said: first question\n\n` +
          `you · ${time}\nsecond question\n\nclaude · ${time}\nYou said: second question\n$`,
      ),
    );
    const last = await run(["transcript", "-n", "1", s.id]);
    assert.match(last.stdout, new RegExp(`^claude · ${time}\nYou said: second question\n$`));
    const json = JSON.parse((await run(["--json", "transcript", "talked", "--limit=2"])).stdout);
    assert.equal(json.id, s.id);
    assert.equal(json.claudeSessionId, s.claudeSessionId);
    assert.deepEqual(
      json.entries.map((e: { role: string; text: string }) => [e.role, e.text]),
      [
        ["user", "second question"],
        ["assistant", "You said: second question"],
      ],
    );
    await client.call("session.kill", { id: s.id });
  });

  it("follows the CLI's conventions: exit 1 for an unknown session, 2 for a bad -n", async () => {
    const missing = await run(["transcript", "nonexistent"]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no session "nonexistent"/);
    for (const args of [
      ["transcript"],
      ["transcript", "x", "-n", "0"],
      ["transcript", "x", "-n", "two"],
    ]) {
      const bad = await run(args);
      assert.equal(bad.status, 2, `${args.join(" ")}: ${bad.stderr}`);
      assert.match(bad.stderr, /Run "claude-poolctl --help" for usage/);
    }
  });
});
