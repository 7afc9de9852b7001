import {
  JSONRPCErrorException,
  JSONRPCServer,
  type JSONRPCErrorResponse,
  type JSONRPCID,
} from "json-rpc-2.0";
import { ErrorCode, PoolError } from "../errors.js";
import type { Logger } from "../log.js";
import type { CallerContext, MethodRegistry } from "./registry.js";

/** JSON-RPC 2.0 over any transport: text in, text out; batches included. */
export class RpcServer<Context extends CallerContext> {
  private readonly server = new JSONRPCServer<Context>();

  constructor(
    private readonly registry: MethodRegistry<Context>,
    private readonly log: Logger,
  ) {
    this.server.handleMethodNotFound = async () => null;
    this.server.applyMiddleware(async (_next, request, context) => {
      try {
        const result = await this.registry.call(request.method, request.params, context);
        return request.id === undefined ? null : { jsonrpc: "2.0", id: request.id, result };
      } catch (err) {
        return request.id === undefined ? null : this.errorResponse(request.id, err);
      }
    });
  }

  /** Handles one incoming message; resolves with the reply to send, or null (notifications). */
  async handle(text: string, context: Context): Promise<string | null> {
    const reply = await this.server.receiveJSON(text, context);
    if (reply === null || (Array.isArray(reply) && reply.length === 0)) return null;
    return JSON.stringify(reply);
  }

  private errorResponse(id: JSONRPCID, err: unknown): JSONRPCErrorResponse {
    if (err instanceof PoolError) {
      return { jsonrpc: "2.0", id, error: { code: err.code, message: err.message } };
    }
    if (err instanceof JSONRPCErrorException) {
      return { jsonrpc: "2.0", id, error: err.toObject() };
    }
    this.log.error(`internal error: ${(err as Error).stack ?? String(err)}`);
    return {
      jsonrpc: "2.0",
      id,
      error: {
        code: -32603,
        message: `internal error: ${(err as Error).message}; see the pool's log`,
      },
    };
  }
}

/** A reply for a message the transport refused before parsing (too large). */
export function invalidRequestReply(message: string): string {
  return JSON.stringify({
    jsonrpc: "2.0",
    id: null,
    error: { code: ErrorCode.InvalidRequest, message },
  });
}
