import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Behavior } from "./protocol.js";

export interface PermissionDecision {
  session: string;
  sessionName: string;
  requestId: string;
  tool: string;
  description: string;
  /** "terminal": the pool gave no decision and the dialog in claude's terminal decided. */
  decision: Behavior | "terminal";
  /** Who answered: a token's name, "local" for the control socket, or "timeout". */
  by: string;
}

/** Every permission decision, one JSON line each, appended to a file under the state dir. */
export class AuditLog {
  constructor(readonly file: string) {}

  record(decision: PermissionDecision): void {
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    const line = JSON.stringify({ time: new Date().toISOString(), ...decision });
    appendFileSync(this.file, line + "\n", { mode: 0o600 });
  }
}
