/** The API's JSON, as the pool's own types say (type-only: nothing of the pool is bundled). */
export type { SessionInfo } from "../../src/session/session.js";
export type { LedgerEntry } from "../../src/channel/ledger.js";
export type { TranscriptEntry } from "../../src/session/transcript.js";
export type { EndedTurn, Turn, WaitingFor } from "../../src/session/evidence.js";
export type { Scope } from "../../src/auth/scopes.js";

/** permission.pending's items and permission.request's params. */
export interface Prompt {
  id: string;
  requestId: string;
  toolName: string;
  description: string;
  inputPreview: string;
  source?: "hook" | "channel";
}

/** POST /login's answer. */
export interface SignIn {
  token: string;
  name: string;
  scopes: string[];
}
export type { RemoteSessions } from "../../src/rpc/remote-methods.js";
