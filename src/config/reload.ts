import { isDeepStrictEqual } from "node:util";
import type { PoolConfig } from "./types.js";

/** Keys read once at start: a reload keeps their running values (pool.config shows those). */
const restartKeys = { systemd: "systemd", auth: "auth.tokenFile" } as const;

export interface Reload {
  /** The reloaded config, but for the keys that need a restart. */
  config: PoolConfig;
  /** The keys whose change waits for a restart, by name. */
  needRestart: string[];
}

export function reloadable(running: PoolConfig, loaded: PoolConfig): Reload {
  const config = { ...loaded };
  const needRestart: string[] = [];
  for (const [key, name] of Object.entries(restartKeys) as [keyof typeof restartKeys, string][]) {
    if (isDeepStrictEqual(running[key], loaded[key])) continue;
    needRestart.push(name);
    Object.assign(config, { [key]: running[key] });
  }
  return { config, needRestart };
}
