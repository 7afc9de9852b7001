import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { secretHeader } from "./hook-server.js";

/**
 * The hook events the pool listens to. SessionStart is not among them: Claude Code runs only
 * `command` hooks for it, and the pool learns of the start from claude's session file.
 */
export const hookEvents = [
  "UserPromptSubmit",
  "MessageDisplay",
  "PreToolUse",
  "PermissionRequest",
  "PostToolUse",
  "PostToolUseFailure",
  "PermissionDenied",
  "Notification",
  "Stop",
  "StopFailure",
  "SessionEnd",
] as const;

/** Events whose hooks take a matcher on the tool name. */
const toolEvents = new Set<string>([
  "PreToolUse",
  "PermissionRequest",
  "PostToolUse",
  "PostToolUseFailure",
  "PermissionDenied",
]);

/** What a launch needs to report its hooks to the pool. */
export interface HookWiring {
  /** Writes this launch's `--settings` file and returns its path. */
  settingsFor(sessionId: string): string;
  remove(sessionId: string): void;
}

export interface HookEndpoint {
  grant(sessionId: string): { url: string; secret: string };
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

  settingsFor(sessionId: string): string {
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
          ? { matcher: "", hooks: [hook(timeout)] }
          : { hooks: [hook(timeout)] };
        return [event, [entry]];
      }),
    );
    const file = this.fileOf(sessionId);
    writeFileSync(file, JSON.stringify({ hooks }, null, 2), { mode: 0o600 });
    return file;
  }

  remove(sessionId: string): void {
    this.endpoint.revoke(sessionId);
    rmSync(this.fileOf(sessionId), { force: true });
  }

  private fileOf(sessionId: string): string {
    return join(this.dir, `${sessionId}.settings.json`);
  }
}
