import type { LogLevel } from "../log.js";
import type { NotifyEventName } from "../notify/events.js";

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

/** One of `schedules` (schema.ts scheduleSchema); exactly one of `session` and `spawn`. */
export interface ScheduleSettings {
  name: string;
  cron: string;
  timezone?: string;
  session?: string;
  spawn?: Omit<SessionSettings, "name">;
  message: string;
  delivery?: "auto" | "channel" | "pty";
  catchUp: boolean;
  overlap: "skip" | "queue";
  keepRuns: number;
}

export interface RestartPolicy {
  maxRestarts: number;
  windowMinutes: number;
  backoffSeconds: number;
  maxBackoffSeconds: number;
}

/** One entry of `notify`. */
export interface NotifyEndpointConfig {
  url: string;
  events: NotifyEventName[];
  format: "json" | "ntfy";
  secret?: string;
  headers?: Record<string, string>;
  timeoutSeconds: number;
  retries: number;
  backoffSeconds: number;
  queueSize: number;
}

/** Session `from` may message the sessions `to`; "*" matches any. */
export interface AgentRule {
  from: string;
  to: string[];
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
  schedules: ScheduleSettings[];
  pingSeconds: number;
  publicUrl?: string;
  notify: NotifyEndpointConfig[];
  remotes: RemoteConfig[];
  agentMessaging: "off" | AgentRule[];
}

/** One of `remotes`: another host's pool that the dashboard shows. */
export interface RemoteConfig {
  name: string;
  url: string;
  tokenFile?: string;
  ca?: string;
}
