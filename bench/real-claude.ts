/** The real Claude Code CLI against the Anthropic API stand-in, for the benchmarks. */
import { mkdirSync, readFileSync } from "node:fs";
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

/** The `durationMs` of each `system`/`turn_duration` entry claude wrote in its transcript. */
export function turnDurations(file: string): number[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  const durations: number[] = [];
  for (const line of text.split("\n")) {
    if (!line.includes('"turn_duration"')) continue;
    try {
      const entry = JSON.parse(line) as { subtype?: string; durationMs?: number };
      if (entry.subtype === "turn_duration" && typeof entry.durationMs === "number") {
        durations.push(entry.durationMs);
      }
    } catch {
      // a line being written
    }
  }
  return durations;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
