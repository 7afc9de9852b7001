import type { IncomingMessage, ServerResponse } from "node:http";
import type { Caller } from "../auth/tokens.js";
import { ErrorCode, PoolError } from "../errors.js";
import type { RequestContext } from "./methods.js";
import type { Peer } from "./peer.js";
import type { MethodRegistry } from "./registry.js";

/** The seed's REST routes, each one call of the method registry. */
const routes: { method: string; path: RegExp; call: string; body?: boolean; created?: boolean }[] =
  [
    { method: "GET", path: /^\/sessions\/?$/, call: "session.list" },
    { method: "POST", path: /^\/sessions\/?$/, call: "session.spawn", body: true, created: true },
    { method: "GET", path: /^\/sessions\/([^/]+)\/?$/, call: "session.get" },
    { method: "DELETE", path: /^\/sessions\/([^/]+)\/?$/, call: "session.kill" },
    { method: "POST", path: /^\/sessions\/([^/]+)\/resume\/?$/, call: "session.resume" },
  ];

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
  const route = routes.find((r) => r.method === req.method && r.path.test(path));
  if (!route) {
    sendError(res, 405, `${req.method} is not allowed on ${path}`);
    return;
  }
  const id = route.path.exec(path)?.[1];
  let params: object = id === undefined ? {} : { id: decodeURIComponent(id) };
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
  try {
    const result = await context.registry.call(route.call, params, {
      peer: context.peer,
      caller: context.caller,
    });
    sendJson(res, route.created ? 201 : 200, result);
  } catch (err) {
    if (!(err instanceof PoolError)) throw err;
    sendError(res, statusOf[err.code] ?? 500, err.message, err.code);
  }
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
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
