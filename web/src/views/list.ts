import { fill, h, setText } from "../dom.js";
import {
  actionsFor,
  activityLabel,
  byName,
  excerpt,
  formatBytes,
  formatCpu,
  formatDuration,
  idleNow,
  type Action,
} from "../model.js";
import type { Store } from "../store.js";
import type { SessionInfo } from "../types.js";
import { remotesSection } from "./remotes.js";
import { showError } from "./toast.js";

/** Memory and CPU are sampled by the pool, not signalled: reloaded this often while shown. */
const statsRefreshMs = 15_000;

interface Row {
  el: HTMLElement;
  status: HTMLElement;
  activity: HTMLElement;
  reply: HTMLElement;
  restarts: HTMLElement;
  memory: HTMLElement;
  cpu: HTMLElement;
  idle: HTMLElement;
  actions: HTMLElement;
  actionsKey: string;
}

const actionLabels: Record<Action, string> = { kill: "Stop", resume: "Resume", remove: "Remove" };
const actionMethods: Record<Action, string> = {
  kill: "session.kill",
  resume: "session.resume",
  remove: "session.remove",
};

/** Runs a lifecycle action; the pool's own message is shown when it refuses. */
export async function runAction(store: Store, action: Action, session: SessionInfo) {
  try {
    await store.rpc.call(actionMethods[action], { id: session.id });
  } catch (err) {
    showError(`${actionLabels[action]} ${session.name}: ${(err as Error).message}`);
  }
}

export function actionButtons(store: Store, session: SessionInfo): HTMLElement[] {
  if (!store.can("control")) return [];
  return actionsFor(session.status).map((action) =>
    h(
      "button",
      {
        class: `action ${action === "remove" ? "danger" : ""}`,
        "data-action": action,
        onclick: (event: Event) => {
          event.preventDefault();
          if (action === "remove" && !confirm(`Remove ${session.name} from the pool?`)) return;
          void runAction(store, action, session);
        },
      },
      actionLabels[action],
    ),
  );
}

/** The sessions list: a row per session, kept current by signals; the spawn form above it. */
export function listView(store: Store): { el: HTMLElement; dispose: () => void } {
  const rows = new Map<string, Row>();
  const body = h("div", { class: "rows", role: "rowgroup" });
  const empty = h("p", { class: "empty" }, "No sessions yet.");
  const count = h("span", { class: "count" });

  const render = () => {
    const sessions = [...store.sessions.values()].sort(byName);
    for (const [id, row] of rows) {
      if (!store.sessions.has(id)) {
        row.el.remove();
        rows.delete(id);
      }
    }
    let previous: Element | null = null;
    for (const session of sessions) {
      let row = rows.get(session.id);
      if (!row) {
        row = makeRow(session);
        rows.set(session.id, row);
      }
      updateRow(store, row, session);
      const expected: Element | null = previous
        ? previous.nextElementSibling
        : body.firstElementChild;
      if (expected !== row.el) {
        if (previous) previous.after(row.el);
        else body.prepend(row.el);
      }
      previous = row.el;
    }
    empty.hidden = sessions.length > 0 || !store.loaded;
    setText(count, store.loaded ? `${sessions.length}` : "…");
  };

  const tick = window.setInterval(() => {
    for (const [id, row] of rows) {
      const session = store.sessions.get(id);
      if (session) setText(row.idle, idleText(store, session));
    }
  }, 1000);
  const stats = window.setInterval(() => {
    if (document.visibilityState === "visible") store.refresh().catch(() => {});
  }, statsRefreshMs);

  const el = h(
    "section",
    { class: "list-view" },
    spawnForm(store),
    h("h2", {}, "Sessions ", count),
    h(
      "div",
      { class: "table", role: "table", "aria-label": "Sessions" },
      h(
        "div",
        { class: "row head", role: "row" },
        ...[
          "Name",
          "Status",
          "Activity",
          "Last reply",
          "Restarts",
          "Memory",
          "CPU",
          "Idle",
          "",
        ].map((t) => h("span", { role: "columnheader" }, t)),
      ),
      body,
    ),
    empty,
  );
  const remotes = remotesSection(store);
  el.append(remotes.el);
  const unsubscribe = store.subscribe(render);
  render();
  return {
    el,
    dispose: () => {
      unsubscribe();
      window.clearInterval(tick);
      window.clearInterval(stats);
      remotes.dispose();
    },
  };
}

