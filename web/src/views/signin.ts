import { h } from "../dom.js";

/**
 * The sign-in page: paste a token (claude-poolctl token, or token create --scope), or open the
 * link that `claude-poolctl dashboard` prints.
 */
export function signInView(
  message: string | null,
  submit: (token: string) => Promise<void>,
): HTMLElement {
  const token = h("input", {
    type: "password",
    id: "token",
    name: "token",
    autocomplete: "off",
    placeholder: "cpt_…",
    required: true,
    "aria-label": "Token",
  });
  const error = h("p", { class: "error", role: "alert" }, message ?? "");
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  return h(
    "section",
    { class: "signin" },
    h("h1", {}, "claude-pool"),
    h(
      "form",
      {
        onsubmit: async (event: Event) => {
          event.preventDefault();
          button.disabled = true;
          error.textContent = "";
          try {
            await submit(token.value);
          } catch (err) {
            error.textContent = (err as Error).message;
          } finally {
            button.disabled = false;
          }
        },
      },
      h("label", { for: "token" }, "Token"),
      token,
      button,
      error,
    ),
    h(
      "p",
      { class: "note" },
      "Paste a token (",
      h("code", {}, "claude-poolctl token"),
      ", or one made with ",
      h("code", {}, "claude-poolctl token create --name phone --scope read,approve"),
      "), or open the one-time link that ",
      h("code", {}, "claude-poolctl dashboard"),
      " prints. The token stays in this tab until it closes.",
    ),
  );
}
