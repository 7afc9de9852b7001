import { spawnSync } from "node:child_process";
import { X509Certificate, createPrivateKey } from "node:crypto";
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { createServer } from "node:net";
import { userInfo } from "node:os";
import { dirname, join } from "node:path";
import { ConfigError, loadConfig } from "../config/load.js";
import type { PoolConfig, SessionSettings } from "../config/types.js";
import { claudeConfigDir, stateDir } from "../paths.js";
import { connectUnix, type RpcClient } from "../rpc/client.js";
import { isLoopback } from "../rpc/http-server.js";
import { buildClaudeEnv } from "../session/claude-env.js";
import {
  globalConfigFile,
  readGlobalConfig,
  trustChain,
  trustedFolders,
  trustKey,
} from "../session/claude-config.js";
import { findExecutable } from "../session/preflight.js";
import { ownSettings, resolveSpec } from "../session/spec.js";
import { SystemdManager } from "../systemd/manager.js";
import type {
  ClaudeDirFacts,
  ClaudeFacts,
  DoctorFacts,
  PortFacts,
  RunningFacts,
  SessionFacts,
  StateFacts,
  SystemdFacts,
  TlsFacts,
} from "./types.js";

export interface FactSource {
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Also ask the pool on this control socket how it and its sessions are doing. */
  socket?: string;
}

/** Looks at the machine as the pool would see it at start: files, processes, ports, the bus. */
export async function gatherFacts(source: FactSource = {}): Promise<DoctorFacts> {
  const env = source.env ?? process.env;
  const running = source.socket === undefined ? {} : { running: await runningFacts(source.socket) };
  return { ...(await configuredFacts(source, env)), ...running };
}

async function configuredFacts(source: FactSource, env: NodeJS.ProcessEnv): Promise<DoctorFacts> {
  const state = stateFacts(stateDir(env));
  let loaded: { config: PoolConfig; file: string | null };
  try {
    loaded = loadConfig({ explicitPath: source.configPath, env, cwd: source.cwd });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { config: { file: null, problems: err.problems }, state, pool: null };
  }
  const { config, file } = loaded;
  const sessions = sessionFacts(config, env);
  const dirs = [...new Set(sessions.map((s) => s.claudeDir))];
  const [systemd, port] = await Promise.all([systemdFacts(config, env), portFacts(config)]);
  return {
    config: { file, problems: null },
    state,
    pool: {
      claude: claudeFacts(config.claudePath, env),
      claudeDirs: dirs.map((dir) =>
        claudeDirFacts(dir, sessions.find((s) => s.claudeDir === dir)!.globalFile),
      ),
      sessions,
      root: process.getuid?.() === 0,
      trustWorkingDirectories: config.trustWorkingDirectories,
      confirmDevelopmentChannels: config.confirmDevelopmentChannels,
      systemd,
      port,
      tls: config.tls ? tlsFacts(config.tls) : null,
    },
  };
}

function claudeFacts(command: string, env: NodeJS.ProcessEnv): ClaudeFacts {
  const path = findExecutable(command, env.PATH ?? "");
  if (path === null) return { command, path, version: null, error: null };
  const run = spawnSync(path, ["--version"], { env, encoding: "utf8", timeout: 15_000 });
  const out = `${run.stdout ?? ""}`.trim();
  const version = /^(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? null;
  const error =
    version !== null
      ? null
      : (run.error?.message ??
        (out || `${run.stderr ?? ""}`.trim() || `exit status ${run.status}`));
  return { command, path, version, error };
}

async function runningFacts(socket: string): Promise<RunningFacts> {
  let client: RpcClient;
  try {
    client = await connectUnix(socket);
  } catch {
    return { socket, status: null, sessions: [] };
  }
  try {
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error("no answer in 5 s")), 5000).unref(),
    );
    const [status, sessions] = await Promise.race([
      Promise.all([
        client.call<NonNullable<RunningFacts["status"]>>("pool.status"),
        client.call<RunningFacts["sessions"]>("session.list"),
      ]),
      timeout,
    ]);
    return { socket, status, sessions };
  } catch {
    return { socket, status: null, sessions: [] };
  } finally {
    client.close();
  }
}

