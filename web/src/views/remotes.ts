import { h, fill } from "../dom.js";
import { activityLabel, byName, excerpt } from "../model.js";
import type { Store } from "../store.js";
import type { RemoteSessions } from "../types.js";

/** Other hosts' sessions come from remote.list, which the pool asks them for: polled. */
const remotesRefreshMs = 10_000;

/**
 * The pools of config `remotes` and their sessions, read-only, under this pool's own: each is
 * watched and acted on in its own dashboard (a link to it), with its own sign-in.
 */
export function remotesSection(store: Store): { el: HTMLElement; dispose: () => void } {
  const el = h("section", { class: "remotes", "aria-label": "Other hosts", hidden: true });
  const load = async () => {
    try {
      render(await store.rpc.call<RemoteSessions[]>("remote.list"));
    } catch {
      el.hidden = true;
    }
  };
  const render = (remotes: RemoteSessions[]) => {
    el.hidden = remotes.length === 0;
    fill(el, ...remotes.map(remoteBlock));
  };
  // the first call waits for the connection's session.list, so it does not fail before it
  let started = false;
  const start = () => {
    if (started || !store.loaded) return;
    started = true;
    void load();
  };
  const unsubscribe = store.subscribe(start);
  start();
  const timer = window.setInterval(() => {
    if (document.visibilityState === "visible") void load();
  }, remotesRefreshMs);
  return {
    el,
    dispose: () => {
      unsubscribe();
      window.clearInterval(timer);
    },
  };
}

function remoteBlock(remote: RemoteSessions): HTMLElement {
  const page = remote.url.replace(/^ws/, "http").replace(/\/rpc$/, "");
  const title = h(
    "h2",
    { "data-remote": remote.name },
    h("a", { href: page, target: "_blank", rel: "noopener" }, remote.name),
    " ",
    h("span", { class: "count" }, remote.error === null ? `${remote.sessions.length}` : "!"),
  );
  if (remote.error !== null) {
    return h(
      "div",
      { class: "remote" },
      title,
      h("p", { class: "note" }, `Unreachable: ${remote.error}`),
    );
  }
  const rows = [...remote.sessions]
    .sort(byName)
    .map((s) =>
      h(
        "div",
        { class: "row remote-session", role: "row", "data-id": s.id },
        h(
          "span",
          { class: "cell name", role: "cell" },
          h("strong", {}, s.name),
          h("small", {}, s.id),
        ),
        h("span", { class: "cell status", role: "cell", "data-status": s.status }, s.status),
        h("span", { class: "cell activity", role: "cell" }, activityLabel(s)),
        h("span", { class: "cell reply", role: "cell" }, excerpt(s.lastTurn?.reply ?? s.reason)),
      ),
    );
  return h(
    "div",
    { class: "remote" },
    title,
    h(
      "div",
      { class: "table", role: "table", "aria-label": `Sessions on ${remote.name}` },
      ...rows,
    ),
  );
}
