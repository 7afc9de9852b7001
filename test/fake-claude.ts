#!/usr/bin/env node
/**
 * A stand-in for the interactive `claude` CLI (Claude Code 2.1.332), for tests that point the
 * pool's `claudePath` at it. It mimics what the pool can observe of the real one: argument
 * parsing and its error messages, the refusals (no TTY, root with skipped permissions, unknown or
 * busy sessions), `<config>/sessions/<pid>.json`, transcripts under `<config>/projects/`, a raw-mode
 * line editor with bracketed paste, and its exit paths. Replies simply echo the user's text.
 *
 * Its `--settings` hooks are called as the real one calls them (see fake-claude-hooks.ts): a
 * submitted message posts UserPromptSubmit, MessageDisplay with the reply, then Stop; a channel
 * message's turn posts PreToolUse and PostToolUse around each tool call, MessageDisplay and Stop;
 * /clear and each way out post SessionEnd. Each waits for the hook's answer; turns run one after
 * another, input typed meanwhile waiting its turn.
 *
 * A line `TOOL <name> <json arguments>` calls that MCP tool (see fake-claude-mcp.ts) and replies
 * with its result. Test hooks, typed as a line: /exit, /crash [code], /segv, /hang, /ignore-sigterm, /clear,
 * /flood <bytes>, /flood-erase <bytes> (erase-screen sequences), /env NAME, /args, /size, /hog
 * (allocates memory until killed), /spawn-child [stubborn] (a child that, stubborn, ignores
 * SIGTERM and SIGHUP).
 * Environment: FAKE_CLAUDE_START_DELAY_MS, FAKE_CLAUDE_DRAW_DELAY_MS (session file written, terminal
 * still cooked),
 * FAKE_CLAUDE_EXIT_AFTER_MS (+ FAKE_CLAUDE_EXIT_CODE or FAKE_CLAUDE_EXIT_SIGNAL),
 * FAKE_CLAUDE_IGNORE_SIGTERM=1, FAKE_CLAUDE_IGNORE_SIGHUP=1, FAKE_CLAUDE_HANG=1,
 * FAKE_CLAUDE_NO_BRACKETED_PASTE=1, FAKE_CLAUDE_DIALOG=trust-folder|development-channels,
 * FAKE_CLAUDE_FLOOD_BYTES, FAKE_CLAUDE_HOOKS=0 (ignore the hooks of --settings) and
 * FAKE_CLAUDE_HOOK_DELAY_MS (see fake-claude-hooks.ts),
 * FAKE_CLAUDE_REPLY_DELAY_MS (each reply takes this long, claude's busy footer "esc to interrupt"
 * on the screen meanwhile), FAKE_CLAUDE_CHANNELS=off|refused, FAKE_CLAUDE_CHANNELS_TOAST_MS and
 * FAKE_CLAUDE_NOTICES_HIDDEN=1 (see fake-claude-mcp.ts).
 */
import { spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { FakeHooks } from "./fake-claude-hooks.js";
import {
  channelMode,
  channelServers,
  FakeMcpHost,
  refusalNotice,
  type ToolCall,
} from "./fake-claude-mcp.js";

const VERSION = "2.1.332";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOUBLE_INTERRUPT_MS = 2000;
const BRACKETED_PASTE_ON = "\x1b[?2004h";
const BRACKETED_PASTE_OFF = "\x1b[?2004l";

// ---------------------------------------------------------------------------------------------
// Arguments (Commander-like: variadic options swallow every following argument not starting
// with "-", which is how `--channels a b "prompt"` eats the prompt in the real CLI).

type Arity = "flag" | "one" | "many";
interface OptionSpec {
  arity: Arity;
  usage: string;
}

const OPTIONS: Record<string, OptionSpec> = {
  "--version": { arity: "flag", usage: "-v, --version" },
  "--session-id": { arity: "one", usage: "--session-id <uuid>" },
  "--resume": { arity: "one", usage: "-r, --resume <id>" },
  "--name": { arity: "one", usage: "-n, --name <name>" },
  "--model": { arity: "one", usage: "--model <model>" },
  "--dangerously-skip-permissions": { arity: "flag", usage: "--dangerously-skip-permissions" },
  "--plugin-dir": { arity: "one", usage: "--plugin-dir <dir>" },
  "--mcp-config": { arity: "many", usage: "--mcp-config <configs...>" },
  "--settings": { arity: "one", usage: "--settings <file-or-json>" },
  "--channels": { arity: "many", usage: "--channels <entries...>" },
  "--dangerously-load-development-channels": {
    arity: "many",
    usage: "--dangerously-load-development-channels <entries...>",
  },
};
const SHORT_OPTIONS: Record<string, string> = {
  "-v": "--version",
  "-r": "--resume",
  "-n": "--name",
};

/** What the fake acts on; the other options are only checked for shape (and shown by /args). */
interface Options {
  version: boolean;
  sessionId?: string;
  resume?: string;
  name?: string;
  skipPermissions: boolean;
  mcpConfigs: string[];
  settings?: string;
  /** Entries of --channels, and of --dangerously-load-development-channels. */
  channelEntries: string[];
  devChannelEntries: string[];
  prompt?: string;
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

const looksLikeOption = (arg: string): boolean => arg.length > 1 && arg.startsWith("-");

/** Collects option values by long name, plus positionals, failing like Commander does. */
function tokenize(argv: readonly string[]): {
  values: Map<string, string[]>;
  positionals: string[];
} {
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!looksLikeOption(arg)) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const given = eq < 0 ? arg : arg.slice(0, eq);
    const name = SHORT_OPTIONS[given] ?? given;
    const spec = OPTIONS[name];
    if (spec === undefined) fail(`error: unknown option '${arg}'`);
    const found: string[] = eq < 0 ? [] : [arg.slice(eq + 1)];
    if (spec.arity !== "flag" && found.length === 0) {
      if (i + 1 >= argv.length) fail(`error: option '${spec.usage}' argument missing`);
      found.push(argv[++i]);
    }
    while (spec.arity === "many" && i + 1 < argv.length && !looksLikeOption(argv[i + 1])) {
      found.push(argv[++i]);
    }
    values.set(name, [...(values.get(name) ?? []), ...found]);
  }
  return { values, positionals };
}

function parseArgs(argv: readonly string[]): Options {
  const { values, positionals } = tokenize(argv);
  if (positionals.length > 1) {
    fail(`error: too many arguments. Expected 1 argument but got ${positionals.length}.`);
  }
  const last = (name: string): string | undefined => values.get(name)?.at(-1);
  const sessionId = last("--session-id");
  if (sessionId !== undefined && !UUID.test(sessionId)) {
    fail("Error: Invalid session ID. Must be a valid UUID.");
  }
  return {
    version: values.has("--version"),
    sessionId,
    resume: last("--resume"),
    name: last("--name"),
    skipPermissions: values.has("--dangerously-skip-permissions"),
    mcpConfigs: values.get("--mcp-config") ?? [],
    settings: last("--settings"),
    channelEntries: values.get("--channels") ?? [],
    devChannelEntries: values.get("--dangerously-load-development-channels") ?? [],
    prompt: positionals[0],
  };
}

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) fail(`Error: ${name} must be a non-negative number`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Files under the config dir.

interface SessionRecord {
  pid: number;
  sessionId: string;
  cwd: string;
  startedAt: number;
  procStart: string;
  version: string;
  kind: "interactive";
  entrypoint: "cli";
  name?: string;
}

interface TranscriptEntry {
  type: "user" | "assistant";
  sessionId: string;
  message: { role: "user" | "assistant"; content: unknown };
  timestamp: string;
}

const configDir = (): string => process.env.CLAUDE_CONFIG_DIR || path.join(os.homedir(), ".claude");

const sessionFilePath = (): string => path.join(configDir(), "sessions", `${process.pid}.json`);

function transcriptPath(sessionId: string): string {
  const slug = process.cwd().replace(/[^A-Za-z0-9]/g, "-");
  return path.join(configDir(), "projects", slug, `${sessionId}.jsonl`);
}

/** Field 22 (starttime, in clock ticks since boot) of /proc/self/stat; comm may hold spaces. */
function procStart(): string {
  const stat = fs.readFileSync("/proc/self/stat", "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[22 - 3];
}

let sessionFileWritten = false;

function writeSessionFile(record: SessionRecord): void {
  const file = sessionFilePath();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(record));
  fs.renameSync(`${file}.tmp`, file);
  sessionFileWritten = true;
}

function removeSessionFile(): void {
  if (sessionFileWritten) fs.rmSync(sessionFilePath(), { force: true });
  sessionFileWritten = false;
}

function appendTranscript(entry: TranscriptEntry): void {
  const file = transcriptPath(entry.sessionId);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, `${JSON.stringify(entry)}\n`);
}