/** The configured sessions, or with none the settings a spawned session gets (`defaults`). */
function sessionFacts(config: PoolConfig, env: NodeJS.ProcessEnv): SessionFacts[] {
  const configured: { name: string; settings: SessionSettings; configured: boolean }[] = [
    ...(config.primarySession ? [config.primarySession] : []),
    ...config.sessions,
  ].map((s) => ({ name: s.name, settings: s, configured: true }));
  const all =
    configured.length > 0
      ? configured
      : [{ name: "spawned sessions", settings: {} as SessionSettings, configured: false }];
  return all.map(({ name, settings, configured: isConfigured }) => {
    const own = ownSettings(name, config.defaults, settings);
    const spec = resolveSpec(name, config.defaults, own, config.channel);
    // claude's environment as a launch makes it; the session id in it matters to nobody here
    const sessionEnv = buildClaudeEnv(env, config.inheritEnv, spec, "00000000");
    const dir = spec.workingDirectory;
    const isDirectory = directoryExists(dir);
    const key = sessionEnv.ANTHROPIC_API_KEY;
    return {
      name,
      configured: isConfigured,
      workingDirectory: dir,
      exists: existsSync(dir),
      isDirectory,
      trustChain: isDirectory ? trustChain(dir) : [trustKey(dir)],
      claudeDir: claudeConfigDir(sessionEnv),
      globalFile: globalConfigFile(sessionEnv),
      apiKeySuffix: key ? key.slice(-20) : null,
      authEnv: authVariables.filter((name) => sessionEnv[name]),
      dangerouslySkipPermissions: spec.dangerouslySkipPermissions,
      sandbox: sessionEnv.IS_SANDBOX === "1",
      developmentChannels: spec.developmentChannels.length,
      poolChannel: spec.channel,
    };
  });
}

/** What logs claude in besides its config dir (Bedrock, Vertex and Foundry bring their own). */
const authVariables = [
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_AUTH_TOKEN",
  "CLAUDE_CODE_OAUTH_TOKEN",
  "CLAUDE_CODE_USE_BEDROCK",
  "CLAUDE_CODE_USE_VERTEX",
  "CLAUDE_CODE_USE_FOUNDRY",
];

