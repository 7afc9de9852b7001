import { homedir } from "node:os";
import type { Limits, SessionSettings } from "../config/types.js";

/** A session's settings with every default applied; stored in the registry. */
export interface SessionSpec {
  name: string;
  keepWarm: boolean;
  channels: string[];
  developmentChannels: string[];
  pluginDirs: string[];
  workingDirectory: string;
  dangerouslySkipPermissions: boolean;
  model: string | null;
  args: string[];
  env: Record<string, string>;
  limits: Limits;
  channel: boolean;
}

/** Layers `settings` over the config's `defaults`; `env` and `limits` merge key by key. */
export function resolveSpec(
  name: string,
  defaults: SessionSettings,
  settings: SessionSettings,
  channelDefault: boolean,
): SessionSpec {
  const pick = <K extends keyof SessionSettings>(key: K): SessionSettings[K] =>
    settings[key] ?? defaults[key];
  return {
    name,
    keepWarm: pick("keepWarm") ?? false,
    channels: pick("channels") ?? [],
    developmentChannels: pick("developmentChannels") ?? [],
    pluginDirs: pick("pluginDirs") ?? [],
    workingDirectory: pick("workingDirectory") ?? homedir(),
    dangerouslySkipPermissions: pick("dangerouslySkipPermissions") ?? false,
    model: pick("model") ?? null,
    args: pick("args") ?? [],
    env: { ...defaults.env, ...settings.env },
    limits: { ...defaults.limits, ...settings.limits },
    channel: pick("channel") ?? channelDefault,
  };
}
