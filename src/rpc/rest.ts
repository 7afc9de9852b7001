import type { IncomingMessage, ServerResponse } from "node:http";
import type { Caller } from "../auth/tokens.js";
import { ErrorCode, PoolError } from "../errors.js";
import type { RequestContext } from "./methods.js";
import type { Peer } from "./peer.js";
import type { MethodRegistry } from "./registry.js";

type Call = (method: string, params: object) => Promise<unknown>;

interface Route {
  method: string;
  path: RegExp;
  /** Calls the method registry; `params` is the body, or the session id of the path. */
  run: (call: Call, params: object, query: URLSearchParams) => Promise<unknown>;
  body?: boolean;
  created?: boolean;
}

const one =
  (method: string): Route["run"] =>
  (call, params) =>
    call(method, params);

/** The seed's REST routes, each a call of the method registry. */
const routes: Route[] = [
  { method: "GET", path: /^\/sessions\/?$/, run: one("session.list") },
  {
    method: "POST",
    path: /^\/sessions\/?$/,
    run: one("session.spawn"),
    body: true,
    created: true,
  },
  { method: "GET", path: /^\/sessions\/([^/]+)\/?$/, run: one("session.get") },
  {
    method: "DELETE",
    path: /^\/sessions\/([^/]+)\/?$/,
    // ?remove=true: stop, then remove from the registry (answers {removed})
    run: async (call, params, query) => {
      const remove = flag(query, "remove");
      const stopped = (await call("session.kill", params)) as { id: string };
      return remove ? call("session.remove", { id: stopped.id }) : stopped;
    },
  },
  { method: "POST", path: /^\/sessions\/([^/]+)\/resume\/?$/, run: one("session.resume") },
];

function flag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  if (value === null || value === "false") return false;
  if (value === "true") return true;
  throw new PoolError(ErrorCode.InvalidParams, `?${name}= takes true or false, not "${value}"`);
}

const statusOf: Record<number, number> = {
  [ErrorCode.SessionNotFound]: 404,
  [ErrorCode.PoolFull]: 409,
  [ErrorCode.InvalidState]: 409,
  [ErrorCode.Unauthorized]: 403,
  [ErrorCode.InvalidParams]: 400,
  [ErrorCode.InvalidRequest]: 400,
};

const maxBodyBytes = 1 << 20;

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  code?: number,
): void {
  sendJson(res, status, { error: message, ...(code === undefined ? {} : { code }) });
}

/** Whether `path` is one of the REST routes (for 404 vs 405). */
export function isRestPath(path: string): boolean {
  return routes.some((r) => r.path.test(path));
}

/** Serves one REST request; `peer` stands in for a connection the methods may ask about. */
export async function serveRest(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  context: { registry: MethodRegistry<RequestContext>; caller: Caller; peer: Peer },
): Promise<void> {
  const matching = routes.filter((r) => r.path.test(path));
  const route = matching.find((r) => r.method === req.method);
  if (!route) {
    const allowed = matching.map((r) => r.method).join(", ");
    res.setHeader("allow", allowed);
    sendError(res, 405, `${req.method} is not allowed on ${path}; use ${allowed}`);
    return;
  }
  const id = route.path.exec(path)?.[1];
  let params: object = {};
  if (id !== undefined) {
    try {
      params = { id: decodeURIComponent(id) };
    } catch {
      sendError(res, 400, `malformed percent-encoding in ${path}; encode the session id as UTF-8`);
      return;
    }
  }
  if (route.body) {
    let body: unknown;
    try {
      body = await readJsonBody(req);
    } catch (err) {
      sendError(res, 400, (err as Error).message);
      return;
    }
    params = body ?? {};
  }
  const query = new URL(req.url ?? "/", "http://pool").searchParams;
  const call: Call = (method, callParams) =>
    context.registry.call(method, callParams, { peer: context.peer, caller: context.caller });
  try {
    const result = await route.run(call, params, query);
    sendJson(res, route.created ? 201 : 200, result);
  } catch (err) {
    if (!(err instanceof PoolError)) throw err;
    sendError(res, statusOf[err.code] ?? 500, err.message, err.code);
  }
}

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new Error(`body larger than ${maxBodyBytes} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`body is not valid JSON: ${(err as Error).message}`);
  }
}
