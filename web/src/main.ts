import "./style.css";
import { forgetToken, signIn, storedSignIn, takeLoginCode } from "./auth.js";
import { fill, h, setText } from "./dom.js";
import { needingYou } from "./model.js";
import { askOnce, notifyWaiting } from "./notify.js";
import { Rpc, rpcUrl } from "./rpc.js";
import { Store } from "./store.js";
import type { SignIn } from "./types.js";
import { listView } from "./views/list.js";
import { needsView } from "./views/needs.js";
import { sessionView } from "./views/session.js";
import { signInView } from "./views/signin.js";

const root = document.getElementById("app")!;

/**
 * A login link's code, else the sign-in this tab kept (a revoked token shows when the connection
 * is refused), else the sign-in page.
 */
async function boot(): Promise<void> {
  const code = takeLoginCode();
  const stored = storedSignIn();
  try {
    if (code) return start(await signIn({ code }));
    if (stored?.caller) return start(stored.caller);
    if (stored) return start(await signIn({ token: stored.token }));
  } catch (err) {
    forgetToken();
    return showSignIn((err as Error).message);
  }
  showSignIn(null);
}

function showSignIn(message: string | null): void {
  document.title = "Sign in · claude-pool";
  fill(
    root,
    signInView(message, async (token) => {
      const caller = await signIn({ token });
      void askOnce();
      start(caller);
    }),
  );
}

function start(caller: SignIn): void {
  const rpc = new Rpc(rpcUrl(location), caller.token);
  const store = new Store(rpc, caller);
  store.onWaiting = notifyWaiting;

  const connection = h("span", { class: "connection", "data-state": "connecting" }, "connecting");
  const needsCount = h("span", { class: "badge", hidden: true });
  const nav = h(
    "nav",
    { class: "top" },
    h("a", { href: "#/", "data-route": "list" }, "Sessions"),
    h("a", { href: "#/needs", "data-route": "needs" }, "Needs you ", needsCount),
  );
  const signOut = () => {
    rpc.stop();
    forgetToken();
    window.removeEventListener("hashchange", route);
    showSignIn(null);
  };
  const main = h("main", {});
  fill(
    root,
    h(
      "header",
      { class: "bar" },
      h("a", { class: "brand", href: "#/" }, "claude-pool"),
      nav,
      h(
        "div",
        { class: "who" },
        connection,
        h("span", { class: "caller" }, `${caller.name} (${caller.scopes.join(", ")})`),
        h("button", { class: "link", onclick: signOut }, "Sign out"),
      ),
    ),
    main,
  );

  rpc.onState((state, failures) => {
    connection.dataset.state = state;
    setText(
      connection,
      state === "open" ? "live" : state === "connecting" ? "connecting" : "offline",
    );
    // refused again and again: the token may be revoked, which the login endpoint says
    if (state === "closed" && failures >= 2) {
      signIn({ token: caller.token }).catch((err: Error) => {
        if (!/does not answer/.test(err.message)) {
          rpc.stop();
          forgetToken();
          window.removeEventListener("hashchange", route);
          showSignIn(err.message);
        }
      });
    }
  });
  store.subscribe(() => {
    const waiting = needingYou(store.sessions.values(), store.prompts.values()).length;
    needsCount.hidden = waiting === 0;
    setText(needsCount, String(waiting));
    document.title = `${waiting > 0 ? `(${waiting}) ` : ""}claude-pool`;
  });

  let current: { dispose: () => void } | null = null;
  function route(): void {
    current?.dispose();
    const hash = location.hash;
    const session = /^#\/s\/([^/]+)$/.exec(hash);
    const view = session
      ? sessionView(store, decodeURIComponent(session[1]))
      : hash === "#/needs"
        ? needsView(store)
        : listView(store);
    for (const link of nav.querySelectorAll("a")) {
      const active = link.dataset.route === (hash === "#/needs" ? "needs" : session ? "" : "list");
      link.classList.toggle("active", active);
    }
    current = view;
    fill(main, view.el);
  }
  window.addEventListener("hashchange", route);
  route();
  rpc.start();
}

void boot();
