import type { SessionInfo } from "../../session/session.js";
import { UsageError } from "../errors.js";
import type { PoolClient } from "./client.js";

export interface AttachOptions {
  readOnly: boolean;
  /** The detach key as a control character, e.g. "\x1d" for Ctrl-]. */
  detachKey: string;
  detachKeyLabel: string;
}

const enterAltScreen = "\x1b[?1049h\x1b[H\x1b[2J";
/** Leave the alternate screen and undo modes the session may have switched on in our terminal. */
const restoreTerminal =
  "\x1b[0m\x1b[?25h\x1b[?2004l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?1l\x1b>\x1b[?1049l";

/** Parses "C-]", "^]" or "C-a" into the byte the terminal sends. */
export function parseDetachKey(spec: string): string {
  const match = /^(?:C-|\^)(.)$/i.exec(spec);
  if (!match) throw new UsageError(`--detach-key must look like C-] or ^a, not "${spec}"`);
  const code = match[1].toUpperCase().charCodeAt(0);
  if (code < 0x40 || code > 0x5f)
    throw new UsageError(`--detach-key: no control key for "${spec}"`);
  return String.fromCharCode(code & 0x1f);
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
  const session = await client.call<SessionInfo>("session.get", { id: ref });
  const id = session.id;
  const resize = () =>
    client.call("session.resize", { id, cols: stdout.columns, rows: stdout.rows }).catch(() => {});
  if (!options.readOnly) await resize();

  let finish: (message: string) => void = () => {};
  const done = new Promise<string>((resolve) => (finish = resolve));
  client.onNotification((method, params) => {
    if (method === "session.output" && params.id === id) {
      stdout.write(String(params.data));
    } else if (method === "session.changed") {
      const changed = params.session as SessionInfo;
      if (changed.id === id && (changed.status === "stopped" || changed.status === "failed")) {
        finish(
          `session ${changed.name} ${changed.status}${changed.reason ? `: ${changed.reason}` : ""}`,
        );
      }
    } else if (method === "session.removed" && params.id === id) {
      finish(`session ${session.name} was removed`);
    }
  });
  client.onClose(() => finish("the pool closed the connection"));
  await client.call("pool.subscribe", { signals: ["session.changed", "session.removed"] });

  const restore = () => {
    stdin.setRawMode(false);
    stdout.write(restoreTerminal);
  };
  process.on("exit", restore);
  stdout.write(
    `attached to ${session.name} (${id})${options.readOnly ? " read-only" : ""}; ` +
      `detach with ${options.detachKeyLabel}\r\n`,
  );
  const screen = await client.call<{ data: string }>("session.attach", {
    id,
    readOnly: options.readOnly,
  });
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
    if (at !== -1) finish(`detached from ${session.name}`);
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
