import { h } from "../dom.js";
import type { Store } from "../store.js";
import type { LedgerEntry } from "../types.js";
import { showError } from "./toast.js";

function time(iso: string | null): string {
  return iso ? new Date(iso).toLocaleTimeString() : "";
}

function entryRow(entry: LedgerEntry): HTMLElement {
  return h(
    "tr",
    { "data-message": entry.messageId, "data-state": entry.state },
    h("td", {}, time(entry.createdAt)),
    h("td", {}, entry.from),
    h(
      "td",
      { class: "state" },
      entry.state,
      entry.via ? h("small", {}, ` via ${entry.via}`) : null,
    ),
    h(
      "td",
      { class: "content" },
      entry.content,
      entry.note ? h("small", { class: "note" }, entry.note) : null,
      ...entry.replies.map((r) => h("div", { class: "reply" }, `↳ ${r.text}`)),
    ),
  );
}

/** The delivery ledger (channel.history): every channel.send, its path and its replies. */
export function ledgerView(store: Store, sessionId: string) {
  const body = h("tbody");
  const rows = new Map<string, HTMLElement>();
  const put = (entry: LedgerEntry) => {
    const row = entryRow(entry);
    const old = rows.get(entry.messageId);
    if (old) old.replaceWith(row);
    else body.append(row);
    rows.set(entry.messageId, row);
  };
  store.rpc.call<LedgerEntry[]>("channel.history", { id: sessionId, limit: 50 }).then(
    (entries) => entries.forEach(put),
    (err: Error) => showError(`Ledger: ${err.message}`),
  );
  const off = store.on("channel.message", (p) => {
    if (p.id === sessionId) put(p.message as LedgerEntry);
  });
  return {
    el: h(
      "div",
      { class: "ledger" },
      h(
        "table",
        {},
        h(
          "thead",
          {},
          h("tr", {}, ...["Time", "From", "State", "Message"].map((t) => h("th", {}, t))),
        ),
        body,
      ),
    ),
    dispose: off,
  };
}
