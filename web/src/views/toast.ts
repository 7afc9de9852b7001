import { h } from "../dom.js";

const shownMs = 12_000;

/** Shows the pool's message as it is, until dismissed or for a while. */
export function showError(message: string): void {
  let box = document.getElementById("toasts");
  if (!box) {
    box = h("div", { id: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  const toast = h(
    "div",
    { class: "toast error" },
    h("span", {}, message),
    h("button", { class: "close", "aria-label": "Dismiss", onclick: () => toast.remove() }, "×"),
  );
  box.append(toast);
  window.setTimeout(() => toast.remove(), shownMs);
}
