/** DESIGN.md's lifecycle. `crashed` waits for an automatic restart; `failed` gave up. */
export type SessionStatus = "starting" | "running" | "stopping" | "stopped" | "crashed" | "failed";

const transitions: Record<SessionStatus, readonly SessionStatus[]> = {
  starting: ["running", "stopping", "stopped", "crashed", "failed"],
  running: ["stopping", "stopped", "crashed", "failed"],
  stopping: ["stopped"],
  stopped: ["starting", "failed"],
  crashed: ["starting", "stopped", "failed"],
  failed: ["starting"],
};

export function canTransition(from: SessionStatus, to: SessionStatus): boolean {
  return transitions[from].includes(to);
}

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