function idleText(store: Store, session: SessionInfo): string {
  const elapsed = Date.now() - (store.received.get(session.id) ?? Date.now());
  return formatDuration(idleNow(session, elapsed));
}

function makeRow(session: SessionInfo): Row {
  const cell = (cls: string, label: string) =>
    h("span", { class: `cell ${cls}`, role: "cell", "data-label": label });
  const row: Row = {
    el: h("div", { class: "row session", role: "row", "data-id": session.id }),
    status: cell("status", "Status"),
    activity: cell("activity", "Activity"),
    reply: cell("reply", "Last reply"),
    restarts: cell("num", "Restarts"),
    memory: cell("num", "Memory"),
    cpu: cell("num", "CPU"),
    idle: cell("num", "Idle"),
    actions: cell("actions", ""),
    actionsKey: "",
  };
  const name = h(
    "a",
    { class: "cell name", role: "cell", href: `#/s/${session.id}` },
    h("strong", {}, session.name),
    h("small", {}, session.id),
  );
  row.el.append(
    name,
    row.status,
    row.activity,
    row.reply,
    row.restarts,
    row.memory,
    row.cpu,
    row.idle,
    row.actions,
  );
  return row;
}

function updateRow(store: Store, row: Row, session: SessionInfo): void {
  const waiting = session.activity === "waiting" || session.blockedOn !== null;
  row.el.classList.toggle("waiting", waiting);
  row.status.dataset.status = session.status;
  setText(row.status, session.status);
  setText(
    row.activity,
    session.blockedOn ? `waiting at the ${session.blockedOn} dialog` : activityLabel(session),
  );
  row.activity.dataset.activity = session.activity ?? "none";
  setText(row.reply, excerpt(session.lastTurn?.reply ?? session.reason));
  setText(row.restarts, String(session.restarts));
  setText(row.memory, formatBytes(session.memoryBytes));
  setText(row.cpu, formatCpu(session.cpuSeconds));
  setText(row.idle, idleText(store, session));
  const key = `${session.status}`;
  if (key !== row.actionsKey) {
    row.actionsKey = key;
    fill(row.actions, actionButtons(store, session));
  }
}

/** Spawn: name, working directory, model, keepWarm; the pool's defaults fill the rest. */
function spawnForm(store: Store): HTMLElement {
  const allowed = store.can("control");
  const name = h("input", { name: "name", placeholder: "name (optional)", autocomplete: "off" });
  const cwd = h("input", {
    name: "workingDirectory",
    placeholder: "working directory (default: the pool's)",
    autocomplete: "off",
  });
  const model = h("input", { name: "model", placeholder: "model (optional)", autocomplete: "off" });
  const keepWarm = h("input", { type: "checkbox", name: "keepWarm" });
  const submit = h("button", { type: "submit", class: "primary", disabled: !allowed }, "Spawn");
  const form = h(
    "form",
    {
      class: "spawn",
      "aria-label": "Spawn a session",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        const params: Record<string, unknown> = {};
        if (name.value.trim()) params.name = name.value.trim();
        if (cwd.value.trim()) params.workingDirectory = cwd.value.trim();
        if (model.value.trim()) params.model = model.value.trim();
        if (keepWarm.checked) params.keepWarm = true;
        submit.disabled = true;
        try {
          await store.rpc.call("session.spawn", params);
          form.reset();
        } catch (err) {
          showError(`Spawn: ${(err as Error).message}`);
        } finally {
          submit.disabled = false;
        }
      },
    },
    name,
    cwd,
    model,
    h("label", { class: "check" }, keepWarm, " keep warm"),
    submit,
  );
  for (const input of [name, cwd, model, keepWarm]) input.disabled = !allowed;
  if (!allowed) {
    form.append(
      h(
        "p",
        { class: "note" },
        'Spawning, stopping and typing need a token with the "control" scope.',
      ),
    );
  }
  return form;
}
