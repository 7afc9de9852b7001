import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { userConfigFile } from "../paths.js";
import { configSchema } from "./schema.js";
import type { PoolConfig } from "./types.js";
import { timingProblem } from "../schedule/plan.js";
import { closestMatch } from "./did-you-mean.js";

/** A config file the pool refuses; `problems` holds one line per error, each naming its JSON path. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
  }
}

export interface ConfigSource {
  /** `--config PATH`. */
  explicitPath?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface LoadedConfig {
  config: PoolConfig;
  /** The file read, or null when none exists and the defaults apply. */
  file: string | null;
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: false });
const validate = ajv.compile(configSchema);

/** DESIGN.md's lookup order: --config > $CLAUDE_POOL_CONFIG > ./pool.config.json > XDG config. */
export function findConfigFile(source: ConfigSource = {}): string | null {
  const env = source.env ?? process.env;
  const cwd = source.cwd ?? process.cwd();
  const chosen = source.explicitPath ?? env.CLAUDE_POOL_CONFIG;
  if (chosen) return resolve(cwd, chosen);
  for (const candidate of [resolve(cwd, "pool.config.json"), userConfigFile(env)]) {
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

export function loadConfig(source: ConfigSource = {}): LoadedConfig {
  const file = findConfigFile(source);
  if (file === null) return { config: parseConfig("{}", "(defaults)"), file: null };
  const label = displayPath(file, source.cwd ?? process.cwd());
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError([`${label}: cannot read config file: ${(err as Error).message}`]);
  }
  return { config: parseConfig(text, label), file };
}

/** Parses and validates config text; `label` prefixes every error line. */
export function parseConfig(text: string, label: string): PoolConfig {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`${label}: not valid JSON: ${withLineAndColumn(text, err as Error)}`]);
  }
  if (!validate(data)) {
    throw new ConfigError(describeErrors(validate.errors ?? []).map((line) => `${label}: ${line}`));
  }
  const config = data as unknown as PoolConfig;
  const problems = [...duplicateNames(config), ...scheduleProblems(config)];
  if (problems.length > 0) throw new ConfigError(problems.map((line) => `${label}: ${line}`));
  return config;
}

/** What the schema cannot check of `schedules`: unique names, cron expressions, time zones. */
function scheduleProblems(config: PoolConfig): string[] {
  const seen = new Map<string, number>();
  return config.schedules.flatMap((schedule, i) => {
    const problems: string[] = [];
    const first = seen.get(schedule.name);
    if (first !== undefined) {
      problems.push(
        `/schedules/${i}/name duplicates the schedule name "${schedule.name}" of /schedules/${first}`,
      );
    } else seen.set(schedule.name, i);
    const problem = timingProblem(schedule);
    if (problem) problems.push(`/schedules/${i} ${problem}`);
    return problems;
  });
}

function describeErrors(errors: ErrorObject[]): string[] {
  const oneOfPaths = new Set(
    errors.filter((e) => e.keyword === "oneOf").map((e) => e.instancePath),
  );
  const lines: string[] = [];
  for (const error of errors) {
    const path = error.instancePath || "/";
    if (oneOfPaths.has(error.instancePath) && error.keyword !== "oneOf") continue;
    lines.push(`${path} ${describeError(error)}`);
  }
  return [...new Set(lines)];
}

function describeError(error: ErrorObject): string {
  switch (error.keyword) {
    case "additionalProperty":
    case "additionalProperties": {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys(
        (error.parentSchema as { properties?: object } | undefined)?.properties ?? {},
      );
      const guess = closestMatch(key, known);
      return `has unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : ""}`;
    }
    case "enum": {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
      return `must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}`;
    }
    case "oneOf":
      return `is invalid: ${(error.parentSchema as { description?: string }).description ?? error.message}`;
    default:
      return error.message ?? "is invalid";
  }
}

function duplicateNames(config: PoolConfig): string[] {
  const seen = new Map<string, string>();
  const problems: string[] = [];
  const named = [
    ...(config.primarySession
      ? [{ path: "/primarySession/name", name: config.primarySession.name }]
      : []),
    ...config.sessions.map((s, i) => ({ path: `/sessions/${i}/name`, name: s.name })),
  ];
  for (const { path, name } of named) {
    const first = seen.get(name);
    if (first) problems.push(`${path} duplicates the session name "${name}" of ${first}`);
    else seen.set(name, path);
  }
  return problems;
}

function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : file;
}

/** Node reports JSON errors by character offset; people look for line and column. */
function withLineAndColumn(text: string, err: Error): string {
  const match = /at position (\d+)/.exec(err.message);
  if (!match) return err.message;
  const before = text.slice(0, Number(match[1]));
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return `${err.message} (line ${line}, column ${column})`;
}
