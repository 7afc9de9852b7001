import type { SessionSpec } from "./spec.js";

/** How this launch refers to the conversation. */
export type ConversationStart =
  { kind: "new"; claudeSessionId: string } | { kind: "resume"; claudeSessionId: string };

/**
 * claude's argv. `--channels` and `--dangerously-load-development-channels` swallow every following
 * argument that does not start with a dash, so they come last.
 */
export function buildClaudeArgs(spec: SessionSpec, start: ConversationStart): string[] {
  const args =
    start.kind === "new"
      ? ["--session-id", start.claudeSessionId, "--name", spec.name]
      : ["--resume", start.claudeSessionId];
  if (spec.model) args.push("--model", spec.model);
  for (const dir of spec.pluginDirs) args.push("--plugin-dir", dir);
  if (spec.dangerouslySkipPermissions) args.push("--dangerously-skip-permissions");
  args.push(...spec.args);
  if (spec.channels.length > 0) args.push("--channels", ...spec.channels);
  if (spec.developmentChannels.length > 0) {
    args.push("--dangerously-load-development-channels", ...spec.developmentChannels);
  }
  return args;
}
