import { ErrorCode } from "../../errors.js";
import { RpcError } from "../../rpc/client.js";
import type { SessionInfo } from "../../session/session.js";
import { isResumable } from "../../session/status.js";
import { Failure, UsageError } from "../errors.js";
import type { PoolClient } from "./client.js";

export interface AttachOptions {
  readOnly: boolean;
  /** The detach key as a control character, e.g. "\x1d" for Ctrl-]. */
  detachKey: string;
  detachKeyLabel: string;
  /** Resume a stopped, crashed or failed session first, instead of refusing it. */
  resume: boolean;
}

const enterAltScreen = "\x1b[?1049h\x1b[H\x1b[2J";
/** The terminal's title, saved on its title stack (XTWINOPS 22) and set: it shows over the redraw. */
const showTitle = (title: string) => `\x1b[22;2t\x1b]2;${title}\x07`;
/**
 * Leave the alternate screen, undo modes the session may have switched on in our terminal, and
 * give the title back (XTWINOPS 23).
 */
const restoreTerminal =
  "\x1b[0m\x1b[?25h\x1b[?2004l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1l\x1b>\x1b[?1049l\x1b[23;2t";

/** Parses "C-]", "^]" or "C-a" into the byte the terminal sends. */
export function parseDetachKey(spec: string): string {
  const match = /^(?:C-|\^)(.)$/i.exec(spec);
  if (!match) throw new UsageError(`--detach-key must look like C-] or ^a, not "${spec}"`);
  const code = match[1].toUpperCase().charCodeAt(0);
  if (code < 0x40 || code > 0x5f)
    throw new UsageError(`--detach-key: no control key for "${spec}"`);
  return String.fromCharCode(code & 0x1f);
}

/** Attaches for output as bytes; a pool older than that option gets a plain attach. */
async function attachCall(client: PoolClient, id: string, readOnly: boolean) {
  try {
    return await client.call<{ data: string }>("session.attach", { id, readOnly, binary: true });
  } catch (err) {
    if (!(err instanceof RpcError && err.code === ErrorCode.InvalidParams)) throw err;
    return client.call<{ data: string }>("session.attach", { id, readOnly });
  }
}

/** Interactive attach, like `tmux attach`: redraws the screen, forwards keys and window size. */
export async function attach(
  client: PoolClient,
  ref: string,
  options: AttachOptions,
): Promise<string> {
  const { stdin, stdout } = process;
  if (!stdin.isTTY || !stdout.isTTY) {
    throw new UsageError(
      `attach needs a terminal; use "claude-poolctl logs -f ${ref}" to follow output`,
    );
  }
  let finish: (message: string) => void = () => {};
  const done = new Promise<string>((resolve) => (finish = resolve));
  // subscribed before session.get: a change after its answer cannot be missed
  let session: SessionInfo | null = null;
  client.onNotification((method, params) => {
    if (session === null) return;
    // the redraw after falling behind (live output comes as bytes, below)
    if (method === "session.output" && params.id === session.id) {
      stdout.write(String(params.data));
    } else if (method === "session.changed") {
      const changed = params.session as SessionInfo;
      if (
        changed.id === session.id &&
        (changed.status === "stopped" || changed.status === "failed")
      ) {
        finish(
          `session ${changed.name} ${changed.status}${changed.reason ? `: ${changed.reason}` : ""}`,
        );
      }
    } else if (method === "session.removed" && params.id === session.id) {
      finish(`session ${session.name} was removed`);
    }
  });
  client.onOutput((id, data) => {
    if (id === session?.id) stdout.write(data);
  });
  client.onClose(() => finish("the pool closed the connection"));
  await client.call("pool.subscribe", { signals: ["session.changed", "session.removed"] });
  session = await client.call<SessionInfo>("session.get", { id: ref });
  if (isResumable(session.status)) {
    if (!options.resume) {
      throw new Failure(
        `session ${session.name} is ${session.status}${session.reason ? ` (${session.reason})` : ""}; ` +
          `"claude-poolctl attach --resume ${ref}" resumes it and attaches`,
      );
    }
    session = await client.call<SessionInfo>("session.resume", { id: session.id });
  }
  const { id, name } = session;
  const resize = () =>
    client.call("session.resize", { id, cols: stdout.columns, rows: stdout.rows }).catch(() => {});
  if (!options.readOnly) await resize();

  const restore = () => {
    stdin.setRawMode(false);
    stdout.write(restoreTerminal);
  };
  const hint =
    `attached to ${name} (${id})${options.readOnly ? " read-only" : ""}; ` +
    `detach with ${options.detachKeyLabel}`;
  stdout.write(`${hint}\r\n${showTitle(hint)}`);
  process.on("exit", restore);
  const screen = await attachCall(client, id, options.readOnly);
  stdout.write(enterAltScreen + screen.data);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.on("data", (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    const at = text.indexOf(options.detachKey);
    const input = at === -1 ? text : text.slice(0, at);
    if (input && !options.readOnly) {
      client.call("session.send", { id, text: input, raw: true }).catch(() => {});
    }
    if (at !== -1) finish(`detached from ${name}`);
  });
  if (!options.readOnly) stdout.on("resize", resize);

  const message = await done;
  stdout.off("resize", resize);
  stdin.removeAllListeners("data");
  stdin.pause();
  restore();
  process.off("exit", restore);
  return message;
}
