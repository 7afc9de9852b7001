import { homedir } from "node:os";
import type { Limits, SessionSettings } from "../config/types.js";

/**
 * What was given for one session (at spawn, or in the config), as the registry keeps it. The
 * config's `defaults` are not in it: they apply at each launch. The working directory is fixed
 * when the session is created, because claude keeps a conversation per directory.
 */
export type OwnSettings = SessionSettings & { name: string; workingDirectory: string };

/** A session's settings with every default applied, as one launch uses them. */
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

/** The settings a new session keeps: its own, with its name and working directory fixed. */
export function ownSettings(
  name: string,
  defaults: SessionSettings,
  settings: SessionSettings,
): OwnSettings {
  return {
    ...settings,
    name,
    workingDirectory: settings.workingDirectory ?? defaults.workingDirectory ?? homedir(),
  };
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

/**
 * The own settings of a session from a registry written when records held the resolved spec:
 * what equals the current defaults came from them (as far as anyone can tell now) and follows
 * them from here on; the rest was the session's own.
 */
export function settingsOfSpec(
  spec: SessionSpec,
  defaults: SessionSettings,
  channelDefault: boolean,
): OwnSettings {
  const base = resolveSpec(spec.name, defaults, {}, channelDefault);
  const own: OwnSettings = { name: spec.name, workingDirectory: spec.workingDirectory };
  for (const key of plainKeys) {
    if (spec[key] !== null && JSON.stringify(spec[key]) !== JSON.stringify(base[key])) {
      Object.assign(own, { [key]: spec[key] });
    }
  }
  const env = ownEntries(spec.env, defaults.env);
  if (env) own.env = env;
  const limits = ownEntries(spec.limits, defaults.limits);
  if (limits) own.limits = limits;
  return own;
}

const plainKeys = [
  "keepWarm",
  "channels",
  "developmentChannels",
  "pluginDirs",
  "dangerouslySkipPermissions",
  "model",
  "args",
  "channel",
] as const;

/** The entries of `merged` that `defaults` does not give, or undefined when there are none. */
function ownEntries<T extends object>(
  merged: T | undefined,
  defaults: T | undefined,
): T | undefined {
  const own = Object.fromEntries(
    Object.entries(merged ?? {}).filter(
      ([key, value]) => (defaults as Record<string, unknown> | undefined)?.[key] !== value,
    ),
  ) as T;
  return Object.keys(own).length > 0 ? own : undefined;
}
