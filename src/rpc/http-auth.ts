import type { IncomingMessage } from "node:http";
import type { Caller, TokenStore } from "../auth/tokens.js";

export type AuthResult =
  { ok: true; caller: Caller } | { ok: false; status: 401 | 403; message: string };

/** The token from `Authorization: Bearer …`, or from `?token=` for browsers (never logged). */
export function presentedToken(request: IncomingMessage): string | null {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match ? match[1] : null;
  }
  const url = new URL(request.url ?? "/", "http://pool");
  return url.searchParams.get("token");
}

/** Checks the token, and the Origin a browser sends against `allowedOrigins`. */
export function authenticate(
  request: IncomingMessage,
  tokens: TokenStore,
  allowedOrigins: string[],
): AuthResult {
  const origin = request.headers.origin;
  if (origin !== undefined && !allowedOrigins.includes(origin) && !allowedOrigins.includes("*")) {
    return {
      ok: false,
      status: 403,
      message: `origin ${origin} is not allowed; add it to allowedOrigins in the pool's config`,
    };
  }
  const token = presentedToken(request);
  if (token === null) {
    return {
      ok: false,
      status: 401,
      message: 'no token: send "Authorization: Bearer <token>" (see "claude-poolctl token")',
    };
  }
  const caller = tokens.authenticate(token);
  return caller
    ? { ok: true, caller }
    : { ok: false, status: 401, message: "unknown or revoked token" };
}

/** The path of a request without its query string; null for a target that is no URL. */
export function pathOf(request: IncomingMessage): string | null {
  try {
    return new URL(request.url ?? "/", "http://pool").pathname;
  } catch {
    return null;
  }
}
