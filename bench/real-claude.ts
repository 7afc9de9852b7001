/** The real Claude Code CLI against the Anthropic API stand-in, for the benchmarks. */
import { closeSync, fstatSync, mkdirSync, openSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { join } from "node:path";
import { projectSlug } from "../src/session/claude-state.js";
import type { FakeAnthropic } from "../test/fake-anthropic.js";
import { waitFor } from "../test/helpers.js";
import {
  claudeEnv,
  readJson,
  seedClaudeDir,
  skipReason,
  startupMs,
} from "../test/real-claude-support.js";

/** Prints why and exits when the real claude is not installed. */
export function requireRealClaude(what: string): void {
  if (skipReason(what) !== false) process.exit(0);
}

export interface ClaudeHome {
  claudeDir: string;
  workDir: string;
  env: Record<string, string>;
}

/** A seeded config dir (onboarding done, `workDir` trusted, key approved) under `dir`. */
export function claudeHome(api: FakeAnthropic, dir: string): ClaudeHome {
  const claudeDir = join(dir, "claude");
  const workDir = join(dir, "work");
  mkdirSync(workDir, { recursive: true });
  seedClaudeDir(claudeDir, [workDir]);
  return { claudeDir, workDir, env: claudeEnv(api, claudeDir, join(dir, "home")) };
}

/** Resolves once claude's session file for process `pid` says it is at its prompt. */
export function claudeIdle(claudeDir: string, pid: number, timeoutMs = startupMs) {
  return waitFor(
    `claude ${pid} to be idle`,
    () => readJson(join(claudeDir, "sessions", `${pid}.json`))?.status === "idle",
    timeoutMs,
  );
}

/** claude's transcript of a conversation. */
export function transcriptFile(home: ClaudeHome, claudeSessionId: string): string {
  return join(home.claudeDir, "projects", projectSlug(home.workDir), `${claudeSessionId}.jsonl`);
}

/**
 * The `durationMs` of each `system`/`turn_duration` entry claude appends to its transcript, read
 * as it grows: a transcript gains some 200 KB a turn, too much to read again at every poll.
 */
export class TurnDurations {
  readonly seen: number[] = [];
  private offset = 0;
  private partial = "";
  private readonly decoder = new StringDecoder("utf8");

  constructor(private readonly file: string) {}

  /** Reads what claude appended since the last call; returns every duration so far. */
  poll(): number[] {
    let fd: number;
    try {
      fd = openSync(this.file, "r");
    } catch {
      return this.seen; // no turn yet
    }
    try {
      const grown = fstatSync(fd).size - this.offset;
      if (grown <= 0) return this.seen;
      const chunk = Buffer.alloc(grown);
      this.offset += readSync(fd, chunk, 0, grown, this.offset);
      const lines = (this.partial + this.decoder.write(chunk)).split("\n");
      this.partial = lines.pop()!;
      for (const line of lines) this.read(line);
    } finally {
      closeSync(fd);
    }
    return this.seen;
  }

  private read(line: string): void {
    if (!line.includes('"turn_duration"')) return;
    const entry = JSON.parse(line) as { subtype?: string; durationMs?: number };
    if (entry.subtype === "turn_duration" && typeof entry.durationMs === "number") {
      this.seen.push(entry.durationMs);
    }
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
