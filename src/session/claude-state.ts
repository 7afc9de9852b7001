import { mkdirSync, readFileSync, watch, type FSWatcher } from "node:fs";
import { join } from "node:path";

/** The fields of `<config dir>/sessions/<pid>.json` that the pool reads. */
export interface ClaudeSessionFile {
  pid: number;
  sessionId: string;
  cwd?: string;
}

/**
 * Follows `<config dir>/sessions/<pid>.json`, which claude writes at start, rewrites in place when
 * the user runs /clear or /resume, and removes on exit.
 */
export class ClaudeSessionWatcher {
  private watcher: FSWatcher | null = null;
  private lastSessionId: string | null = null;
  private readonly file: string;

  constructor(
    private readonly configDir: string,
    private readonly pid: number,
    private readonly onSessionFile: (file: ClaudeSessionFile) => void,
  ) {
    this.file = join(configDir, "sessions", `${pid}.json`);
  }

  start(): void {
    const dir = join(this.configDir, "sessions");
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      this.watcher = watch(dir, (_event, name) => {
        if (name === `${this.pid}.json`) this.read();
      });
      this.watcher.on("error", () => this.dispose());
    } catch {
      // Unwatchable config dir: the conversation id the pool chose still stands.
    }
    this.read();
  }

  dispose(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  private read(): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.file, "utf8"));
    } catch {
      return; // absent, or caught mid-write: the next event reads it again
    }
    const data = parsed as Partial<ClaudeSessionFile>;
    if (typeof data.sessionId !== "string" || data.pid !== this.pid) return;
    if (data.sessionId === this.lastSessionId) return;
    this.lastSessionId = data.sessionId;
    this.onSessionFile({ pid: this.pid, sessionId: data.sessionId, cwd: data.cwd });
  }
}

/** claude names a project's folder after its cwd with every non-alphanumeric turned into "-". */
export function projectSlug(cwd: string): string {
  return cwd.replace(/[^A-Za-z0-9]/g, "-");
}
