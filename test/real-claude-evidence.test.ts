/**
 * Conversation evidence with the real claude: a pool process (as systemd runs it) whose sessions
 * report Claude Code's hooks, against the API stand-in, logged in with an API key (so claude
 * refuses the pool's channel, as it does for most users).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { LedgerEntry } from "../src/channel/ledger.js";
import { connectUnix, type RpcClient } from "../src/rpc/client.js";
import type { EndedTurn } from "../src/session/evidence.js";
import type { SessionInfo } from "../src/session/session.js";
import type { TranscriptEntry } from "../src/session/transcript.js";
import { FakeAnthropic, lastUserText, newToolResults } from "./fake-anthropic.js";
import { PoolProcess, repoRoot, tempDir, waitFor } from "./helpers.js";
import {
  claudeEnv,
  realClaude,
  seedClaudeDir,
  skipReason,
  startupMs,
} from "./real-claude-support.js";

const skip = skipReason("real claude evidence tests");
const poolctl = join(repoRoot, "bin", "claude-poolctl");

interface Signal {
  method: string;
  params: Record<string, unknown>;
}

class RealPoolProcess {
  readonly signals: Signal[] = [];
  private constructor(
    readonly dir: string,
    readonly api: FakeAnthropic,
    readonly process: PoolProcess,
    readonly client: RpcClient,
  ) {
    client.on("notification", (method, params) => this.signals.push({ method, params }));
  }

  static async start(config: Record<string, unknown> = {}): Promise<RealPoolProcess> {
    const api = await FakeAnthropic.start();
    // Any message "bash: CMD" makes claude run CMD with its Bash tool.
    api.respond((req) => {
      const command = /^bash: (.*)$/s.exec(lastUserText(req))?.[1];
      if (command === undefined || newToolResults(req).length > 0) return undefined;
      return { toolUses: [{ name: "Bash", input: { command, description: "Run the command" } }] };
    });
    const dir = tempDir();
    const work = join(dir, "work");
    const claudeDir = join(dir, "claude");
    seedClaudeDir(claudeDir, [work]);
    // The user's own hooks, which must keep running beside the pool's.
    const userHook = { type: "command", command: `touch ${join(dir, "user-hook-ran")}` };
    writeFileSync(
      join(claudeDir, "settings.json"),
      JSON.stringify({ hooks: { UserPromptSubmit: [{ hooks: [userHook] }] } }),
    );
    writeFileSync(
      join(dir, "pool.json"),
      JSON.stringify({
        claudePath: realClaude,
        apiPort: 0,
        systemd: "off",
        stopTimeoutSeconds: 5,
        ...config,
        defaults: {
          workingDirectory: work,
          args: ["--permission-mode", "default"],
          env: claudeEnv(api, claudeDir, join(dir, "home")),
        },
      }),
    );
    mkdirSync(work, { recursive: true });
    const process = new PoolProcess(dir, ["--config", join(dir, "pool.json")]);
    await process.ready();
    const client = await connectUnix(process.socket);
    await client.call("pool.subscribe", {
      signals: [
        "session.changed",
        "turn.started",
        "turn.delta",
        "turn.ended",
        "channel.reply",
        "permission.request",
        "permission.resolved",
      ],
    });
    return new RealPoolProcess(dir, api, process, client);
  }

  get work(): string {
    return join(this.dir, "work");
  }

  call<T>(method: string, params: object = {}): Promise<T> {
    return this.client.call<T>(method, params);
  }

  session(id: string): Promise<SessionInfo> {
    return this.call<SessionInfo>("session.get", { id });
  }

  /** Spawns a session and waits until claude is at its prompt. */
  async idleSession(name: string): Promise<SessionInfo> {
    const spawned = await this.call<SessionInfo>("session.spawn", { name });
    return this.until(spawned.id, (s) => s.activity === "idle", startupMs);
  }

  until(id: string, test: (s: SessionInfo) => boolean, timeoutMs = 15_000): Promise<SessionInfo> {
    let last: SessionInfo | null = null;
    return waitFor(
      () => `session ${id} to match ${test}; it is ${JSON.stringify(last)}`,
      async () => {
        last = await this.session(id);
        return test(last) ? last : undefined;
      },
      timeoutMs,
    );
  }

  signal(method: string, test: (p: Record<string, unknown>) => boolean = () => true) {
    return waitFor(
      () => `signal ${method}; got ${this.signals.map((s) => s.method).join(", ")}`,
      () => this.signals.find((s) => s.method === method && test(s.params))?.params,
    );
  }

  /** Runs claude-poolctl without blocking this process (which reads the pool's log). */
  poolctl(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const env = { ...process.env, CLAUDE_POOL_SOCKET: this.process.socket };
      execFile(poolctl, args, { env, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({
          status: err ? (typeof err.code === "number" ? err.code : null) : 0,
          stdout,
          stderr,
        }),
      );
    });
  }

  async close(): Promise<void> {
    this.client.close();
    await this.process.stop();
    await this.api.close();
  }
}

