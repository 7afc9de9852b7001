import { channelServerName } from "../channel/protocol.js";
import type { SessionSpec } from "./spec.js";

/** How this launch refers to the conversation. */
export type ConversationStart =
  { kind: "new"; claudeSessionId: string } | { kind: "resume"; claudeSessionId: string };

/**
 * claude's argv. `--mcp-config`, `--channels` and `--dangerously-load-development-channels` swallow
 * every following argument that does not start with a dash, so they come last. With
 * `channelConfig`, the pool's channel server is added as a development channel; `settings` is the
 * launch's generated settings file (the pool's hooks).
 */
export function buildClaudeArgs(
  spec: SessionSpec,
  start: ConversationStart,
  channelConfig: string | null = null,
  settings: string | null = null,
): string[] {
  const args =
    start.kind === "new"
      ? ["--session-id", start.claudeSessionId, "--name", spec.name]
      : ["--resume", start.claudeSessionId];
  if (spec.model) args.push("--model", spec.model);
  for (const dir of spec.pluginDirs) args.push("--plugin-dir", dir);
  if (spec.dangerouslySkipPermissions) args.push("--dangerously-skip-permissions");
  if (settings !== null) args.push("--settings", settings);
  args.push(...spec.args);
  if (channelConfig !== null) args.push("--mcp-config", channelConfig);
  if (spec.channels.length > 0) args.push("--channels", ...spec.channels);
  const development = [
    ...spec.developmentChannels,
    ...(channelConfig !== null ? [`server:${channelServerName}`] : []),
  ];
  if (development.length > 0) {
    args.push("--dangerously-load-development-channels", ...development);
  }
  return args;
}

/**
 * Takes a session's own `--settings` out of its args: with the pool's hooks, claude would read
 * only the last one, so the pool merges it into the file it generates.
 */
export function takeSettingsArg(args: readonly string[]): {
  args: string[];
  settings: string | null;
} {
  const rest: string[] = [];
  let settings: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--settings" && i + 1 < args.length) settings = args[++i];
    else if (arg.startsWith("--settings=")) settings = arg.slice("--settings=".length);
    else rest.push(arg);
  }
  return { args: rest, settings };
}
