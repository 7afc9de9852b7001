import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { after, afterEach, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pty from "node-pty";
import { processState } from "../src/proc.js";

const FAKE = fileURLToPath(new URL("./fake-claude.js", import.meta.url));
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
const DEADLINE_MS = 3000;
const SIGNALS = os.constants.signals;

// ---------------------------------------------------------------------------------------------
// Helpers

/** Polls `probe` until it returns something other than undefined/false, or fails at a deadline. */
async function until<T>(
  probe: () => T | undefined | false,
  describeFailure: () => string,
  timeoutMs = DEADLINE_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms: ${describeFailure()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface Exit {
  exitCode: number;
  signal?: number;
}

/** A fake claude running in a real PTY, with its output accumulated. */
class Session {
  readonly term: pty.IPty;
  output = "";
  exit: Exit | undefined;

  constructor(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
    this.term = pty.spawn(FAKE, args, { name: "xterm-256color", cols: 100, rows: 30, cwd, env });
    this.term.onData((data) => (this.output += data));
    this.term.onExit((exit) => (this.exit = exit));
  }

  /** Output with the PTY's CR/LF translation undone, as the fake wrote it (modulo "\r\n"). */
  get text(): string {
    return this.output.replace(/\r/g, "");
  }

  async waitFor(pattern: RegExp): Promise<RegExpMatchArray> {
    return until(
      () => this.output.match(pattern) ?? undefined,
      () => `no ${pattern} in output ${JSON.stringify(this.output)}`,
    );
  }

  async waitExit(): Promise<Exit> {
    return until(
      () => this.exit,
      () => `process still running; output ${JSON.stringify(this.output)}`,
    );
  }

  /** Types a line and submits it with Enter. */
  send(line: string): void {
    this.term.write(`${line}\r`);
  }
}

/** Temp dirs and processes of one test, cleaned up afterwards. */
class Sandbox {
  readonly configDir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-claude-config-"));
  readonly cwd = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "fake-claude-cwd.x-")));
  private readonly sessions: Session[] = [];

  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, CLAUDE_CONFIG_DIR: this.configDir, ...extra };
    for (const name of Object.keys(env)) {
      if (name.startsWith("FAKE_CLAUDE_") && !(name in extra)) delete env[name];
    }
    if (!("IS_SANDBOX" in extra)) delete env.IS_SANDBOX;
    return env;
  }

  spawn(args: string[] = [], extraEnv: NodeJS.ProcessEnv = {}): Session {
    const session = new Session(args, this.env(extraEnv), this.cwd);
    this.sessions.push(session);
    return session;
  }

  /** Spawns and waits for the banner; returns the session and its id. */
  async start(
    args: string[] = [],
    extraEnv: NodeJS.ProcessEnv = {},
  ): Promise<{ session: Session; id: string }> {
    const session = this.spawn(args, extraEnv);
    const [, id] = await session.waitFor(/session (\S+)\r\r\n/);
    return { session, id };
  }

  sessionFile(pid: number): string {
    return path.join(this.configDir, "sessions", `${pid}.json`);
  }

  readSessionFile(pid: number): Record<string, unknown> {
    return JSON.parse(fs.readFileSync(this.sessionFile(pid), "utf8"));
  }

  transcript(id: string): string {
    const slug = this.cwd.replace(/[^A-Za-z0-9]/g, "-");
    return path.join(this.configDir, "projects", slug, `${id}.jsonl`);
  }

  readTranscript(id: string): Array<{ type: string; sessionId: string; message: unknown }> {
    const lines = fs.readFileSync(this.transcript(id), "utf8").trim().split("\n");
    return lines.map((line) => JSON.parse(line));
  }

  dispose(): void {
    for (const session of this.sessions) {
      if (session.exit === undefined) session.term.kill("SIGKILL");
    }
    fs.rmSync(this.configDir, { recursive: true, force: true });
    fs.rmSync(this.cwd, { recursive: true, force: true });
  }
}

let sandbox: Sandbox;

before(() => fs.chmodSync(FAKE, 0o755));
afterEach(() => sandbox.dispose());

function newSandbox(): Sandbox {
  sandbox = new Sandbox();
  return sandbox;
}

const run = promisify(execFile);

