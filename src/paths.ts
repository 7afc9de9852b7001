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
