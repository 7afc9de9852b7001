import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { claudeConfigDir } from "../paths.js";

/**
 * Claude Code's global config file as a claude with environment `env` finds it (2.1.332):
 * `$CLAUDE_CONFIG_DIR/.claude.json`, else `$HOME/.claude.json`; a non-empty legacy
 * `<config dir>/.config.json` wins while the former does not exist.
 */
export function globalConfigFile(env: Record<string, string | undefined>): string {
  const file = join(env.CLAUDE_CONFIG_DIR || env.HOME || homedir(), ".claude.json");
  const legacy = join(claudeConfigDir(env), ".config.json");
  if (!existsSync(file) && nonEmptyFile(legacy)) return legacy;
  return file;
}

function nonEmptyFile(file: string): boolean {
  try {
    const stat = statSync(file);
    return stat.isFile() && stat.size > 0;
  } catch {
    return false;
  }
}

export type GlobalConfig =
  | { state: "missing" }
  | { state: "invalid"; error: string }
  | { state: "ok"; data: Record<string, unknown> };

/** The global config file's JSON object, or why there is none. */
export function readGlobalConfig(file: string): GlobalConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { state: "missing" };
    return { state: "invalid", error: (err as Error).message };
  }
  try {
    const data: unknown = JSON.parse(text);
    if (typeof data === "object" && data !== null && !Array.isArray(data)) {
      return { state: "ok", data: data as Record<string, unknown> };
    }
    return { state: "invalid", error: "not a JSON object" };
  } catch (err) {
    return { state: "invalid", error: `not valid JSON: ${(err as Error).message}` };
  }
}

/** The folders of `projects` with `hasTrustDialogAccepted: true`. */
export function trustedFolders(data: Record<string, unknown>): string[] {
  const projects = data.projects;
  if (typeof projects !== "object" || projects === null) return [];
  return Object.entries(projects as Record<string, unknown>)
    .filter(([, p]) => (p as { hasTrustDialogAccepted?: unknown })?.hasTrustDialogAccepted === true)
    .map(([folder]) => folder);
}

/** The key claude files a folder's trust under: its real path (a symlink's own path is not read). */
export function trustKey(folder: string): string {
  try {
    return realpathSync(folder);
  } catch {
    return resolve(folder);
  }
}

/**
 * The folders whose recorded trust covers `folder`, nearest first: the folder and its parents, up
 * to the root of the git repository it is in (claude looks no further up from inside one).
 */
export function trustChain(folder: string): string[] {
  const chain: string[] = [];
  for (let dir = trustKey(folder); ; dir = dirname(dir)) {
    chain.push(dir);
    if (existsSync(join(dir, ".git")) || dirname(dir) === dir) return chain;
  }
}