describe("conversation evidence with the real claude", { skip }, () => {
  let t: RealPoolProcess;
  before(async () => {
    t = await RealPoolProcess.start({ permissionTimeoutSeconds: 60 });
  });
  after(() => t?.close());

  it("chat --message prints the reply with an API-key login, and a turn is idle → busy → idle", async () => {
    const s = await t.idleSession("chat");
    assert.equal(s.evidence, "screen", "no hook has reported before the first turn");
    const chat = await t.poolctl(["chat", s.id, "--message", "hello there"]);
    assert.equal(chat.status, 0, chat.stderr);
    assert.equal(chat.stdout.trim(), "echo: hello there");
    assert.ok(existsSync(join(t.dir, "user-hook-ran")), "the user's own hook ran too");
    const replied = await t.signal("channel.reply", (p) => p.id === s.id);
    assert.equal(replied.text, "echo: hello there");
    const [entry] = await t.call<LedgerEntry[]>("channel.history", { id: s.id });
    assert.equal(entry.state, "replied");
    assert.equal(entry.via, "pty", "claude refuses the channel without a claude.ai login");
    assert.deepEqual(replied.messageIds, [entry.messageId]);

    // A slow turn: busy while it streams, idle after, with the reply in lastTurn and turn.ended.
    t.api.script([{ text: "a slow answer", streamMs: 3000 }]);
    await t.call("session.send", { id: s.id, text: "take your time" });
    const busy = await t.until(s.id, (x) => x.activity === "busy");
    assert.equal(busy.evidence, "hooks");
    assert.equal(busy.turn?.prompt, "take your time");
    assert.equal(busy.idleSeconds, 0, "a busy session is not idle");
    const idle = await t.until(s.id, (x) => x.activity === "idle");
    assert.equal(idle.lastTurn?.outcome, "done");
    assert.equal(idle.lastTurn?.reply, "a slow answer");
    const ended = await t.signal("turn.ended", (p) => (p.turn as EndedTurn).id === busy.turn?.id);
    assert.equal((ended.turn as EndedTurn).reply, "a slow answer");
    const deltas = t.signals.filter(
      (x) => x.method === "turn.delta" && x.params.turnId === busy.turn?.id,
    );
    assert.ok(deltas.length > 0, "the reply streamed as turn.delta");
    const started = t.signals.findIndex((x) => x.method === "turn.started" && x.params.id === s.id);
    assert.ok(started >= 0);
  });

  it("relays a permission prompt to an approve client: allow runs the tool, deny does not", async () => {
    const s = await t.idleSession("perm");
    const allowed = join(t.work, "allowed");
    await t.call("session.send", { id: s.id, text: `bash: touch ${allowed}` });
    const request = await t.signal(
      "permission.request",
      (p) => p.id === s.id && p.source === "hook",
    );
    assert.equal(request.toolName, "Bash");
    assert.equal(request.inputPreview, `touch ${allowed}`);
    const waiting = await t.until(s.id, (x) => x.activity === "waiting");
    assert.deepEqual(waiting.waitingFor, {
      kind: "permission",
      requestId: request.requestId,
      toolName: "Bash",
      inputPreview: `touch ${allowed}`,
    });
    const pending = await t.call<{ requestId: string; source: string }[]>("permission.pending");
    assert.ok(pending.some((p) => p.requestId === request.requestId && p.source === "hook"));
    await t.call("permission.respond", {
      id: s.id,
      requestId: request.requestId,
      behavior: "allow",
    });
    await t.until(s.id, (x) => x.activity === "idle" && x.lastTurn?.outcome === "done");
    assert.ok(existsSync(allowed), "the allowed command ran");
    assert.ok(
      t.api.turns().some((req) => JSON.stringify(newToolResults(req)).includes("completed")),
      "the stand-in saw the tool_result",
    );

    const denied = join(t.work, "denied");
    await t.call("session.send", { id: s.id, text: `bash: touch ${denied}` });
    const second = await t.signal(
      "permission.request",
      (p) => p.id === s.id && p.requestId !== request.requestId,
    );
    await t.call("permission.respond", { id: s.id, requestId: second.requestId, behavior: "deny" });
    const resolved = await t.signal("permission.resolved", (p) => p.requestId === second.requestId);
    assert.equal(resolved.behavior, "deny");
    await t.until(
      s.id,
      (x) => x.activity === "idle" && x.lastTurn?.prompt.includes("denied") === true,
    );
    assert.ok(!existsSync(denied), "the denied command did not run");
  });

  it("a prompt answered at the terminal resolves the pending request", async () => {
    const s = await t.idleSession("terminal");
    const file = join(t.work, "at-terminal");
    await t.call("session.send", { id: s.id, text: `bash: touch ${file}` });
    const request = await t.signal("permission.request", (p) => p.id === s.id);
    // Keys only once the dialog is drawn; claude drops those sent in its first ~150 ms, so the
    // key is sent again until the request resolves.
    const dialog = async () => {
      const { lines } = await t.call<{ lines: string[] }>("session.logs", { id: s.id, lines: 20 });
      return lines.some((l) => l.includes("Do you want to proceed?"));
    };
    await waitFor("claude's permission dialog", dialog);
    await waitFor("the terminal's answer", async () => {
      const pending = await t.call<{ requestId: string }[]>("permission.pending");
      if (!pending.some((p) => p.requestId === request.requestId)) return true;
      if (await dialog()) await t.call("session.send", { id: s.id, text: "1", raw: true });
      await new Promise((resolve) => setTimeout(resolve, 300));
      return undefined;
    });
    const resolved = await t.signal(
      "permission.resolved",
      (p) => p.requestId === request.requestId,
    );
    assert.equal(resolved.behavior, "terminal");
    await t.until(s.id, (x) => x.activity === "idle");
    assert.ok(existsSync(file), "the terminal allowed it");
  });

  it("after kill and resume, session.transcript lists the earlier turns", async () => {
    const s = await t.idleSession("history");
    const chat = await t.poolctl(["chat", s.id, "--message", "remember the word teapot"]);
    assert.equal(chat.status, 0, chat.stderr);
    await t.call("session.kill", { id: s.id });
    await t.call("session.resume", { id: s.id });
    await t.until(s.id, (x) => x.activity === "idle");
    // The resumed claude's refusal notice scrolls away at once; it is still seen, so the next
    // message is typed without waiting for the channel fallback.
    const again = await t.poolctl(["chat", s.id, "--message", "and now?", "--json"]);
    assert.equal(again.status, 0, again.stderr);
    const { message } = JSON.parse(again.stdout) as { message: LedgerEntry };
    assert.equal(message.note, "claude said channels are not available");
    // claude writes its transcript a moment after the reply is shown.
    const entries = await waitFor("the reply in the transcript", async () => {
      const result = await t.call<{ entries: TranscriptEntry[] }>("session.transcript", {
        id: s.id,
      });
      return result.entries.at(-1)?.text === "echo: and now?" ? result.entries : undefined;
    });
    const texts = entries.map((e) => [e.role, e.text]);
    assert.deepEqual(texts.slice(-4), [
      ["user", "remember the word teapot"],
      ["assistant", "echo: remember the word teapot"],
      ["user", "and now?"],
      ["assistant", "echo: and now?"],
    ]);
    assert.ok(entries.every((e) => typeof e.time === "string"));
  });
});

describe("the idle timeout and a session that waits", { skip }, () => {
  let t: RealPoolProcess;
  before(async () => {
    // 1.2 s of idleness stops a session; the sweep runs every 0.2 s.
    t = await RealPoolProcess.start({ idleTimeoutMinutes: 0.02, idleCheckSeconds: 0.2 });
  });
  after(() => t?.close());

  it("never stops a session waiting at a permission prompt; stops it once idle", async () => {
    const s = await t.idleSession("waits");
    await t.call("session.send", { id: s.id, text: `bash: touch ${join(t.work, "late")}` });
    const request = await t.signal("permission.request", (p) => p.id === s.id);
    const waitedSince = Date.now();
    // Four idle timeouts pass while it waits.
    await waitFor("4.8 s at the prompt", () => Date.now() - waitedSince > 4800 || undefined, 6000);
    const still = await t.session(s.id);
    assert.equal(still.status, "running");
    assert.equal(still.activity, "waiting");
    await t.call("permission.respond", {
      id: s.id,
      requestId: request.requestId,
      behavior: "allow",
    });
    const stopped = await t.until(s.id, (x) => x.status === "stopped", 10_000);
    assert.match(stopped.reason ?? "", /idle/);
  });
});
