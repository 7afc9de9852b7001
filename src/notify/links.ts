/**
 * Where the dashboard is, for links in notifications: `publicUrl` when the config gives one,
 * else the remote API's own address (ws → http, wss → https), a wildcard bind replaced by the
 * machine's host name. Null until the remote API listens.
 */
export function dashboardUrl(
  publicUrl: string | undefined,
  apiUrl: string | null,
  hostname: string,
): string | null {
  if (publicUrl !== undefined) return publicUrl.replace(/\/+$/, "");
  if (apiUrl === null) return null;
  const url = new URL(apiUrl.replace(/^ws/, "http"));
  if (url.hostname === "0.0.0.0" || url.hostname === "[::]") url.hostname = hostname;
  return url.origin;
}

/** The dashboard's page of session `id`. */
export function sessionPage(dashboard: string, id: string): string {
  return `${dashboard}/#/sessions/${encodeURIComponent(id)}`;
}