function directoryExists(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function readJson(file: string): Record<string, unknown> {
  try {
    const data: unknown = JSON.parse(readFileSync(file, "utf8"));
    return typeof data === "object" && data !== null ? (data as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const stringList = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];

/** Reads flags and presence only: no secret leaves this function. */
function claudeDirFacts(dir: string, globalFile: string): ClaudeDirFacts {
  const global = readGlobalConfig(globalFile);
  const data = global.state === "ok" ? global.data : {};
  const responses = (data.customApiKeyResponses ?? {}) as Record<string, unknown>;
  const credentials = readJson(join(dir, ".credentials.json"));
  const oauth = (credentials.claudeAiOauth ?? null) as Record<string, unknown> | null;
  const settings = readJson(join(dir, "settings.json"));
  const managed = readJson("/etc/claude-code/managed-settings.json");
  return {
    dir,
    globalFile,
    global: global.state,
    globalError: global.state === "invalid" ? global.error : null,
    onboarded: data.hasCompletedOnboarding === true,
    trusted: trustedFolders(data),
    approvedKeys: stringList(responses.approved),
    rejectedKeys: stringList(responses.rejected),
    claudeAi: typeof oauth?.accessToken === "string" || typeof oauth?.refreshToken === "string",
    primaryApiKey: typeof data.primaryApiKey === "string",
    apiKeyHelper: typeof settings.apiKeyHelper === "string",
    bypassAccepted:
      settings.skipDangerousModePermissionPrompt === true ||
      managed.skipDangerousModePermissionPrompt === true ||
      data.bypassPermissionsModeAccepted === true,
  };
}

async function systemdFacts(config: PoolConfig, env: NodeJS.ProcessEnv): Promise<SystemdFacts> {
  const user = userInfo().username;
  // Lingering is systemd-logind's: without a booted systemd there is nothing to enable.
  const linger = existsSync("/run/systemd/system")
    ? existsSync(join("/var/lib/systemd/linger", user))
    : null;
  if (config.systemd === "off") return { mode: "off", manager: null, reason: null, linger, user };
  const connected = await SystemdManager.connect({ env, timeoutMs: 3000 });
  if (connected.manager === null) {
    return { mode: config.systemd, manager: null, reason: connected.reason, linger, user };
  }
  const manager = connected.manager.version;
  connected.manager.close();
  return { mode: config.systemd, manager, reason: null, linger, user };
}

async function portFacts(config: PoolConfig): Promise<PortFacts> {
  const { bind, apiPort: port } = config;
  const base = {
    bind,
    port,
    loopback: isLoopback(bind),
    tls: config.tls !== undefined,
    allowInsecureRemote: config.allowInsecureRemote,
  };
  if (port === 0) return { ...base, state: "free", detail: null };
  const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    const server = createServer();
    server.once("error", resolve);
    server.listen(port, bind, () => server.close(() => resolve(null)));
  });
  if (error === null) return { ...base, state: "free", detail: null };
  if (error.code === "EADDRINUSE") {
    const ours = await answersAsPool(bind, port, config.tls !== undefined);
    return { ...base, state: ours ? "ours" : "busy", detail: null };
  }
  return { ...base, state: error.code === "EACCES" ? "denied" : "unusable", detail: error.message };
}

/** Whether what listens there answers /health the way a claude-pool does. */
function answersAsPool(bind: string, port: number, tls: boolean): Promise<boolean> {
  const host = bind === "0.0.0.0" ? "127.0.0.1" : bind === "::" ? "::1" : bind;
  return new Promise((resolve) => {
    const request = tls ? httpsRequest : httpRequest;
    const req = request(
      { host, port, path: "/health", timeout: 2000, rejectUnauthorized: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk.slice(0, 1000)));
        res.on("end", () => {
          try {
            const health = JSON.parse(body) as Record<string, unknown>;
            resolve(health.status === "ok" && "active" in health && "max" in health);
          } catch {
            resolve(false);
          }
        });
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
    req.end();
  });
}

function tlsFacts(tls: { cert: string; key: string }): TlsFacts {
  const facts: TlsFacts = {
    cert: tls.cert,
    key: tls.key,
    certError: null,
    keyError: null,
    notAfter: null,
    keyMatches: null,
  };
  let cert: X509Certificate | null = null;
  try {
    cert = new X509Certificate(readFileSync(tls.cert));
    facts.notAfter = new Date(cert.validTo).toISOString();
  } catch (err) {
    facts.certError = (err as Error).message;
  }
  try {
    const key = createPrivateKey(readFileSync(tls.key));
    if (cert) facts.keyMatches = cert.checkPrivateKey(key);
  } catch (err) {
    facts.keyError = (err as Error).message;
  }
  return facts;
}

/** Writes and removes a file in the state dir, or finds where it would be created. */
function stateFacts(dir: string): StateFacts {
  if (existsSync(dir)) {
    const probe = join(dir, `.doctor-${process.pid}`);
    try {
      mkdirSync(probe);
      rmSync(probe, { recursive: true });
      return { dir, state: "writable", error: null };
    } catch (err) {
      return { dir, state: "unwritable", error: (err as Error).message };
    }
  }
  let parent = dirname(dir);
  while (!existsSync(parent) && dirname(parent) !== parent) parent = dirname(parent);
  try {
    accessSync(parent, constants.W_OK);
    return { dir, state: "creatable", error: null };
  } catch (err) {
    return { dir, state: "unwritable", error: (err as Error).message };
  }
}
