import { homedir } from "node:os";
import { join } from "node:path";

type Env = NodeJS.ProcessEnv;

/** `$XDG_STATE_HOME/claude-pool`, default `~/.local/state/claude-pool`. */
export function stateDir(env: Env = process.env): string {
  const base = env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(base, "claude-pool");
}

/** `$XDG_CONFIG_HOME/claude-pool/config.json`, default under `~/.config`. */
export function userConfigFile(env: Env = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "claude-pool", "config.json");
}

/** Claude Code's own config dir: `$CLAUDE_CONFIG_DIR` or `~/.claude`. */
export function claudeConfigDir(env: Env = process.env): string {
  return env.CLAUDE_CONFIG_DIR || join(homedir(), ".claude");
}

export interface SocketLocation {
  path: string;
  /** Set when XDG_RUNTIME_DIR is missing and a fallback under /tmp is used. */
  fallback: boolean;
}

/** `$CLAUDE_POOL_SOCKET`, else `$XDG_RUNTIME_DIR/claude-pool/control.sock`, else a per-user /tmp dir. */
export function controlSocket(env: Env = process.env): SocketLocation {
  if (env.CLAUDE_POOL_SOCKET) return { path: env.CLAUDE_POOL_SOCKET, fallback: false };
  if (env.XDG_RUNTIME_DIR) {
    return { path: join(env.XDG_RUNTIME_DIR, "claude-pool", "control.sock"), fallback: false };
  }
  return {
    path: join("/tmp", `claude-pool-${process.getuid?.() ?? "user"}`, "control.sock"),
    fallback: true,
  };
}
