import { hostname } from "node:os";
import type { RequestContext } from "../rpc/methods.js";
import type { MethodRegistry } from "../rpc/registry.js";
import { noParams } from "../rpc/schemas.js";
import { loginCodeSeconds, type LoginCodes } from "./login-codes.js";

/**
 * The dashboard's address for the remote API at `remoteUrl` (ws:// or wss://): http:// or
 * https://, and this machine's host name for a wildcard bind, which no browser can open.
 */
export function dashboardUrl(remoteUrl: string, host = hostname()): string {
  const url = new URL(remoteUrl.replace(/^ws/, "http"));
  if (url.hostname === "0.0.0.0" || url.hostname === "[::]") url.hostname = host;
  return url.origin;
}

/** `dashboard.login`, for `claude-poolctl dashboard`. */
export function addDashboardMethods(
  registry: MethodRegistry<RequestContext>,
  logins: LoginCodes,
  remoteUrl: () => string,
): void {
  registry.method("dashboard.login", {
    scope: "admin",
    description:
      `A one-time login link to the dashboard: opened within ${loginCodeSeconds} s, it signs ` +
      "the browser in with the main token (the code is in the link's #fragment, which no " +
      "request carries).",
    params: noParams,
    result: {
      type: "object",
      properties: {
        url: { type: "string" },
        code: { type: "string" },
        expiresAt: { type: "string" },
      },
    },
    handler: () => {
      const { code, expiresAt } = logins.issue();
      const base = dashboardUrl(remoteUrl());
      return { url: `${base}/#login=${code}`, code, expiresAt: expiresAt.toISOString() };
    },
  });
}
