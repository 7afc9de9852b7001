/**
 * Running the real Claude Code CLI (installed by test/install-real-claude) under the pool,
 * offline: its config dir is pre-seeded (onboarding done, folders trusted, a dummy API key
 * approved, auto mode's gateway notice acknowledged) and it talks to the Anthropic API stand-in
 * (fake-anthropic.ts) through ANTHROPIC_BASE_URL.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Pool } from "../src/pool.js";
import { projectSlug } from "../src/session/claude-state.js";
import { FakeAnthropic } from "./fake-anthropic.js";
import { makePool, repoRoot, tempDir, waitFor, type TestPool } from "./helpers.js";

export const realClaude =
  process.env.CLAUDE_POOL_REAL_CLAUDE ??
  join(repoRoot, "test", ".real-claude", "node_modules", ".bin", "claude");

/** Why real-claude tests skip (printed once per file), or false when the binary is there. */
export function skipReason(what: string): string | false {
  if (existsSync(realClaude)) return false;
  const reason = `real claude not installed at ${realClaude} (run test/install-real-claude)`;
  console.log(`# skipping ${what}: ${reason}`);
  return reason;
}

export const apiKey = `sk-ant-api03-${"x".repeat(80)}-pooltest0123456789AA`;

/** Deadline for claude to reach its prompt: it takes under a second against the stand-in. */
export const startupMs = 20_000;

/** The JSON in `file`, or undefined while it is missing or half-written (claude writes in place). */
export function readJson(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * `.claude.json` that lets claude start without a login: onboarding done, folders trusted, the
 * key approved. With a non-Anthropic base URL, auto mode shows a classifier-billing notice at the
 * first Bash command unless acknowledged in the last 24 hours.
 */
export function seededConfig(trusted: string[]): Record<string, unknown> {
  return {
    hasCompletedOnboarding: true,
    projects: Object.fromEntries(trusted.map((d) => [d, { hasTrustDialogAccepted: true }])),
    customApiKeyResponses: { approved: [apiKey.slice(-20)], rejected: [] },
    autoModeClassifierBillingNoticeAcknowledgedAt: Date.now(),
  };
}

/** Writes the seeded `.claude.json` into claude's config dir. */
export function seedClaudeDir(claudeDir: string, trusted: string[]): void {
  mkdirSync(claudeDir, { recursive: true });
  writeFileSync(join(claudeDir, ".claude.json"), JSON.stringify(seededConfig(trusted)));
}

/** claude's environment for talking to `api` with its config under `claudeDir`. */
export function claudeEnv(api: FakeAnthropic, claudeDir: string, home: string) {
  mkdirSync(home, { recursive: true });
  return {
    HOME: home,
    CLAUDE_CONFIG_DIR: claudeDir,
    ANTHROPIC_BASE_URL: api.url,
    ANTHROPIC_API_KEY: apiKey,
    DISABLE_AUTOUPDATER: "1",
  };
}

export interface RealPool extends TestPool {
  api: FakeAnthropic;
}

/**
 * A pool of real claudes (makePool) talking to a fresh API stand-in; `trusted` picks the folders
 * claude trusts (default: the pool's working directory). Close it with `close()`, which stops
 * the stand-in too.
 */
export async function realPool(
  options: {
    trusted?: (t: { workDir: string }) => string[];
    config?: Record<string, unknown>;
  } = {},
): Promise<RealPool> {
  const api = await FakeAnthropic.start();
  const dir = tempDir();
  const claudeDir = join(dir, "claude");
  const workDir = join(dir, "work");
  seedClaudeDir(claudeDir, (options.trusted ?? ((t) => [t.workDir]))({ workDir }));
  const t = makePool(
    {
      claudePath: realClaude,
      stopTimeoutSeconds: 5,
      ...options.config,
      defaults: { workingDirectory: workDir, env: claudeEnv(api, claudeDir, join(dir, "home")) },
    },
    dir,
  );
  return {
    ...t,
    api,
    close: async () => {
      await t.close();
      await api.close();
    },
  };
}

/** Resolves once claude's session file for the session's current process says it is idle. */
export async function waitForIdle(t: TestPool, id: string, timeoutMs = startupMs) {
  return waitFor(
    () => `claude's REPL of ${id} to be idle`,
    () => {
      const { pid } = t.pool.get(id);
      if (pid === null) return undefined;
      const info = readJson(join(t.claudeDir, "sessions", `${pid}.json`));
      return info?.status === "idle" ? info : undefined;
    },
    timeoutMs,
  );
}

/**
 * Resolves once claude has saved an assistant message with `text` in the session's transcript.
 * claude writes its transcript a moment after the reply is on the screen; a SIGKILL before that
 * loses the turn (and a transcript with no reply yet cannot be resumed: "No conversation found").
 */
export function waitForSavedReply(t: TestPool, id: string, text: string, timeoutMs = 10_000) {
  const { claudeSessionId, workingDirectory } = t.pool.get(id);
  const file = join(
    t.claudeDir,
    "projects",
    projectSlug(workingDirectory),
    `${claudeSessionId}.jsonl`,
  );
  return waitFor(
    `the reply "${text}" in ${file}`,
    () => {
      let lines: string[];
      try {
        lines = readFileSync(file, "utf8").split("\n");
      } catch {
        return undefined;
      }
      return lines.some((line) => {
        try {
          const entry = JSON.parse(line) as { type?: string; message?: { content?: unknown } };
          return (
            entry.type === "assistant" && JSON.stringify(entry.message?.content).includes(text)
          );
        } catch {
          return false;
        }
      });
    },
    timeoutMs,
  );
}

/** The arguments of a running real claude (a native binary: argv[0] is claude itself). */
export function claudeArgs(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(1, -1);
}

/** The session's screen and scrollback as one text. */
export async function screenText(pool: Pool, id: string): Promise<string> {
  return (await pool.find(id).text()).join("\n");
}

/** Resolves with the screen once it matches `re`. */
export function waitForScreen(pool: Pool, id: string, re: RegExp, timeoutMs = 15_000) {
  let last = "";
  return waitFor(
    () => `${re} on the screen of ${id}; it shows:\n${last}`,
    async () => {
      last = await screenText(pool, id);
      return re.test(last) ? last : undefined;
    },
    timeoutMs,
  );
}

/**
 * Answers the dialog on the screen with `key` until `dialog` is gone from the screen. claude drops
 * keys that arrive within ~150 ms of a permission dialog appearing, so an early key is sent again;
 * a dropped key changes nothing, and once one is taken the dialog closes.
 */
export async function answerDialog(
  pool: Pool,
  id: string,
  dialog: RegExp,
  key: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (dialog.test(await screenText(pool, id))) {
    if (Date.now() > deadline) {
      throw new Error(`the dialog ${dialog} took no ${JSON.stringify(key)} in ${timeoutMs} ms`);
    }
    await pool.send(id, key, { raw: true });
    await waitFor(
      "the dialog to close",
      async () => !dialog.test(await screenText(pool, id)),
      500,
    ).catch(() => undefined);
  }
}
