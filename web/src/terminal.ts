/**
 * A session's live terminal: xterm.js over session.attach (which redraws the screen and
 * scrollback exactly) and its session.output signals. Read-only by default at the session's own
 * size; typing sends keys with session.send and fits the session to the page (session.resize).
 * Loaded only when a session page opens, so the list stays small.
 */
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { OutputFlow } from "./flow.js";
import type { Rpc } from "./rpc.js";

interface Screen {
  data: string;
  cols: number;
  rows: number;
}

export interface LiveTerminal {
  /** Typing on: keys go to the session, which is fitted to the page. Off: read-only. */
  setTyping(on: boolean): Promise<void>;
  dispose(): void;
}

export function mountTerminal(
  container: HTMLElement,
  rpc: Rpc,
  sessionId: string,
  status: (text: string) => void,
): LiveTerminal {
  const term = new Terminal({
    cursorBlink: false,
    disableStdin: true,
    fontSize: window.matchMedia("(max-width: 600px)").matches ? 11 : 13,
    scrollback: 5000,
    theme: { background: "#0d1117" },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(container);
  const flow = new OutputFlow();
  let typing = false;
  let disposed = false;
  /** Output that arrives between asking for a redraw and its snapshot is in the snapshot. */
  let attaching = false;

  const describe = () =>
    status(
      flow.state !== "live"
        ? `catching up: ${Math.round(flow.dropped / 1024)} KiB skipped, redrawing from the pool's screen`
        : typing
          ? "typing: keys go to the session"
          : "read-only",
    );

  const write = (data: string) => term.write(data, () => afterWrite(data.length));
  const afterWrite = (bytes: number) => {
    if (flow.written(bytes)) void attach();
  };

  const attach = async () => {
    attaching = true;
    describe();
    try {
      // typing: the session takes the page's size first, so the snapshot is drawn for it
      if (typing) await fitSession();
      const screen = await rpc.call<Screen>("session.attach", { id: sessionId, readOnly: !typing });
      if (disposed) return;
      term.reset();
      term.resize(screen.cols, screen.rows);
      flow.redrawn(screen.data.length);
      write(screen.data);
    } catch (err) {
      status(`not attached: ${(err as Error).message}`);
    } finally {
      attaching = false;
      if (flow.state === "live") describe();
    }
  };

  const fitSession = async () => {
    const size = fit.proposeDimensions();
    if (!size || !Number.isFinite(size.cols) || !Number.isFinite(size.rows)) return;
    const cols = Math.max(20, size.cols);
    const rows = Math.max(5, size.rows);
    if (cols !== term.cols || rows !== term.rows) term.resize(cols, rows);
    await rpc.call("session.resize", { id: sessionId, cols, rows }).catch(() => {});
  };

  const offOutput = rpc.onNotification((method, params) => {
    if (disposed || method !== "session.output" || params.id !== sessionId || attaching) return;
    const data = String(params.data);
    if (params.resync && !typing && typeof params.cols === "number") {
      term.resize(params.cols, params.rows as number);
    }
    switch (flow.accept(data.length)) {
      case "write":
        write(data);
        break;
      case "redraw":
        void attach();
        describe();
        break;
      case "drop":
        if (flow.dropped === data.length) describe();
    }
  });
  const offOpen = rpc.onOpen(() => void attach());

  // Keys in order: one session.send at a time, with what was typed meanwhile batched.
  let typed = "";
  let sending: Promise<void> | null = null;
  const flush = async () => {
    while (typed) {
      const text = typed;
      typed = "";
      await rpc.call("session.send", { id: sessionId, text, raw: true }).catch((err: Error) => {
        status(`not sent: ${err.message}`);
      });
    }
    sending = null;
  };
  term.onData((data) => {
    if (!typing) return;
    typed += data;
    sending ??= flush();
  });

  let resizeTimer = 0;
  const observer = new ResizeObserver(() => {
    if (!typing) return;
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => void fitSession(), 150);
  });
  observer.observe(container);

  return {
    async setTyping(on) {
      typing = on;
      term.options.disableStdin = !on;
      await attach();
      if (on) term.focus();
    },
    dispose() {
      disposed = true;
      offOutput();
      offOpen();
      observer.disconnect();
      window.clearTimeout(resizeTimer);
      rpc.call("session.detach", { id: sessionId }).catch(() => {});
      term.dispose();
    },
  };
}