/** Runs the fake without a TTY (pipes), resolving with its exit code and output. */
async function runWithoutTty(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(FAKE, args, { env: sandbox.env(), cwd: sandbox.cwd });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

// ---------------------------------------------------------------------------------------------

describe("fake claude without a TTY", () => {
  test("--version works and exits 0, run directly or through node", async () => {
    newSandbox();
    const result = await runWithoutTty(["--version"]);
    assert.deepEqual(result, { code: 0, stdout: "2.1.332 (Claude Code)\n", stderr: "" });
    const viaNode = await run(process.execPath, [FAKE, "--version"]);
    assert.equal(viaNode.stdout, "2.1.332 (Claude Code)\n");
  });

  test("refuses to run interactively", async () => {
    newSandbox();
    const result = await runWithoutTty([]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      "Error: Input must be provided either through stdin or as a prompt argument when using --print\n",
    );
    assert.equal(fs.existsSync(path.join(sandbox.configDir, "sessions")), false);
  });

  test("rejects unknown options, bad session ids and missing values", async () => {
    newSandbox();
    assert.deepEqual(await runWithoutTty(["--bogus"]), {
      code: 1,
      stdout: "",
      stderr: "error: unknown option '--bogus'\n",
    });
    const badId = await runWithoutTty(["--session-id", "not-a-uuid"]);
    assert.equal(badId.stderr, "Error: Invalid session ID. Must be a valid UUID.\n");
    const missing = await runWithoutTty(["--model"]);
    assert.equal(missing.stderr, "error: option '--model <model>' argument missing\n");
  });

  test("root refusal of --dangerously-skip-permissions, unless IS_SANDBOX=1", async (t) => {
    if (process.getuid?.() !== 0) return t.skip("not running as root");
    const sb = newSandbox();
    const refused = await runWithoutTty(["--dangerously-skip-permissions"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cannot be used with root\/sudo privileges/);

    const { session } = await sb.start(["--dangerously-skip-permissions"], { IS_SANDBOX: "1" });
    session.send("/exit");
    assert.equal((await session.waitExit()).exitCode, 0);
  });
});

describe("fake claude in a PTY", () => {
  test("session file lifecycle, transcript and terminal modes", async () => {
    const sb = newSandbox();
    const { session, id } = await sb.start(["--name", "worker 1"]);
    assert.match(id, UUID);
    assert.ok(session.output.startsWith("\x1b[?2004h"), "enables bracketed paste first");

    const pid = session.term.pid;
    const record = sb.readSessionFile(pid);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    assert.deepEqual(record, {
      pid,
      sessionId: id,
      cwd: sb.cwd,
      startedAt: record.startedAt,
      procStart: stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19],
      version: "2.1.332",
      kind: "interactive",
      entrypoint: "cli",
      name: "worker 1",
    });
    assert.equal(typeof record.startedAt, "number");
    assert.ok(Math.abs(Number(record.startedAt) - Date.now()) < 60_000);

    assert.equal(fs.existsSync(sb.transcript(id)), false, "no transcript before a message");
    session.send("hello there");
    await session.waitFor(/● You said: hello there\r\r\n> /);
    assert.deepEqual(
      sb.readTranscript(id).map((entry) => [entry.type, entry.sessionId]),
      [
        ["user", id],
        ["assistant", id],
      ],
    );
    assert.deepEqual(sb.readTranscript(id)[0].message, { role: "user", content: "hello there" });

    session.send("/exit");
    assert.deepEqual(await session.waitExit(), { exitCode: 0, signal: 0 });
    await session.waitFor(new RegExp(escapeRegExp("\x1b[?2004l")));
    assert.equal(fs.existsSync(sb.sessionFile(pid)), false);
  });

  test("--session-id is honoured, and refused once its transcript exists", async () => {
    const sb = newSandbox();
    const id = "0b5e2a34-6d1c-4a43-9d8e-6a1b2c3d4e5f";
    const { session, id: shown } = await sb.start(["--session-id", id]);
    assert.equal(shown, id);
    assert.equal(sb.readSessionFile(session.term.pid).sessionId, id);
    session.send("first");
    await session.waitFor(/You said: first/);
    session.send("/exit");
    await session.waitExit();

    const again = sb.spawn(["--session-id", id]);
    assert.equal((await again.waitExit()).exitCode, 1);
    await again.waitFor(new RegExp(`Error: Session ID ${id} is already in use\\.`));
  });

  test("--resume of an unknown id fails", async () => {
    const sb = newSandbox();
    const id = "11111111-2222-4333-8444-555555555555";
    const session = sb.spawn(["--resume", id]);
    assert.equal((await session.waitExit()).exitCode, 1);
    await session.waitFor(new RegExp(`No conversation found with session ID: ${id}`));
  });

  test("--resume of a known id continues its transcript", async () => {
    const sb = newSandbox();
    const first = await sb.start();
    first.session.send("remember this");
    await first.session.waitFor(/You said: remember this/);
    first.session.send("/exit");
    await first.session.waitExit();

    const { session, id } = await sb.start(["-r", first.id]);
    assert.equal(id, first.id);
    assert.match(session.output, new RegExp(`Resumed conversation ${first.id} \\(2 messages\\)`));
    assert.equal(sb.readSessionFile(session.term.pid).sessionId, first.id);
    session.send("and this");
    await session.waitFor(/You said: and this/);
    assert.equal(sb.readTranscript(first.id).length, 4);
  });

  test("/clear switches to a new session id and rewrites the session file", async () => {
    const sb = newSandbox();
    const { session, id } = await sb.start();
    session.send("/clear");
    const [, newId] = await session.waitFor(/\(new session (\S+)\)/);
    assert.match(newId, UUID);
    assert.notEqual(newId, id);
    assert.equal(sb.readSessionFile(session.term.pid).sessionId, newId);
    session.send("after clear");
    await session.waitFor(/You said: after clear/);
    assert.equal(sb.readTranscript(newId).length, 2);
  });

  test("/crash exits with its code after removing the session file", async () => {
    const sb = newSandbox();
    const { session } = await sb.start();
    session.send("/crash");
    assert.equal((await session.waitExit()).exitCode, 3);
    assert.equal(fs.existsSync(sb.sessionFile(session.term.pid)), false);

    const other = await sb.start();
    other.session.send("/crash 42");
    assert.equal((await other.session.waitExit()).exitCode, 42);
  });

  test("/segv dies by SIGSEGV and leaves the session file behind", async () => {
    const sb = newSandbox();
    const { session } = await sb.start();
    session.send("/segv");
    assert.equal((await session.waitExit()).signal, SIGNALS.SIGSEGV);
    assert.equal(fs.existsSync(sb.sessionFile(session.term.pid)), true);
  });

  test("a \\r inside a bracketed paste does not submit", async () => {
    const sb = newSandbox();
    const { session, id } = await sb.start();
    session.term.write("\x1b[200~line one\rline two\x1b[2");
    session.term.write("01~ tail");
    await session.waitFor(/line two tail/);
    assert.doesNotMatch(session.output, /You said/);
    session.term.write("\r");
    await session.waitFor(/● You said: line one\r\r\nline two tail/);
    assert.deepEqual(sb.readTranscript(id)[0].message, {
      role: "user",
      content: "line one\nline two tail",
    });
  });

  test("backspace edits and escape sequences are ignored", async () => {
    const sb = newSandbox();
    const { session } = await sb.start();
    session.term.write("helxy\x7f\x7flo\x1b[A\x1b[D");
    session.term.write("\r");
    await session.waitFor(/You said: hello\r/);
  });

  test("a positional prompt is submitted, unless --channels swallowed it", async () => {
    const sb = newSandbox();
    const plain = await sb.start(["--model", "opus", "hello"]);
    await plain.session.waitFor(/You said: hello/);

    const args = [
      "--channels",
      "plugin:a@b",
      "server:c",
      "hello",
      "--dangerously-load-development-channels",
      "server:dev",
      "--name",
      "n1",
    ];
    const { session } = await sb.start(args);
    session.send("/args");
    await session.waitFor(new RegExp(escapeRegExp(JSON.stringify(args))));
    assert.doesNotMatch(session.output, /You said/);
    assert.equal(sb.readSessionFile(session.term.pid).name, "n1");
  });

  test("/flood writes exactly that many bytes", async () => {
    const sb = newSandbox();
    const { session } = await sb.start();
    const bytes = 200_003;
    session.send(`/flood ${bytes}`);
    await session.waitFor(/flood done\r\r\n> $/);
    const [, flooded] = session.text.match(/\/flood \d+\n([^]*)\nflood done/) ?? [];
    assert.equal(flooded.length, bytes);
    assert.match(flooded, /^(flood [0-9a-z]+\n)+flood [0-9a-z]*$/);
  });

  test("/flood-erase writes that many bytes of whole erase-screen sequences", async () => {
    const sb = newSandbox();
    const { session } = await sb.start();
    session.send("/flood-erase 200003");
    await session.waitFor(/flood done\r\r\n> $/);
    const [, flooded] = session.text.match(/\/flood-erase \d+\n([^]*)\nflood done/) ?? [];
    assert.equal(flooded, "\x1b[2J".repeat(50_001));
  });

  test("/env and /size report the environment and the window size", async () => {
    const sb = newSandbox();
    const { session } = await sb.start([], { FAKE_CLAUDE_PROBE: "x y" });
    session.send("/env FAKE_CLAUDE_PROBE");
    await session.waitFor(/FAKE_CLAUDE_PROBE=x y\r/);
    session.send("/env NOT_SET_ANYWHERE");
    await session.waitFor(/NOT_SET_ANYWHERE is unset/);
    session.term.resize(120, 40);
    // SIGWINCH and the typed command race inside the fake (as in the real CLI): ask until it
    // has caught up.
    await until(
      () => {
        if (/120x40/.test(session.output)) return true;
        session.send("/size");
        return false;
      },
      () => `no 120x40 in output ${JSON.stringify(session.output)}`,
    );
  });

  test("Ctrl-C twice exits 0; Ctrl-D on an empty line exits 0", async () => {
    const sb = newSandbox();
    const { session } = await sb.start();
    session.term.write("\x03");
    await session.waitFor(/Press Ctrl-C again to exit/);
    session.term.write("\x03");
    assert.equal((await session.waitExit()).exitCode, 0);

    const other = await sb.start();
    other.session.term.write("x\x04");
    await other.session.waitFor(/> x$/);
    other.session.term.write("\x7f\x04");
    assert.equal((await other.session.waitExit()).exitCode, 0);
    assert.equal(fs.existsSync(sb.sessionFile(other.session.term.pid)), false);
  });

  test("SIGTERM and SIGHUP exit 128+n and remove the session file", async () => {
    const sb = newSandbox();
    for (const signal of ["SIGTERM", "SIGHUP"] as const) {
      const { session } = await sb.start();
      session.term.kill(signal);
      assert.equal((await session.waitExit()).exitCode, 128 + SIGNALS[signal]);
      assert.equal(fs.existsSync(sb.sessionFile(session.term.pid)), false);
    }
  });

  test("/ignore-sigterm and /hang keep the process alive", async () => {
    const sb = newSandbox();
    const { session } = await sb.start();
    session.send("/ignore-sigterm");
    await session.waitFor(/SIGTERM handler installed/);
    session.send("/hang");
    await session.waitFor(/\/hang\r\r\n$/);
    session.term.kill("SIGTERM");
    await session.waitFor(/ignoring SIGTERM/);
    session.send("/exit");
    await new Promise((resolve) => setTimeout(resolve, 100)); // proving a negative needs a wait
    assert.equal(session.exit, undefined);
    assert.doesNotMatch(session.output, /\/exit/);
    assert.equal(fs.existsSync(sb.sessionFile(session.term.pid)), true);
  });
});

describe("fake claude behaviours set by environment", () => {
  test("FAKE_CLAUDE_EXIT_AFTER_MS with a code or a signal", async () => {
    const sb = newSandbox();
    const byCode = sb.spawn([], { FAKE_CLAUDE_EXIT_AFTER_MS: "50", FAKE_CLAUDE_EXIT_CODE: "5" });
    assert.equal((await byCode.waitExit()).exitCode, 5);
    assert.equal(fs.existsSync(sb.sessionFile(byCode.term.pid)), false);

    const bySignal = sb.spawn([], {
      FAKE_CLAUDE_EXIT_AFTER_MS: "50",
      FAKE_CLAUDE_EXIT_SIGNAL: "SIGKILL",
    });
    assert.equal((await bySignal.waitExit()).signal, SIGNALS.SIGKILL);
    assert.equal(fs.existsSync(sb.sessionFile(bySignal.term.pid)), true);
  });

  test("FAKE_CLAUDE_HANG writes the session file but no banner", async () => {
    const sb = newSandbox();
    const session = sb.spawn([], { FAKE_CLAUDE_HANG: "1", FAKE_CLAUDE_START_DELAY_MS: "100" });
    const file = sb.sessionFile(session.term.pid);
    await until(
      () => fs.existsSync(file),
      () => `no ${file}`,
    );
    assert.doesNotMatch(session.output, /Claude Code/);
    session.term.kill("SIGTERM");
    assert.equal((await session.waitExit()).exitCode, 128 + SIGNALS.SIGTERM);
    assert.equal(fs.existsSync(file), false);
  });

  test("FAKE_CLAUDE_IGNORE_SIGHUP outlives its terminal, even one closed before it draws", async () => {
    const sb = newSandbox();
    const env = { FAKE_CLAUDE_IGNORE_SIGHUP: "1" };
    const { session: drawn } = await sb.start([], env);
    const early = sb.spawn([], { ...env, FAKE_CLAUDE_DRAW_DELAY_MS: "100" });
    await until(
      () => fs.existsSync(sb.sessionFile(early.term.pid)),
      () => "no session file",
    );
    // like the pool dying: the PTY's master closes, and the kernel hangs up the terminal
    for (const s of [drawn, early]) (s.term as pty.IPty & { destroy(): void }).destroy();
    await new Promise((resolve) => setTimeout(resolve, 500)); // past the draw: a negative needs a wait
    for (const s of [drawn, early]) {
      assert.ok(!["Z", null].includes(processState(s.term.pid)), `pid ${s.term.pid} runs`);
    }
  });

  test("FAKE_CLAUDE_IGNORE_SIGTERM and FAKE_CLAUDE_FLOOD_BYTES", async () => {
    const sb = newSandbox();
    const { session } = await sb.start([], {
      FAKE_CLAUDE_IGNORE_SIGTERM: "1",
      FAKE_CLAUDE_FLOOD_BYTES: "1000",
    });
    await session.waitFor(/flood done\r\r\n> $/);
    session.term.kill("SIGTERM");
    await session.waitFor(/ignoring SIGTERM/);
    session.send("still here");
    await session.waitFor(/You said: still here/);
  });
});

/** A hook endpoint: records each POST, and answers it at once unless its event is held. */
class HookSink {
  readonly calls: { headers: IncomingHttpHeaders; body: Record<string, unknown> }[] = [];
  private readonly server: Server;
  private readonly held = new Map<string, (() => void)[]>();
  private readonly holding = new Set<string>();
  url = "";

  constructor() {
    this.server = createServer((req, res) => {
      let text = "";
      req.on("data", (chunk: Buffer) => (text += chunk.toString()));
      req.on("end", () => {
        const body = JSON.parse(text) as Record<string, unknown>;
        this.calls.push({ headers: req.headers, body });
        const answer = () => res.writeHead(200, { "content-type": "application/json" }).end("{}");
        const event = String(body.hook_event_name);
        if (this.holding.has(event))
          this.held.set(event, [...(this.held.get(event) ?? []), answer]);
        else answer();
      });
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  hold(event: string): void {
    this.holding.add(event);
  }

  release(event: string): void {
    this.holding.delete(event);
    for (const answer of this.held.get(event) ?? []) answer();
    this.held.delete(event);
  }

  events(): string[] {
    return this.calls.map((c) => String(c.body.hook_event_name));
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }

  /** `--settings` JSON with this sink as the http hook of each of `events`. */
  settings(events: string[]): string {
    const hook = {
      type: "http",
      url: this.url,
      headers: { "x-test-secret": "s3cret" },
      timeout: 10,
    };
    return JSON.stringify({
      hooks: Object.fromEntries(events.map((e) => [e, [{ hooks: [hook] }]])),
    });
  }
}

/** The first input claude 2.1.332 sent for each hook event (test/fixtures/hooks-2.1.332.jsonl). */
const recordedHooks = new Map<string, Record<string, unknown>>();
for (const line of fs
  .readFileSync(
    fileURLToPath(new URL("../../test/fixtures/hooks-2.1.332.jsonl", import.meta.url)),
    "utf8",
  )
  .trim()
  .split("\n")) {
  const input = JSON.parse(line) as Record<string, unknown>;
  const event = String(input.hook_event_name);
  if (!recordedHooks.has(event)) recordedHooks.set(event, input);
}

describe("fake claude's hooks", () => {
  const allEvents = ["UserPromptSubmit", "MessageDisplay", "Stop", "SessionEnd"];
  let sink: HookSink;
  before(async () => {
    sink = await new HookSink().listen();
  });
  afterEach(() => sink.calls.splice(0));
  after(() => sink.close());

  test("posts a message's hooks and SessionEnd at /exit, in the shapes claude records", async () => {
    const sb = newSandbox();
    const file = path.join(sb.cwd, "settings.json");
    fs.writeFileSync(file, sink.settings(allEvents));
    const { session, id } = await sb.start(["--settings", file]);
    session.send("hello world");
    await until(
      () => sink.calls.length === 3,
      () => `hooks so far: ${sink.events().join(", ")}`,
    );
    session.send("/exit");
    assert.equal((await session.waitExit()).exitCode, 0);
    assert.deepEqual(sink.events(), allEvents);
    for (const { headers, body } of sink.calls) {
      const event = String(body.hook_event_name);
      assert.deepEqual(Object.keys(body), Object.keys(recordedHooks.get(event)!), event);
      assert.equal(headers["x-test-secret"], "s3cret");
      assert.equal(headers["content-type"], "application/json");
      assert.equal(body.session_id, id);
      assert.equal(body.transcript_path, sb.transcript(id));
      assert.equal(body.cwd, sb.cwd);
      assert.match(String(body.prompt_id), UUID);
    }
    const [submit, display, stop, end] = sink.calls.map((c) => c.body);
    assert.equal(submit.prompt, "hello world");
    assert.equal(submit.permission_mode, "default");
    assert.deepEqual([display.delta, display.final], ["You said: hello world", true]);
    assert.equal(stop.last_assistant_message, "You said: hello world");
    assert.equal(display.prompt_id, submit.prompt_id);
    assert.equal(stop.prompt_id, submit.prompt_id);
    assert.notEqual(end.prompt_id, submit.prompt_id, "/exit was a prompt of its own");
    assert.equal(end.reason, "prompt_input_exit");
  });

  test("waits for each hook's answer before it goes on", async () => {
    const sb = newSandbox();
    const { session } = await sb.start(["--settings", sink.settings(allEvents)]);
    sink.hold("UserPromptSubmit");
    try {
      session.send("wait for me");
      await until(
        () => sink.events().includes("UserPromptSubmit"),
        () => "no UserPromptSubmit",
      );
      await new Promise((resolve) => setTimeout(resolve, 100)); // proving a negative needs a wait
      assert.doesNotMatch(session.output, /You said/);
    } finally {
      sink.release("UserPromptSubmit");
    }
    await session.waitFor(/You said: wait for me/);
    await until(
      () => sink.events().includes("Stop"),
      () => `no Stop in ${sink.events().join(", ")}`,
    );
    sink.hold("SessionEnd");
    try {
      session.term.kill("SIGTERM");
      await until(
        () => sink.events().includes("SessionEnd"),
        () => "no SessionEnd",
      );
      assert.equal(session.exit, undefined, "it waits for SessionEnd too");
    } finally {
      sink.release("SessionEnd");
    }
    assert.equal((await session.waitExit()).exitCode, 128 + SIGNALS.SIGTERM);
    assert.deepEqual(sink.events(), [...allEvents.slice(0, 3), "SessionEnd"]);
    assert.equal(sink.calls.at(-1)?.body.reason, "other");
  });

  test("posts only the events the file has hooks for; FAKE_CLAUDE_HOOKS=0 ignores them", async () => {
    const sb = newSandbox();
    const { session } = await sb.start(["--settings", sink.settings(["Stop"])]);
    session.send("only stop");
    await until(
      () => sink.calls.length === 1,
      () => "no Stop",
    );
    session.send("/exit");
    await session.waitExit();
    assert.deepEqual(sink.events(), ["Stop"]);

    const { session: deaf } = await sb.start(["--settings", sink.settings(allEvents)], {
      FAKE_CLAUDE_HOOKS: "0",
    });
    deaf.send("nobody listens");
    await deaf.waitFor(/You said: nobody listens/);
    deaf.send("/exit");
    await deaf.waitExit();
    assert.deepEqual(sink.events(), ["Stop"]);
  });

  test("refuses a settings file that is not there, or not a regular file", async () => {
    const sb = newSandbox();
    const missing = path.join(sb.cwd, "missing.json");
    const session = sb.spawn(["--settings", missing]);
    assert.equal((await session.waitExit()).exitCode, 1);
    assert.match(
      session.text,
      new RegExp(`Error: Settings file not found: ${escapeRegExp(missing)}`),
    );
    const device = sb.spawn(["--settings", "/dev/null"]);
    assert.equal((await device.waitExit()).exitCode, 1);
    assert.match(
      device.text,
      /Error: Cannot use settings file \(Not a regular file \(device, FIFO, or socket\)\): \/dev\/null/,
    );
  });

  test("FAKE_CLAUDE_REPLY_DELAY_MS shows the busy footer while it thinks", async () => {
    const sb = newSandbox();
    const { session } = await sb.start([], { FAKE_CLAUDE_REPLY_DELAY_MS: "200" });
    session.send("take your time");
    await session.waitFor(/esc to interrupt/);
    assert.doesNotMatch(session.output, /You said/);
    // the footer's line is erased before the reply
    await session.waitFor(new RegExp(escapeRegExp("esc to interrupt)\r\x1b[2K● You said: take")));
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
