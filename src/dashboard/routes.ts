import type { IncomingMessage, ServerResponse } from "node:http";
import type { TokenStore } from "../auth/tokens.js";
import { originAllowed } from "../rpc/http-auth.js";
import { readJsonBody, sendError } from "../rpc/rest.js";
import { DashboardAssets, securityHeaders } from "./assets.js";
import type { LoginCodes } from "./login-codes.js";

export interface DashboardOptions {
  tokens: TokenStore;
  logins: LoginCodes;
  allowedOrigins: () => string[];
  /** The built front end; null: not built (GET / says how to build it). */
  assets: DashboardAssets | null;
}

/** The sign-in endpoint: a login link's code, or a pasted token, for the token and its scopes. */
export const loginPath = "/login";

/** Whether `path` is the dashboard's: its page, its files, its sign-in. */
export function isDashboardPath(path: string, assets: DashboardAssets | null): boolean {
  return path === "/" || path === loginPath || (assets?.has(path) ?? false);
}

/** Serves a request for which isDashboardPath holds. */
export async function serveDashboard(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  options: DashboardOptions,
): Promise<void> {
  if (path === loginPath) return login(req, res, options);
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    sendError(res, 405, `${req.method} is not allowed on ${path}; use GET`);
    return;
  }
  if (!options.assets) {
    sendError(
      res,
      503,
      "the dashboard is not built: run `make build` in the source tree (it builds dist/dashboard)",
    );
    return;
  }
  options.assets.serve(req, res, path);
}

/**
 * POST /login {code} or {token} → {token, name, scopes}. A code works once and gives the main
 * token; a token is checked and answered with its scopes.
 */
async function login(
  req: IncomingMessage,
  res: ServerResponse,
  options: DashboardOptions,
): Promise<void> {
  for (const [name, value] of Object.entries(securityHeaders)) res.setHeader(name, value);
  res.setHeader("cache-control", "no-store");
  if (req.method !== "POST") {
    res.setHeader("allow", "POST");
    sendError(res, 405, `${req.method} is not allowed on ${loginPath}; POST {"code"} or {"token"}`);
    return;
  }
  if (!originAllowed(req, options.allowedOrigins())) {
    sendError(
      res,
      403,
      `origin ${req.headers.origin} is not allowed; add it to allowedOrigins in the pool's config`,
    );
    return;
  }
  let body: unknown;
  try {
    body = await readJsonBody(req);
  } catch (err) {
    sendError(res, 400, (err as Error).message);
    return;
  }
  const { code, token } = (body ?? {}) as { code?: unknown; token?: unknown };
  let secret: string;
  if (typeof code === "string") {
    if (!options.logins.redeem(code)) {
      sendError(
        res,
        401,
        'this login link was used already or has expired; run "claude-poolctl dashboard" for a new one',
      );
      return;
    }
    secret = options.tokens.mainToken();
  } else if (typeof token === "string") {
    secret = token.trim();
  } else {
    sendError(res, 400, 'send {"code": "..."} from a login link or {"token": "..."}');
    return;
  }
  const caller = options.tokens.authenticate(secret);
  if (!caller) {
    sendError(res, 401, 'unknown or revoked token; see "claude-poolctl token"');
    return;
  }
  const answer = JSON.stringify({ token: secret, name: caller.name, scopes: [...caller.scopes] });
  res.writeHead(200, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(answer),
  });
  res.end(answer);
}
