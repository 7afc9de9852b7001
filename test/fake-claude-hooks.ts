/**
 * The fake claude's hooks, after Claude Code 2.1.332: the `http` hooks of its `--settings` (a file
 * or inline JSON). Each event's hooks are POSTed its input as JSON with their headers, all at
 * once, and claude waits for their answers (or their `timeout`, default 600 s; SessionEnd's at
 * most 1.5 s) before it goes on. An unreachable hook or an error answer is ignored, as the real
 * one does; what a hook answers is not acted on. Other hook types (`command`, `prompt`) are not
 * run. The inputs' shapes are those recorded in test/fixtures/hooks-2.1.332.jsonl.
 * FAKE_CLAUDE_HOOK_DELAY_MS plays a claude slow to call them (busy drawing, say): each event's
 * hooks are called that long after it happened.
 */
import { readFileSync, statSync, type Stats } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

interface HttpHook {
  type: "http";
  url: string;
  headers?: Record<string, string>;
  /** Seconds. */
  timeout?: number;
}

interface HookMatcher {
  matcher?: string;
  hooks?: { type?: string }[];
}

const defaultTimeoutSeconds = 600;
/** claude 2.1.332 cuts SessionEnd hooks short (CLAUDE_CODE_SESSIONEND_HOOKS_TIMEOUT_MS). */
const sessionEndTimeoutMs = 1500;

/**
 * What `--settings` names: a JSON file, or the JSON itself. A file that is no JSON fails (the
 * real one shows a "Settings Error" dialog instead, which the pool never makes it show).
 */
function readSettings(value: string): unknown {
  if (value.trimStart().startsWith("{")) return JSON.parse(value);
  let stat: Stats;
  try {
    stat = statSync(value);
  } catch {
    throw new Error(`Error: Settings file not found: ${value}`);
  }
  if (!stat.isFile()) {
    throw new Error(
      `Error: Cannot use settings file (Not a regular file (device, FIFO, or socket)): ${value}`,
    );
  }
  return JSON.parse(readFileSync(value, "utf8"));
}

export class FakeHooks {
  private constructor(private readonly byEvent: Map<string, HttpHook[]>) {}

  /** The hooks of a `--settings` value; throws the real CLI's message when it cannot be read. */
  static fromSettings(value: string): FakeHooks {
    let settings: unknown;
    try {
      settings = readSettings(value);
    } catch (err) {
      const message = (err as Error).message;
      throw new Error(
        message.startsWith("Error:") ? message : `Error processing settings: ${message}`,
      );
    }
    const hooks = (settings as { hooks?: Record<string, HookMatcher[]> } | null)?.hooks ?? {};
    const byEvent = new Map<string, HttpHook[]>();
    for (const [event, matchers] of Object.entries(hooks)) {
      const http = (Array.isArray(matchers) ? matchers : [])
        .flatMap((m) => m.hooks ?? [])
        .filter((h): h is HttpHook => h.type === "http" && typeof (h as HttpHook).url === "string");
      if (http.length > 0) byEvent.set(event, http);
    }
    return new FakeHooks(byEvent);
  }

  has(event: string): boolean {
    return this.byEvent.has(event);
  }

  /** Posts `input` to every hook of its `hook_event_name`; resolves once all have answered. */
  async post(input: Record<string, unknown> & { hook_event_name: string }): Promise<void> {
    const event = input.hook_event_name;
    const body = JSON.stringify(input);
    if (!this.byEvent.has(event)) return;
    await sleep(Number(process.env.FAKE_CLAUDE_HOOK_DELAY_MS ?? 0));
    await Promise.all(
      (this.byEvent.get(event) ?? []).map(async (hook) => {
        const timeoutMs = (hook.timeout ?? defaultTimeoutSeconds) * 1000;
        try {
          const res = await fetch(hook.url, {
            method: "POST",
            headers: { ...hook.headers, "content-type": "application/json" },
            body,
            signal: AbortSignal.timeout(
              event === "SessionEnd" ? Math.min(timeoutMs, sessionEndTimeoutMs) : timeoutMs,
            ),
          });
          await res.arrayBuffer();
        } catch {
          // claude reports a failed hook in its debug log and goes on
        }
      }),
    );
  }
}