/** Picks the session id like the real CLI, refusing unknown resumes and busy ids. */
function chooseSessionId(opts: Options): string {
  if (opts.resume !== undefined) {
    const file = transcriptPath(opts.resume);
    if (!fs.existsSync(file)) fail(`No conversation found with session ID: ${opts.resume}`);
    const messages = fs.readFileSync(file, "utf8").split("\n").filter(Boolean).length;
    process.stdout.write(`Resumed conversation ${opts.resume} (${messages} messages)\r\n`);
    return opts.resume;
  }
  if (opts.sessionId !== undefined && fs.existsSync(transcriptPath(opts.sessionId))) {
    fail(`Error: Session ID ${opts.sessionId} is already in use.`);
  }
  return opts.sessionId ?? randomUUID();
}

// ---------------------------------------------------------------------------------------------
// Terminal input: keys and bracketed pastes, tolerant of sequences split across reads.

const PASTE_START = "\x1b[200~";
const PASTE_END = "\x1b[201~";
/* eslint-disable no-control-regex -- matching terminal escape sequences is the point */
const CSI = /^\x1b\[[0-?]*[ -/]*[@-~]/;
const CSI_PREFIX = /^\x1b(\[[0-?]*[ -/]*)?$/;
/* eslint-enable no-control-regex */

type InputEvent = { kind: "key"; key: string } | { kind: "paste"; text: string };

/** Length of the longest proper prefix of `marker` that `text` ends with. */
function partialSuffixLength(text: string, marker: string): number {
  for (let n = Math.min(text.length, marker.length - 1); n > 0; n--) {
    if (marker.startsWith(text.slice(-n))) return n;
  }
  return 0;
}

const ARROWS = ["\x1b[A", "\x1b[B"];

class InputDecoder {
  private pending = "";
  private paste: string | undefined;

  feed(chunk: string): InputEvent[] {
    this.pending += chunk;
    const events: InputEvent[] = [];
    while (this.pending !== "" && this.take(events));
    return events;
  }

  /** Consumes one unit of input; false when what is left is an incomplete sequence. */
  private take(events: InputEvent[]): boolean {
    if (this.paste !== undefined) return this.takePaste(events);
    if (!this.pending.startsWith("\x1b")) {
      const [key] = Array.from(this.pending.slice(0, 2));
      this.pending = this.pending.slice(key.length);
      events.push({ kind: "key", key });
      return true;
    }
    const sequence = CSI.exec(this.pending)?.[0];
    if (sequence === undefined) {
      if (CSI_PREFIX.test(this.pending)) return false;
      this.pending = this.pending.slice(1); // a lone Escape: ignored
      return true;
    }
    this.pending = this.pending.slice(sequence.length);
    if (sequence === PASTE_START) this.paste = "";
    else if (ARROWS.includes(sequence)) events.push({ kind: "key", key: sequence });
    return true; // other sequences (focus, function keys) are ignored
  }

  private takePaste(events: InputEvent[]): boolean {
    const pasted = this.paste ?? "";
    const end = this.pending.indexOf(PASTE_END);
    if (end < 0) {
      const cut = this.pending.length - partialSuffixLength(this.pending, PASTE_END);
      this.paste = pasted + this.pending.slice(0, cut);
      this.pending = this.pending.slice(cut);
      return false;
    }
    events.push({ kind: "paste", text: pasted + this.pending.slice(0, end) });
    this.paste = undefined;
    this.pending = this.pending.slice(end + PASTE_END.length);
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// The interactive session.

const FLOOD_LINE = `flood ${"0123456789abcdefghijklmnopqrstuvwxyz".repeat(2)}\n`;
const FLOOD_CHUNK = FLOOD_LINE.repeat(Math.ceil(65536 / FLOOD_LINE.length));
const ERASE_SCREEN = "\x1b[2J";
const ERASE_CHUNK = ERASE_SCREEN.repeat(65536 / ERASE_SCREEN.length);

const toTerminal = (text: string): string => text.replace(/\n/g, "\r\n");

function write(text: string): void {
  process.stdout.write(text);
}

/**
 * Writes exactly `bytes` bytes of printable lines (ASCII, "\n"-terminated), or with `erase` that
 * many rounded up to whole erase-screen sequences (slow for a terminal to parse).
 */
function flood(bytes: number, erase = false): void {
  const chunk = erase ? ERASE_CHUNK : FLOOD_CHUNK;
  const total = erase ? Math.ceil(bytes / ERASE_SCREEN.length) * ERASE_SCREEN.length : bytes;
  for (let left = total; left > 0; left -= chunk.length) {
    write(chunk.slice(0, Math.min(left, chunk.length)));
  }
  write("\r\nflood done\r\n");
}

function ignoreSigterm(): void {
  process.removeAllListeners("SIGTERM");
  process.on("SIGTERM", () => write("ignoring SIGTERM\r\n"));
}

/** claude's footer while a turn runs: what the pool's screen reading takes for busy. */
const BUSY_FOOTER = "✻ Thinking… (esc to interrupt)";
const ERASE_LINE = "\r\x1b[2K";

type SessionEndReason = "clear" | "prompt_input_exit" | "other";

class FakeClaude {
  private readonly startedAt = Date.now();
  private readonly decoder = new InputDecoder();
  private line = "";
  private lastInterrupt = -Infinity;
  private hung = false;
  private hungUp = false;
  private quitting = false;
  /** Turns and commands, one after another. */
  private work: Promise<void> = Promise.resolve();
  private mcp: FakeMcpHost | null = null;
  /** The prompt (a submitted line, or a channel message) being handled, or the last one. */
  private promptId: string | null = null;
  private bracketedPaste = false;
  private dialog: {
    choice: number;
    options: [string, string];
    accept: number;
    refusal: string;
  } | null = null;

  constructor(
    private readonly opts: Options,
    private sessionId: string,
    private readonly hooks: FakeHooks | null,
  ) {}

  start(): void {
    // Handlers first: whoever sees the session file may signal at once.
    process.on("exit", () => this.cleanUp());
    process.on("SIGTERM", () => void this.quit(128 + os.constants.signals.SIGTERM, "other"));
    process.on("SIGHUP", () => this.hangUp());
    process.on("SIGINT", () => this.interrupt());
    if (process.env.FAKE_CLAUDE_IGNORE_SIGTERM === "1") ignoreSigterm();
    this.publishSession();
    const channels = [...this.opts.channelEntries, ...this.opts.devChannelEntries];
    this.mcp = new FakeMcpHost(this.opts.mcpConfigs, channelServers(channels), {
      show: (line) => write(`${toTerminal(line)}\r\n`),
      toolCall: (server) => this.toolCall(server),
      turn: (server, work) => this.enqueue(() => this.channelTurn(server, work)),
    });
    this.mcp.start();
    this.scheduleExit();
    if (process.env.FAKE_CLAUDE_HANG === "1") return this.hang();
    // The session file comes first; the terminal turns raw only when the interface draws.
    const drawDelayMs = envNumber("FAKE_CLAUDE_DRAW_DELAY_MS");
    if (drawDelayMs === undefined) this.draw();
    else setTimeout(() => this.draw(), drawDelayMs);
  }

  private draw(): void {
    if (!this.enterTerminal()) return;
    const dialog = process.env.FAKE_CLAUDE_DIALOG;
    if (dialog === "trust-folder") this.showTrustDialog();
    else if (dialog === "development-channels") this.showDevelopmentChannelsDialog();
    else this.showPrompt();
  }

  /** Claude Code 2.1.332's first-run folder trust dialog; its default answer is "No, exit". */
  private showTrustDialog(): void {
    write(
      toTerminal(
        ` Accessing workspace:\n\n ${process.cwd()}\n\n` +
          " Quick safety check: Is this a project you created or one you trust? (Like your own code, a well-known open source\n" +
          " project, or work from your team). If not, take a moment to review what's in this folder first.\n\n",
      ),
    );
    this.showDialog(
      ["No, exit", "Yes, I trust this folder"],
      1,
      "Claude Code didn't start because this folder isn't trusted.",
    );
  }

  /** The warning before --dangerously-load-development-channels; its default is to go on. */
  private showDevelopmentChannelsDialog(): void {
    write(
      toTerminal(
        " WARNING: Loading development channels\n\n" +
          " --dangerously-load-development-channels is for local channel development only.\n\n",
      ),
    );
    this.showDialog(["I am using this for local development", "Exit"], 0, "");
  }

  /** A choice of two; Enter on `accept` goes on to the prompt, on the other exits with `refusal`. */
  private showDialog(options: [string, string], accept: number, refusal: string): void {
    this.dialog = { choice: 0, options, accept, refusal };
    this.drawDialogChoices();
  }

  private drawDialogChoices(): void {
    const dialog = this.dialog!;
    const lines = dialog.options.map((o, i) => ` ${i === dialog.choice ? "❯" : " "} ${o}`);
    write(`\x1b[s${lines.join("\r\n")}\r\n\r\n Enter to confirm · Esc to cancel\x1b[u`);
  }

  private answerDialog(key: string): void {
    const dialog = this.dialog!;
    if (key === "\x1b[A" || key === "\x1b[B") {
      dialog.choice = key === "\x1b[B" ? 1 : 0;
      this.drawDialogChoices();
    } else if (key === "\r") {
      this.dialog = null;
      if (dialog.choice !== dialog.accept) {
        write(`\x1b[2J\x1b[H${dialog.refusal}\r\n`);
        process.exit(1);
      }
      write("\x1b[2J\x1b[H");
      this.showPrompt();
    }
  }

  private showPrompt(): void {
    write(`Claude Code (fake) v${VERSION} session ${this.sessionId}\r\n`);
    if (channelMode() === "refused") this.showChannelsRefused();
    const floodBytes = envNumber("FAKE_CLAUDE_FLOOD_BYTES");
    if (floodBytes !== undefined) flood(floodBytes);
    write("> ");
    if (this.opts.prompt !== undefined) {
      this.insert(this.opts.prompt);
      this.submit();
    }
  }

  /** Claude Code's notice when it cannot hear channels (an API key login, no claude.ai one). */
  private showChannelsRefused(): void {
    const { channelEntries, devChannelEntries } = this.opts;
    const entries = [...channelEntries, ...devChannelEntries];
    if (entries.length === 0) return;
    if (process.env.FAKE_CLAUDE_NOTICES_HIDDEN === "1") {
      write("  1 more notice hidden (ctrl+o to expand)\r\n");
      return;
    }
    const flag =
      devChannelEntries.length === 0
        ? "--channels"
        : channelEntries.length === 0
          ? "--dangerously-load-development-channels"
          : "Channels";
    write(`▎ ${flag} ignored (${entries.join(", ")})\r\n▎ ${refusalNotice}\r\n`);
  }

  private publishSession(): void {
    writeSessionFile({
      pid: process.pid,
      sessionId: this.sessionId,
      cwd: process.cwd(),
      startedAt: this.startedAt,
      procStart: procStart(),
      version: VERSION,
      kind: "interactive",
      entrypoint: "cli",
      name: this.opts.name,
    });
  }

  private scheduleExit(): void {
    const afterMs = envNumber("FAKE_CLAUDE_EXIT_AFTER_MS");
    if (afterMs === undefined) return;
    const code = envNumber("FAKE_CLAUDE_EXIT_CODE") ?? 1;
    const signal = process.env.FAKE_CLAUDE_EXIT_SIGNAL;
    if (signal !== undefined && !(signal in os.constants.signals)) {
      fail(`Error: FAKE_CLAUDE_EXIT_SIGNAL: unknown signal ${signal}`);
    }
    // Killing itself with SIGSEGV/SIGKILL skips the exit handlers, like a real crash.
    setTimeout(() => {
      if (signal === undefined) process.exit(code);
      process.kill(process.pid, signal);
    }, afterMs);
  }

  /** Sets the terminal up for the interface; false when it went away first. */
  private enterTerminal(): boolean {
    // A closed PTY shows up as EOF/EIO before (or instead of) SIGHUP; one closed before the
    // interface draws fails setRawMode.
    const hangUp = (): void => this.hangUp();
    process.stdin.on("end", hangUp).on("error", hangUp);
    process.stdout.on("error", hangUp);
    if (this.hungUp) return false;
    process.stdin.setRawMode(true);
    if (this.hungUp) return false;
    // FAKE_CLAUDE_NO_BRACKETED_PASTE=1 plays a program that never asks for bracketed paste.
    if (process.env.FAKE_CLAUDE_NO_BRACKETED_PASTE !== "1") {
      this.bracketedPaste = true;
      write(BRACKETED_PASTE_ON);
    }
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk: string) => this.onInput(chunk));
    return true;
  }

  /** The terminal went away; FAKE_CLAUDE_IGNORE_SIGHUP=1 plays a process that outlives it. */
  private hangUp(): void {
    if (process.env.FAKE_CLAUDE_IGNORE_SIGHUP !== "1") {
      void this.quit(128 + os.constants.signals.SIGHUP, "other");
      return;
    }
    if (this.hungUp) return;
    this.hungUp = true;
    process.stdin.removeAllListeners("data");
    process.stdin.pause();
    setInterval(() => {}, 1 << 30);
  }

  /** Node itself restores the termios on exit; the terminal modes we set are ours to undo. */
  private cleanUp(): void {
    removeSessionFile();
    if (this.bracketedPaste) write(BRACKETED_PASTE_OFF);
  }

  /** Stays alive but reads and prints nothing; signals still work. */
  private hang(): void {
    this.hung = true;
    process.stdin.removeAllListeners("data");
    process.stdin.pause();
    setInterval(() => {}, 1 << 30); // a paused stdin does not keep the event loop alive
  }

  private onInput(chunk: string): void {
    for (const event of this.decoder.feed(chunk)) {
      if (this.hung) return;
      if (event.kind === "paste") this.insert(event.text.replace(/\r\n?/g, "\n"));
      else this.onKey(event.key);
    }
  }

  private onKey(key: string): void {
    if (this.dialog) this.answerDialog(key);
    else if (key === "\r") this.submit();
    else if (key === "\x7f" || key === "\b") this.backspace();
    else if (key === "\x03") this.interrupt();
    else if (key === "\x04" && this.line === "") void this.quit(0, "prompt_input_exit");
    else if (key >= " ") this.insert(key);
  }

  private insert(text: string): void {
    this.line += text;
    write(toTerminal(text));
  }

  private backspace(): void {
    const chars = Array.from(this.line);
    if (chars.pop() === undefined) return;
    this.line = chars.join("");
    write("\b \b");
  }

  /** Ctrl-C (or SIGINT): clears a non-empty line, else exits when pressed twice within 2 s. */
  private interrupt(): void {
    if (this.hung) return;
    if (this.line !== "") {
      this.line = "";
      write("\r\n> ");
      return;
    }
    if (Date.now() - this.lastInterrupt < DOUBLE_INTERRUPT_MS) {
      void this.quit(0, "prompt_input_exit");
      return;
    }
    this.lastInterrupt = Date.now();
    write("\r\nPress Ctrl-C again to exit\r\n> ");
  }

  private submit(): void {
    const text = this.line;
    this.line = "";
    if (text.trim() === "") return;
    write("\r\n");
    this.enqueue(async () => {
      this.promptId = randomUUID();
      const [command, ...rest] = text.trim().split(/\s+/);
      if (!(await this.runCommand(command, rest.join(" ")))) await this.reply(text);
      if (!this.hung) write("> ");
    });
  }

  /** Runs `step` after the turns and commands before it. */
  private enqueue(step: () => Promise<void>): void {
    this.work = this.work
      .then(step)
      .catch((err: Error) => write(`fake claude: ${err.message}\r\n`));
  }

  private async reply(text: string): Promise<void> {
    await this.callHook("UserPromptSubmit", {
      permission_mode: this.permissionMode(),
      prompt: text,
    });
    this.record({ role: "user", content: text });
    await this.think();
    const toolReply = (await this.mcp?.runTool(text)) ?? null;
    await this.answer(toolReply ?? `You said: ${text}`);
  }

  /**
   * A channel message's turn: no prompt was typed, so no UserPromptSubmit; its tool calls (the
   * channel server's tools, `mcp__<server>__<tool>`) are reported before and after they run.
   */
  private async channelTurn(
    server: string,
    work: (tool: ToolCall) => Promise<string>,
  ): Promise<void> {
    this.promptId = randomUUID();
    const last = await work(this.toolCall(server));
    await this.answer(last);
  }

  /** A call of an MCP tool of `server` (`mcp__<server>__<tool>`), reported to the hooks around it. */
  private toolCall(server: string): ToolCall {
    return async (name, input, call) => {
      const tool = {
        permission_mode: this.permissionMode(),
        effort: { level: "medium" },
        tool_name: `mcp__${server}__${name}`,
        tool_input: input,
      };
      const toolUseId = `toolu_01${randomBytes(5).toString("hex")}`;
      await this.callHook("PreToolUse", { ...tool, tool_use_id: toolUseId });
      const startedAt = Date.now();
      const response = await call();
      await this.callHook("PostToolUse", {
        ...tool,
        tool_response: response,
        tool_use_id: toolUseId,
        duration_ms: Date.now() - startedAt,
      });
      return response;
    };
  }

  /** Shows the turn's reply and ends the turn with it. */
  private async answer(text: string): Promise<void> {
    this.record({ role: "assistant", content: [{ type: "text", text }] });
    write(`● ${toTerminal(text)}\r\n`);
    await this.callHook("MessageDisplay", {
      turn_id: randomUUID(),
      message_id: randomUUID(),
      index: 0,
      final: true,
      delta: text,
    });
    await this.callHook("Stop", {
      permission_mode: this.permissionMode(),
      effort: { level: "medium" },
      stop_hook_active: false,
      last_assistant_message: text,
      background_tasks: [],
      session_crons: [],
    });
  }

  /** FAKE_CLAUDE_REPLY_DELAY_MS of claude's busy footer on the screen. */
  private async think(): Promise<void> {
    const delayMs = envNumber("FAKE_CLAUDE_REPLY_DELAY_MS") ?? 0;
    if (delayMs === 0) return;
    write(BUSY_FOOTER);
    await sleep(delayMs);
    write(ERASE_LINE);
  }

  private permissionMode(): string {
    return this.opts.skipPermissions ? "bypassPermissions" : "default";
  }

  /** Posts the hooks of `event` with claude's common fields first, and waits for their answers. */
  private async callHook(event: string, fields: Record<string, unknown>): Promise<void> {
    if (this.hooks === null || !this.hooks.has(event)) return;
    // claude puts the turn's mode and effort before the event's name, its own fields after it
    const { permission_mode: mode, effort, ...own } = fields;
    await this.hooks.post({
      session_id: this.sessionId,
      transcript_path: transcriptPath(this.sessionId),
      cwd: process.cwd(),
      ...(this.promptId === null ? {} : { prompt_id: this.promptId }),
      ...(mode === undefined ? {} : { permission_mode: mode }),
      ...(effort === undefined ? {} : { effort }),
      hook_event_name: event,
      ...own,
    });
  }

  /** Leaves as claude does: SessionEnd first (cut short after 1.5 s), then the exit. */
  private async quit(code: number, reason: SessionEndReason): Promise<void> {
    if (this.quitting) return;
    this.quitting = true;
    await this.callHook("SessionEnd", { reason });
    process.exit(code);
  }

  private record(message: TranscriptEntry["message"]): void {
    appendTranscript({
      type: message.role,
      sessionId: this.sessionId,
      message,
      timestamp: new Date().toISOString(),
    });
  }

  /** Runs a test hook; false when `command` is none, so the line is an ordinary message. */
  private async runCommand(command: string, arg: string): Promise<boolean> {
    switch (command) {
      case "/exit":
        await this.quit(0, "prompt_input_exit");
        return true;
      case "/crash":
        return process.exit(/^\d+$/.test(arg) ? Number(arg) : 3);
      case "/segv":
        // Node leaves a sent SIGSEGV at its default action: death by signal, no exit handlers.
        process.kill(process.pid, "SIGSEGV");
        return true;
      case "/hang":
        this.hang();
        return true;
      case "/ignore-sigterm":
        ignoreSigterm();
        write("SIGTERM handler installed\r\n");
        return true;
      case "/clear":
        await this.callHook("SessionEnd", { reason: "clear" });
        this.sessionId = randomUUID();
        this.publishSession();
        write(`(new session ${this.sessionId})\r\n`);
        return true;
      case "/flood":
        flood(Number(arg) || 0);
        return true;
      case "/flood-erase":
        flood(Number(arg) || 0, true);
        return true;
      case "/env":
        write(`${arg}${arg in process.env ? `=${process.env[arg]}` : " is unset"}\r\n`);
        return true;
      case "/args":
        write(`${JSON.stringify(process.argv.slice(2))}\r\n`);
        return true;
      case "/size":
        write(`${process.stdout.columns}x${process.stdout.rows}\r\n`);
        return true;
      case "/hog":
        write("allocating memory until something stops me\r\n");
        hogMemory();
        return true;
      case "/spawn-child":
        spawnSleeper(arg === "stubborn", (pid) => write(`child ${pid}\r\n`));
        return true;
      default:
        return false;
    }
  }
}

/** Touches 16 MiB more memory every turn of the event loop, forever. */
function hogMemory(): void {
  const hoard: Buffer[] = [];
  const grow = () => {
    hoard.push(Buffer.alloc(16 << 20, 1));
    setImmediate(grow);
  };
  grow();
}

/** A child process, like a tool claude runs; calls back with its pid once it is set up. */
function spawnSleeper(stubborn: boolean, started: (pid: number) => void): void {
  if (!stubborn) {
    started(spawn("sleep", ["600"], { stdio: "ignore" }).pid ?? -1);
    return;
  }
  const script =
    'for (const s of ["SIGTERM", "SIGHUP"]) process.on(s, () => {});' +
    'process.stdout.write("ready\\n"); setInterval(() => {}, 1 << 30);';
  const child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "ignore"] });
  child.stdout.once("data", () => {
    child.stdout.destroy();
    started(child.pid ?? -1);
  });
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.version) {
    process.stdout.write(`${VERSION} (Claude Code)\n`);
    return;
  }
  if (opts.skipPermissions && process.getuid?.() === 0 && process.env.IS_SANDBOX !== "1") {
    fail(
      "--dangerously-skip-permissions cannot be used with root/sudo privileges for security reasons",
    );
  }
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    fail(
      "Error: Input must be provided either through stdin or as a prompt argument when using --print",
    );
  }
  let hooks: FakeHooks | null = null;
  if (opts.settings !== undefined && process.env.FAKE_CLAUDE_HOOKS !== "0") {
    try {
      hooks = FakeHooks.fromSettings(opts.settings);
    } catch (err) {
      fail((err as Error).message);
    }
  }
  await sleep(envNumber("FAKE_CLAUDE_START_DELAY_MS") ?? 0);
  new FakeClaude(opts, chooseSessionId(opts), hooks).start();
}

await main();
