import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { secretHeader } from "./hook-server.js";

/**
 * The hook events the pool listens to. SessionStart is not among them: Claude Code runs only
 * `command` hooks for it, and the pool learns of the start from claude's session file. Nor is
 * PostToolUse, which would run at every tool call.
 */
export const hookEvents = [
  "UserPromptSubmit",
  "MessageDisplay",
  "PreToolUse",
  "PermissionRequest",
  "PostToolUseFailure",
  "PermissionDenied",
  "Notification",
  "Stop",
  "StopFailure",
  "SessionEnd",
] as const;

/**
 * Claude Code blocks on every http hook (~8 ms each on a loaded 2-core machine, `make bench`),
 * so the hooks that would run at every tool call match only where the pool needs them:
 * PreToolUse for the question tool. A tool allowed at the terminal shows as its dialog closing.
 */
const matchers: Record<string, string> = { PreToolUse: "AskUserQuestion" };

/** Events whose hooks take a matcher on the tool name. */
const toolEvents = new Set<string>([
  "PreToolUse",
  "PermissionRequest",
  "PostToolUseFailure",
  "PermissionDenied",
]);

/** What a launch needs to report its hooks to the pool. */
export interface HookWiring {
  /**
   * Writes this launch's `--settings` file and returns its path. `own` is the session's own
   * `--settings` value (a file or JSON), merged in: claude reads only the last `--settings`.
   */
  settingsFor(sessionId: string, own?: { value: string; cwd: string } | null): string;
  /**
   * For a session adopted from a previous pool: accepts its launch's secret again. False when
   * its claude posts to an endpoint this pool does not listen on.
   */
  resume(sessionId: string): boolean;
  remove(sessionId: string): void;
}

export interface HookEndpoint {
  grant(sessionId: string): { url: string; secret: string };
  /** Accepts `secret` for `sessionId` again if `url` is this endpoint's. */
  restore(sessionId: string, url: string, secret: string): boolean;
  revoke(sessionId: string): void;
}

/**
 * One `--settings` file per session (0600, beside its MCP config) whose `http` hooks post every
 * event to the pool's loopback endpoint with a per-launch secret. claude merges it with the
 * user's own settings, so their hooks keep running.
 */
export class HookSettingsFiles implements HookWiring {
  constructor(
    private readonly dir: string,
    private readonly endpoint: HookEndpoint,
    /** How long a permission request may wait for an answer, in seconds. */
    private readonly permissionWaitSeconds: () => number,
  ) {}

  settingsFor(sessionId: string, own: { value: string; cwd: string } | null = null): string {
    const theirs = own === null ? {} : readOwnSettings(own.value, own.cwd);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const { url, secret } = this.endpoint.grant(sessionId);
    const hook = (timeout: number) => ({
      type: "http",
      url,
      headers: { [secretHeader]: secret },
      timeout,
    });
    const hooks = Object.fromEntries(
      hookEvents.map((event) => {
        // A hook that cannot reach the pool must not hold claude up for long.
        const timeout = event === "PermissionRequest" ? this.permissionWaitSeconds() + 30 : 10;
        const entry = toolEvents.has(event)
          ? { matcher: matchers[event] ?? "", hooks: [hook(timeout)] }
          : { hooks: [hook(timeout)] };
        return [event, [entry]];
      }),
    );
    const file = this.fileOf(sessionId);
    const merged = { ...theirs, hooks: mergeHooks(theirs.hooks, hooks) };
    writeFileSync(file, JSON.stringify(merged, null, 2), { mode: 0o600 });
    return file;
  }

  resume(sessionId: string): boolean {
    const grant = this.grantIn(sessionId);
    return grant !== null && this.endpoint.restore(sessionId, grant.url, grant.secret);
  }

  /** The port the last pool's endpoint listened on, from a settings file it wrote. */
  previousPort(): number | null {
    let files: string[];
    try {
      files = readdirSync(this.dir).filter((f) => f.endsWith(".settings.json"));
    } catch {
      return null;
    }
    for (const file of files) {
      const grant = this.grantIn(file.slice(0, -".settings.json".length));
      const port = grant ? Number(new URL(grant.url).port) : 0;
      if (port > 0) return port;
    }
    return null;
  }

  /** The url and secret a session's settings file gives its hooks, if it has one. */
  private grantIn(sessionId: string): { url: string; secret: string } | null {
    try {
      const settings = JSON.parse(readFileSync(this.fileOf(sessionId), "utf8")) as {
        hooks?: Record<
          string,
          { hooks?: { url?: unknown; headers?: Record<string, unknown> }[] }[]
        >;
      };
      for (const entries of Object.values(settings.hooks ?? {})) {
        for (const hook of entries.flatMap((e) => e.hooks ?? [])) {
          const secret = hook.headers?.[secretHeader];
          if (
            typeof hook.url === "string" &&
            hook.url.endsWith(`/hooks/${sessionId}`) &&
            typeof secret === "string"
          ) {
            return { url: hook.url, secret };
          }
        }
      }
    } catch {
      // no file, or not one the pool wrote
    }
    return null;
  }

  remove(sessionId: string): void {
    this.endpoint.revoke(sessionId);
    rmSync(this.fileOf(sessionId), { force: true });
  }

  private fileOf(sessionId: string): string {
    return join(this.dir, `${sessionId}.settings.json`);
  }
}

type Settings = { hooks?: unknown } & Record<string, unknown>;

/** A `--settings` value as claude takes it: JSON text, or a JSON file's path from `cwd`. */
function readOwnSettings(value: string, cwd: string): Settings {
  let text = value;
  if (!value.trimStart().startsWith("{")) {
    try {
      text = readFileSync(resolve(cwd, value), "utf8");
    } catch (err) {
      throw new Error(`--settings ${value} in the session's args: ${(err as Error).message}`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(
      `--settings ${value} in the session's args is not JSON: ${(err as Error).message}`,
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error(`--settings ${value} in the session's args is not a JSON object`);
  }
  return parsed as Settings;
}

/** Each event's hook groups: the session's own first, then the pool's. */
function mergeHooks(theirs: unknown, ours: Record<string, unknown[]>): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  if (theirs !== null && typeof theirs === "object" && !Array.isArray(theirs)) {
    Object.assign(merged, theirs);
  }
  for (const [event, groups] of Object.entries(ours)) {
    const existing = merged[event];
    merged[event] = [...(Array.isArray(existing) ? existing : []), ...groups];
  }
  return merged;
}
