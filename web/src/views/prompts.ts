import { h } from "../dom.js";
import type { Store } from "../store.js";
import type { Prompt } from "../types.js";
import { showError } from "./toast.js";

/** The input preview as the pool sent it, indented when it is JSON. */
function inputText(preview: string): string {
  try {
    return JSON.stringify(JSON.parse(preview), null, 2);
  } catch {
    return preview;
  }
}

/** A permission prompt: the tool, what it would do, Allow / Deny for the "approve" scope. */
export function promptCard(store: Store, prompt: Prompt, sessionName?: string): HTMLElement {
  const allowed = store.can("approve");
  const answer = async (behavior: "allow" | "deny", button: HTMLButtonElement) => {
    for (const b of card.querySelectorAll("button")) b.disabled = true;
    button.textContent = behavior === "allow" ? "Allowing…" : "Denying…";
    try {
      await store.rpc.call("permission.respond", {
        id: prompt.id,
        requestId: prompt.requestId,
        behavior,
      });
    } catch (err) {
      showError(`Answer ${prompt.toolName}: ${(err as Error).message}`);
      for (const b of card.querySelectorAll("button")) b.disabled = false;
      button.textContent = behavior === "allow" ? "Allow" : "Deny";
    }
  };
  const allow: HTMLButtonElement = h(
    "button",
    { class: "primary allow", onclick: () => void answer("allow", allow) },
    "Allow",
  );
  const deny: HTMLButtonElement = h(
    "button",
    { class: "danger deny", onclick: () => void answer("deny", deny) },
    "Deny",
  );
  const card = h(
    "article",
    { class: "prompt", "data-request": prompt.requestId },
    h(
      "header",
      {},
      h("strong", {}, prompt.toolName),
      sessionName ? h("a", { href: `#/s/${prompt.id}` }, sessionName) : null,
    ),
    prompt.description ? h("p", {}, prompt.description) : null,
    h("pre", { class: "input" }, inputText(prompt.inputPreview)),
    allowed
      ? h("div", { class: "buttons" }, allow, deny)
      : h("p", { class: "note" }, 'Answering needs a token with the "approve" scope.'),
  );
  return card;
}
