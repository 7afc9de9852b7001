import { ErrorCode, PoolError } from "../errors.js";
import type { Logger } from "../log.js";
import type { RateLimiter } from "./rate-limit.js";
import type { CallerContext, MethodRegistry } from "./registry.js";

/** Requests in one batch, at most; a larger batch is refused whole. */
export const maxBatchRequests = 100;

type Id = string | number | null;

interface ErrorObject {
  code: number;
  message: string;
}

const parseErrorCode = -32700;
const internalErrorCode = -32603;
/** JSON-RPC's range for server errors; the rate limit's. */
const rateLimitedCode = -32000;

const example = '{"jsonrpc":"2.0","id":1,"method":"pool.status"}';

/** A request as JSON-RPC 2.0 defines it; `id` undefined makes it a notification. */
interface Request {
  id?: Id;
  method: string;
  params?: unknown;
}

/** One item of a message (or the message itself): a request, or why it is not one. */
export type Classified = { ok: true; request: Request } | { ok: false; id: Id; problem: string };

function isId(value: unknown): value is Id {
  return value === null || typeof value === "string" || typeof value === "number";
}

/** Checks one item against JSON-RPC 2.0's Request object; never walks into params or id. */
export function classify(item: unknown): Classified {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    const what = item === null ? "null" : Array.isArray(item) ? "an array" : typeof item;
    return { ok: false, id: null, problem: `a request is a JSON object, not ${what}` };
  }
  const fields = item as Record<string, unknown>;
  const id = isId(fields.id) ? fields.id : null;
  if ("id" in fields && !isId(fields.id)) {
    return { ok: false, id, problem: '"id" must be a string, a number or null' };
  }
  if (fields.jsonrpc !== "2.0") return { ok: false, id, problem: '"jsonrpc" must be "2.0"' };
  if (typeof fields.method !== "string") {
    return { ok: false, id, problem: '"method" must be a string' };
  }
  const params = fields.params;
  if (params !== undefined && (typeof params !== "object" || params === null)) {
    return { ok: false, id, problem: '"params" must be an object or an array' };
  }
  const request: Request = { method: fields.method, params };
  if ("id" in fields) request.id = id;
  return { ok: true, request };
}

function errorReply(id: Id, error: ErrorObject): string {
  return JSON.stringify({ jsonrpc: "2.0", id, error });
}

function invalid(problem: string): ErrorObject {
  return {
    code: ErrorCode.InvalidRequest,
    message: `invalid request: ${problem}; send ${example}`,
  };
}

function rateLimited(limiter: RateLimiter): ErrorObject {
  return {
    code: rateLimitedCode,
    message: `rate limit of ${limiter.perSecond()} requests/s exceeded (each request of a batch counts); slow down and retry`,
  };
}

/**
 * JSON-RPC 2.0 over any transport: text in, text out. Every request gets a reply, notifications
 * none; each item of a batch is answered on its own, and counts against the rate limit.
 */
export class RpcServer<Context extends CallerContext> {
  constructor(
    private readonly registry: MethodRegistry<Context>,
    private readonly log: Logger,
  ) {}

  /** Handles one incoming message; resolves with the reply to send, or null (notifications). */
  async handle(text: string, context: Context, limiter?: RateLimiter): Promise<string | null> {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch (err) {
      if (limiter && !limiter.take()) return errorReply(null, rateLimited(limiter));
      return errorReply(null, {
        code: parseErrorCode,
        message: `parse error: ${(err as Error).message}; send one JSON-RPC message as JSON text`,
      });
    }
    if (!Array.isArray(message)) return this.answer(message, context, limiter);
    if (message.length === 0) return errorReply(null, invalid("the batch is empty"));
    if (message.length > maxBatchRequests) {
      return errorReply(
        null,
        invalid(
          `a batch of ${message.length} requests is over the limit of ${maxBatchRequests}; split it into smaller batches`,
        ),
      );
    }
    // Each item takes its rate-limit token now, in order, before any of them runs.
    const replies = (
      await Promise.all(message.map((item) => this.answer(item, context, limiter)))
    ).filter((r) => r !== null);
    return replies.length === 0 ? null : `[${replies.join(",")}]`;
  }

  private async answer(
    item: unknown,
    context: Context,
    limiter: RateLimiter | undefined,
  ): Promise<string | null> {
    const classified = classify(item);
    const id = classified.ok ? classified.request.id : classified.id;
    if (limiter && !limiter.take())
      return id === undefined ? null : errorReply(id, rateLimited(limiter));
    if (!classified.ok) return errorReply(classified.id, invalid(classified.problem));
    const { request } = classified;
    try {
      const result = await this.registry.call(request.method, request.params, context);
      return request.id === undefined
        ? null
        : JSON.stringify({ jsonrpc: "2.0", id: request.id, result });
    } catch (err) {
      return request.id === undefined ? null : errorReply(request.id, this.errorObject(err));
    }
  }

  private errorObject(err: unknown): ErrorObject {
    if (err instanceof PoolError) return { code: err.code, message: err.message };
    this.log.error(`internal error: ${(err as Error).stack ?? String(err)}`);
    return {
      code: internalErrorCode,
      message: `internal error: ${(err as Error).message}; see the pool's log`,
    };
  }
}

/** A reply for a message the transport refused before parsing (too large). */
export function invalidRequestReply(message: string): string {
  return errorReply(null, { code: ErrorCode.InvalidRequest, message });
}
