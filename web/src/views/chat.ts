import { h } from "../dom.js";
import type { Store } from "../store.js";
import type { EndedTurn, LedgerEntry, TranscriptEntry, Turn } from "../types.js";
import { showError } from "./toast.js";

const historyEntries = 100;

function bubble(role: string, text: string, extra?: Node | null) {
  return h("div", { class: `bubble ${role}` }, h("div", { class: "text" }, text), extra ?? null);
}

function toolsOf(entry: TranscriptEntry): HTMLElement | null {
  if (entry.tools.length === 0) return null;
  return h(
    "div",
    { class: "tools" },
    entry.tools.map((tool) =>
      h(
        "details",
        {},
        h("summary", {}, `⚙ ${tool.name}`),
        h("pre", {}, JSON.stringify(tool.input, null, 2)),
        tool.result !== undefined ? h("pre", { class: "result" }, tool.result) : null,
      ),
    ),
  );
}

function stateOf(entry: LedgerEntry): string {
  return `${entry.state}${entry.via ? ` via ${entry.via}` : ""}`;
}

/**
 * The conversation: its history from claude's transcript (session.transcript), then what happens
 * live: each turn's prompt, its reply streaming in from turn.delta, channel replies. Messages go
 * out with channel.send (through the channel, or typed when it is not usable).
 */
export function chatView(store: Store, sessionId: string) {
  const log = h("div", { class: "chat-log", "aria-live": "polite" });
  let live: { turnId: string; text: HTMLElement } | null = null;
  /** What this page sent last: its turn's prompt is not shown twice. */
  let lastSent = "";

  const stick = () => {
    log.scrollTop = log.scrollHeight;
  };
  /** Each message this page sent: its caption follows the ledger (queued, delivered, replied). */
  const captions = new Map<string, HTMLElement>();
  const add = (node: HTMLElement) => {
    log.querySelector(".bubble.empty")?.remove();
    const atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.append(node);
    if (atEnd) stick();
  };

  const load = async () => {
    try {
      const { entries } = await store.rpc.call<{ entries: TranscriptEntry[] }>(
        "session.transcript",
        { id: sessionId, limit: historyEntries },
      );
      log.replaceChildren(
        ...(entries.length === 0 ? [bubble("note empty", "No conversation yet.")] : []),
        ...entries.map((e) => bubble(e.role, e.text, toolsOf(e))),
      );
      live = null;
      stick();
    } catch (err) {
      log.replaceChildren(bubble("note", `No transcript: ${(err as Error).message}`));
    }
  };

  const off = [
    store.on("turn.started", (p) => {
      if (p.id !== sessionId) return;
      const turn = p.turn as Turn;
      if (turn.prompt && !(lastSent && turn.prompt.includes(lastSent.slice(0, 100)))) {
        add(bubble("user", turn.prompt));
      }
      const text = h("div", { class: "text streaming" });
      add(h("div", { class: "bubble assistant" }, text));
      live = { turnId: turn.id, text };
    }),
    store.on("turn.delta", (p) => {
      if (p.id !== sessionId || !live || live.turnId !== p.turnId) return;
      live.text.textContent += String(p.text);
      stick();
    }),
    store.on("turn.ended", (p) => {
      if (p.id !== sessionId) return;
      const turn = p.turn as EndedTurn;
      if (live && live.turnId === turn.id) {
        if (!live.text.textContent) live.text.textContent = turn.reply;
        live.text.classList.remove("streaming");
        if (turn.outcome !== "done") live.text.append(h("em", {}, ` (${turn.outcome})`));
      }
      live = null;
    }),
    store.on("channel.message", (p) => {
      const entry = p.message as LedgerEntry;
      const caption = captions.get(entry.messageId);
      if (caption) caption.textContent = stateOf(entry);
    }),
    store.on("channel.reply", (p) => {
      if (p.id !== sessionId) return;
      add(bubble("assistant", String(p.text), h("small", { class: "via" }, "reply via channel")));
    }),
  ];

  const input = h("textarea", {
    name: "message",
    rows: 2,
    placeholder: store.can("control") ? "Message claude…" : 'Sending needs the "control" scope',
    disabled: !store.can("control"),
  });
  const send = h(
    "button",
    { type: "submit", class: "primary", disabled: !store.can("control") },
    "Send",
  );
  const form = h(
    "form",
    {
      class: "chat-form",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const content = input.value;
        if (!content.trim()) return;
        send.disabled = true;
        try {
          const entry = await store.rpc.call<LedgerEntry>("channel.send", {
            id: sessionId,
            content,
          });
          input.value = "";
          lastSent = content;
          const caption = h("small", { class: "via" }, stateOf(entry));
          captions.set(entry.messageId, caption);
          add(bubble("user", content, caption));
        } catch (err) {
          showError(`Send: ${(err as Error).message}`);
        } finally {
          send.disabled = false;
        }
      },
    },
    input,
    send,
  );
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  void load();
  return {
    el: h("div", { class: "chat" }, log, form),
    dispose: () => off.forEach((f) => f()),
  };
}
