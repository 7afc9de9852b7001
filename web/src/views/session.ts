import { fill, h, setText } from "../dom.js";
import { activityLabel, formatBytes, formatCpu } from "../model.js";
import type { Store } from "../store.js";
import type { LiveTerminal } from "../terminal.js";
import { chatView } from "./chat.js";
import { ledgerView } from "./ledger.js";
import { actionButtons } from "./list.js";
import { promptCard } from "./prompts.js";

type Tab = "terminal" | "chat" | "ledger";

/** One session: its state and actions, its pending prompts, and the terminal, chat and ledger. */
export function sessionView(store: Store, sessionId: string) {
  const title = h("h2", {});
  const facts = h("p", { class: "facts" });
  const actions = h("div", { class: "actions" });
  const prompts = h("div", { class: "prompts" });
  const panel = h("div", { class: "panel" });
  const tabs = h("nav", { class: "tabs", role: "tablist" });
  let actionsKey = "";
  let disposeTab: () => void = () => {};

  const renderHeader = () => {
    const session = store.sessions.get(sessionId);
    if (!session) {
      setText(title, store.loaded ? `No session ${sessionId}` : "…");
      setText(facts, store.loaded ? "It was removed, or the id is wrong." : "");
      fill(actions);
      return;
    }
    setText(title, session.name);
    const waiting = session.blockedOn
      ? `waiting at the ${session.blockedOn} dialog`
      : activityLabel(session);
    setText(
      facts,
      `${session.status} · ${waiting} · ${session.restarts} restarts · ` +
        `memory ${formatBytes(session.memoryBytes)} · CPU ${formatCpu(session.cpuSeconds)} · ` +
        `${session.workingDirectory}${session.reason ? ` · ${session.reason}` : ""}`,
    );
    if (actionsKey !== session.status) {
      actionsKey = session.status;
      fill(actions, actionButtons(store, session));
    }
    const pending = store.promptsOf(sessionId);
    const shown = [...prompts.children].map((c) => (c as HTMLElement).dataset.request).join();
    if (shown !== pending.map((p) => p.requestId).join()) {
      fill(
        prompts,
        pending.map((p) => promptCard(store, p)),
      );
    }
  };

  const open = (tab: Tab) => {
    disposeTab();
    for (const button of tabs.children) {
      button.setAttribute("aria-selected", String((button as HTMLElement).dataset.tab === tab));
    }
    if (tab === "terminal") disposeTab = terminalTab(store, sessionId, panel);
    else {
      const view = tab === "chat" ? chatView(store, sessionId) : ledgerView(store, sessionId);
      fill(panel, view.el);
      disposeTab = view.dispose;
    }
  };
  for (const [tab, label] of [
    ["terminal", "Terminal"],
    ["chat", "Chat"],
    ["ledger", "Ledger"],
  ] as [Tab, string][]) {
    tabs.append(h("button", { role: "tab", "data-tab": tab, onclick: () => open(tab) }, label));
  }

  const unsubscribe = store.subscribe(renderHeader);
  renderHeader();
  open("terminal");
  return {
    el: h(
      "section",
      { class: "session-view" },
      h("a", { href: "#/", class: "back" }, "← Sessions"),
      h("header", { class: "session-head" }, h("div", {}, title, facts), actions),
      prompts,
      tabs,
      panel,
    ),
    dispose: () => {
      unsubscribe();
      disposeTab();
    },
  };
}

/** The terminal tab: xterm.js loaded on first use, read-only until "Type" is switched on. */
function terminalTab(store: Store, sessionId: string, panel: HTMLElement): () => void {
  const screen = h("div", { class: "term-screen" });
  const status = h("span", { class: "term-status" }, "loading the terminal…");
  const typing = h("input", {
    type: "checkbox",
    name: "typing",
    disabled: true,
  });
  const canType = store.can("control");
  fill(
    panel,
    h(
      "div",
      { class: "term-bar" },
      h(
        "label",
        { class: "switch", title: canType ? "" : 'Typing needs the "control" scope' },
        typing,
        " Type",
      ),
      status,
    ),
    screen,
  );
  let live: LiveTerminal | null = null;
  let disposed = false;
  import("../terminal.js").then(
    ({ mountTerminal }) => {
      if (disposed) return;
      live = mountTerminal(screen, store.rpc, sessionId, (text) => setText(status, text));
      typing.disabled = !canType;
      typing.addEventListener("change", () => void live?.setTyping(typing.checked));
    },
    (err: Error) => setText(status, `the terminal did not load: ${err.message}`),
  );
  return () => {
    disposed = true;
    live?.dispose();
  };
}
