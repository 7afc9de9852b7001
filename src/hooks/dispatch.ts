import { randomBytes } from "node:crypto";
import type { ChannelHub } from "../channel/hub.js";
import type { Behavior, PermissionPrompt } from "../channel/protocol.js";
import type { Pool } from "../pool.js";
import { preview, type HookInput } from "../session/evidence.js";
import type { Session } from "../session/session.js";
import type { HookCall, HookHandler } from "./hook-server.js";

/**
 * Routes each hook call to its session's evidence, and a permission request to the pool's
 * permission broker, whose decision becomes the hook's answer.
 */
export function hookDispatcher<Client extends object>(
  pool: Pool,
  hub: ChannelHub<Client>,
): HookHandler {
  pool.on("permission.closed", (id, requestId) =>
    hub.settledAtTerminal(id, (prompt) => prompt.requestId === requestId),
  );
  hub.on("permission.resolved", (id, requestId, behavior, by) => {
    const deferred = behavior === "terminal" && by === "timeout";
    sessionOf(pool, id)?.permissionSettled(requestId, deferred ? "deferred" : "resolved");
  });
  return (call) => {
    const session = sessionOf(pool, call.sessionId);
    if (session === null) return call.answer({});
    if (call.input.hook_event_name === "PermissionRequest")
      return askPermission(session, hub, call);
    session.hook(call.input);
    call.answer({});
    const settled = settledPrompts(call.input);
    if (settled) hub.settledAtTerminal(session.id, settled);
  };
}

function askPermission<Client extends object>(
  session: Session,
  hub: ChannelHub<Client>,
  call: HookCall,
): void {
  const { tool_name: toolName, tool_input: toolInput } = call.input;
  const description = (toolInput as { description?: unknown } | null)?.description;
  const prompt = {
    requestId: randomBytes(5).toString("hex"),
    toolName: typeof toolName === "string" ? toolName : "a tool",
    description: typeof description === "string" ? description : "",
    inputPreview: preview(toolInput),
  };
  session.hook(call.input, prompt.requestId);
  const pending = hub.hookPermission(session.id, prompt, (behavior) =>
    call.answer(behavior === null ? {} : decision(behavior)),
  );
  call.onAbandoned(pending.abandoned);
}

/**
 * Which pending prompts a hook shows were answered without the pool: the tool ran or was denied
 * (its PostToolUse, PostToolUseFailure or PermissionDenied), or the turn is over.
 */
function settledPrompts(input: HookInput): ((prompt: PermissionPrompt) => boolean) | null {
  switch (input.hook_event_name) {
    case "PostToolUse":
    case "PostToolUseFailure":
    case "PermissionDenied": {
      const inputPreview = preview(input.tool_input);
      return (p) => p.toolName === input.tool_name && p.inputPreview === inputPreview;
    }
    case "UserPromptSubmit":
    case "Stop":
    case "StopFailure":
    case "SessionEnd":
      return () => true;
    default:
      return null;
  }
}

/** The PermissionRequest hook's output that claude 2.1.332 obeys, closing its own dialog. */
function decision(behavior: Behavior): Record<string, unknown> {
  const verdict =
    behavior === "allow"
      ? { behavior }
      : { behavior, message: "The person supervising this session through claude-pool denied it." };
  return { hookSpecificOutput: { hookEventName: "PermissionRequest", decision: verdict } };
}

function sessionOf(pool: Pool, id: string): Session | null {
  try {
    return pool.find(id);
  } catch {
    return null;
  }
}
