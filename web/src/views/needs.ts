import { fill, h } from "../dom.js";
import { activityLabel, needingYou } from "../model.js";
import { askOnce, notificationsSupported } from "../notify.js";
import type { Store } from "../store.js";
import { promptCard } from "./prompts.js";

/** Every session that waits for a person, across the pool, with its prompts to answer here. */
export function needsView(store: Store) {
  const list = h("div", { class: "needs" });
  const notice = h("div", { class: "notify-bar" });

  const renderNotice = () => {
    if (!notificationsSupported()) {
      fill(notice, h("p", { class: "note" }, "Browser notifications need https or localhost."));
    } else if (Notification.permission === "default") {
      fill(
        notice,
        h(
          "button",
          { onclick: () => void askOnce(true).then(renderNotice) },
          "Notify me when a session needs me",
        ),
      );
    } else {
      fill(
        notice,
        h(
          "p",
          { class: "note" },
          Notification.permission === "granted"
            ? "Notifications are on."
            : "Notifications are blocked in this browser's site settings.",
        ),
      );
    }
  };

  let shown: string | null = null;
  const render = () => {
    const sessions = needingYou(store.sessions.values(), store.prompts.values());
    // the same waits as shown: leave the cards (and a button being pressed) alone
    const key = JSON.stringify([
      store.loaded,
      sessions.map((s) => [s.id, s.name, s.blockedOn, activityLabel(s)]),
      [...store.prompts.keys()],
    ]);
    if (key === shown) return;
    shown = key;
    if (sessions.length === 0) {
      fill(list, h("p", { class: "empty" }, store.loaded ? "Nobody is waiting for you." : "…"));
      return;
    }
    fill(
      list,
      sessions.map((session) => {
        const prompts = store.promptsOf(session.id);
        return h(
          "article",
          { class: "need", "data-id": session.id },
          h(
            "header",
            {},
            h("a", { href: `#/s/${session.id}` }, h("strong", {}, session.name)),
            h(
              "span",
              {},
              session.blockedOn
                ? `waiting at the ${session.blockedOn} dialog`
                : activityLabel(session),
            ),
          ),
          prompts.map((p) => promptCard(store, p)),
          prompts.length === 0 && session.waitingFor?.kind !== "permission"
            ? h("p", { class: "note" }, "Answer it in the session's terminal.")
            : null,
        );
      }),
    );
  };
  renderNotice();
  const unsubscribe = store.subscribe(render);
  render();
  return {
    el: h("section", { class: "needs-view" }, h("h2", {}, "Needs you"), notice, list),
    dispose: unsubscribe,
  };
}
