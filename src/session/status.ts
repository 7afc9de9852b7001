/** DESIGN.md's lifecycle (see lifecycle.ts). `crashed` waits for an automatic restart; `failed` gave up. */
export type SessionStatus = "starting" | "running" | "stopping" | "stopped" | "crashed" | "failed";

/** States that hold a slot of `maxSessions`. */
export function isActive(status: SessionStatus): boolean {
  return (
    status === "starting" || status === "running" || status === "stopping" || status === "crashed"
  );
}

/** States from which `session.resume` starts the conversation again. */
export function isResumable(status: SessionStatus): boolean {
  return status === "stopped" || status === "failed" || status === "crashed";
}
