import type { IncomingMessage } from "node:http";
import type { Caller, TokenStore } from "../auth/tokens.js";

export type AuthResult =
  { ok: true; caller: Caller } | { ok: false; status: 401 | 403; message: string };

/**
 * The WebSocket subprotocol a browser offers, beside `bearer.<token as base64url>`: browsers
 * cannot set Authorization on a WebSocket, and a token in the URL would end up in logs.
 */
export const browserProtocol = "claude-pool";
const tokenProtocol = "bearer.";

/**
 * The token from `Authorization: Bearer …`, from the `bearer.` WebSocket subprotocol, or from
 * `?token=` for browsers (never logged).
 */
export function presentedToken(request: IncomingMessage): string | null {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    return match ? match[1] : null;
  }
  const offered = (request.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
  const bearer = offered.find((p) => p.startsWith(tokenProtocol));
  if (bearer) return Buffer.from(bearer.slice(tokenProtocol.length), "base64url").toString("utf8");
  const url = new URL(request.url ?? "/", "http://pool");
  return url.searchParams.get("token");
}

/**
 * Whether a browser's Origin may use the API: one of `allowedOrigins` (or "*"), or the pool's own
 * (the dashboard's page, served from the host the request names). Clients that are no browser
 * send no Origin.
 */
export function originAllowed(request: IncomingMessage, allowedOrigins: string[]): boolean {
  const origin = request.headers.origin;
  if (origin === undefined || allowedOrigins.includes(origin) || allowedOrigins.includes("*")) {
    return true;
  }
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** Checks the token, and the Origin a browser sends (see originAllowed). */
export function authenticate(
  request: IncomingMessage,
  tokens: TokenStore,
  allowedOrigins: string[],
): AuthResult {
  const origin = request.headers.origin;
  if (!originAllowed(request, allowedOrigins)) {
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
