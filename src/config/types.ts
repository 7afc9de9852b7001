import type { LogLevel } from "../log.js";

/** Mapped onto the session's systemd scope. */
export interface Limits {
  memoryMax?: number | string;
  cpuQuota?: string;
  tasksMax?: number;
}

/** What a session may set: in `defaults`, `primarySession`, `sessions[]` or `session.spawn`. */
export interface SessionSettings {
  name?: string;
  keepWarm?: boolean;
  channels?: string[];
  developmentChannels?: string[];
  pluginDirs?: string[];
  workingDirectory?: string;
  dangerouslySkipPermissions?: boolean;
  model?: string;
  args?: string[];
  env?: Record<string, string>;
  limits?: Limits;
  channel?: boolean;
}

export interface RestartPolicy {
  maxRestarts: number;
  windowMinutes: number;
  backoffSeconds: number;
  maxBackoffSeconds: number;
}

export interface PoolConfig {
  maxSessions: number;
  idleTimeoutMinutes: number;
  idleCheckSeconds: number;
  apiPort: number;
  bind: string;
  primarySession?: SessionSettings & { name: string };
  defaults: SessionSettings;
  sessions: (SessionSettings & { name: string })[];
  /** Names claude inherits beyond the base set; true: everything. */
  inheritEnv: string[] | boolean;
  claudePath: string;
  logLevel: LogLevel;
  auth: { tokenFile?: string };
  restart: RestartPolicy;
  stopTimeoutSeconds: number;
  resumeOnStart: boolean;
  scrollbackBytes: number;
  systemd: "auto" | "required" | "off";
  channel: boolean;
  delivery: "auto" | "channel" | "pty";
  /** Record each session's folder as trusted in claude's .claude.json before it starts. */
  trustWorkingDirectories: boolean;
  confirmDevelopmentChannels: boolean;
  permissionTimeoutSeconds: number;
  permissionTimeoutAction: "terminal" | "deny";
  hooks: boolean;
  channelFallbackSeconds: number;
  tls?: { cert: string; key: string };
  allowedOrigins: string[];
  allowInsecureRemote: boolean;
  requestsPerSecond: number;
  pingSeconds: number;
}
