import type { IncomingMessage, ServerResponse } from "node:http";
import { hasScope } from "../auth/scopes.js";
import type { AuthResult } from "../rpc/http-auth.js";
import { sendError } from "../rpc/rest.js";

/** What `GET /metrics` serves. */
export interface MetricsSource {
  text(): Promise<{ contentType: string; body: string }>;
}

/** `GET /metrics`: the Prometheus text exposition, for a token with the `read` scope. */
export function serveMetrics(
  req: IncomingMessage,
  res: ServerResponse,
  metrics: MetricsSource,
  auth: AuthResult,
  onError: (err: Error) => void,
): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    return sendError(res, 405, `${req.method} is not allowed on /metrics; use GET`);
  }
  if (!auth.ok) return sendError(res, auth.status, auth.message);
  if (!hasScope(auth.caller.scopes, "read")) {
    return sendError(
      res,
      403,
      '/metrics needs a token with the "read" scope; make one with "claude-poolctl token create --name prometheus --scope read"',
    );
  }
  metrics.text().then(
    ({ contentType, body }) => {
      res.writeHead(200, {
        "content-type": contentType,
        "content-length": Buffer.byteLength(body),
      });
      res.end(req.method === "HEAD" ? undefined : body);
    },
    (err: Error) => {
      onError(err);
      sendError(res, 500, "cannot collect the metrics; see the pool's log");
    },
  );
}
