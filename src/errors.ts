/** Error codes of DESIGN.md's control protocol, beside JSON-RPC's own. */
export const ErrorCode = {
  SessionNotFound: -32001,
  PoolFull: -32002,
  InvalidState: -32003,
  Unauthorized: -32004,
  ChannelNotConnected: -32005,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error a client caused; its message says what to do next. */
export class PoolError extends Error {
  constructor(
    readonly code: ErrorCodeValue,
    message: string,
  ) {
    super(message);
    this.name = "PoolError";
  }
}
