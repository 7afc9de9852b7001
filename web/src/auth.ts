import type { SignIn } from "./types.js";

/**
 * The token lives in this tab's session storage, gone when the tab closes, never in a URL; its
 * name and scopes beside it spare a reload the sign-in request.
 */
const key = "claude-pool.token";
const callerKey = "claude-pool.caller";

/** The sign-in this tab kept: the token and, once known, who it is. */
export function storedSignIn(): { token: string; caller: SignIn | null } | null {
  const token = sessionStorage.getItem(key);
  if (token === null) return null;
  try {
    const caller = JSON.parse(sessionStorage.getItem(callerKey) ?? "null") as SignIn | null;
    return { token, caller: caller?.token === token ? caller : null };
  } catch {
    return { token, caller: null };
  }
}

export function forgetToken(): void {
  sessionStorage.removeItem(key);
  sessionStorage.removeItem(callerKey);
}

/**
 * POST login with a login link's code or a pasted token; the pool answers with the token and
 * its scopes, or refuses with a message that says why.
 */
export async function signIn(credential: { code: string } | { token: string }): Promise<SignIn> {
  let res: Response;
  try {
    res = await fetch("login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(credential),
      cache: "no-store",
    });
  } catch {
    throw new Error("the pool does not answer; is it running?");
  }
  const body = (await res.json().catch(() => ({}))) as Partial<SignIn> & { error?: string };
  if (!res.ok) throw new Error(body.error ?? `the pool answered ${res.status}`);
  sessionStorage.setItem(key, body.token!);
  sessionStorage.setItem(callerKey, JSON.stringify(body));
  return body as SignIn;
}

/** A login link's code from the page's #login=CODE, removed from the address bar and history. */
export function takeLoginCode(): string | null {
  const match = /^#login=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, "", location.pathname + location.search);
  return match[1];
}
