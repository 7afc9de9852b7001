import type { SignIn } from "./types.js";

/** The token lives in this tab's session storage: gone when the tab closes, never in a URL. */
const key = "claude-pool.token";

export function storedToken(): string | null {
  return sessionStorage.getItem(key);
}

export function forgetToken(): void {
  sessionStorage.removeItem(key);
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
  return body as SignIn;
}

/** A login link's code from the page's #login=CODE, removed from the address bar and history. */
export function takeLoginCode(): string | null {
  const match = /^#login=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, "", location.pathname + location.search);
  return match[1];
}
