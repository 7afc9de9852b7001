/** What `doctor` found (facts.ts gathers it) and what it says (checks.ts): plain data. */
import type { PoolConfig } from "../config/types.js";

export type CheckStatus = "ok" | "warn" | "fail";

export interface Check {
  /** Which check: config, claude, login, folder, dialogs, systemd, linger, port, tls, state. */
  check: string;
  /** What it looked at, when the check runs once per thing: a session, a claude config dir. */
  subject: string | null;
  status: CheckStatus;
  message: string;
  /** What to do about it; null when nothing needs doing. */
  fix: string | null;
}

export interface ClaudeFacts {
  command: string;
  /** The executable `command` resolves to, or null when there is none. */
  path: string | null;
  version: string | null;
  /** Why `--version` told no version. */
  error: string | null;
}

/** A claude config dir: flags and presence only, never a secret. */
export interface ClaudeDirFacts {
  dir: string;
  globalFile: string;
  global: "missing" | "invalid" | "ok";
  globalError: string | null;
  onboarded: boolean;
  /** Folders with hasTrustDialogAccepted. */
  trusted: string[];
  /** customApiKeyResponses: the last 20 characters of keys answered at claude's API key dialog. */
  approvedKeys: string[];
  rejectedKeys: string[];
  /** claude.ai credentials in `.credentials.json`. */
  claudeAi: boolean;
  primaryApiKey: boolean;
  apiKeyHelper: boolean;
  /** skipDangerousModePermissionPrompt in its settings (or the legacy flag in the global file). */
  bypassAccepted: boolean;
}

export interface SessionFacts {
  /** The session's name; "spawned sessions" for what the config's defaults give, when none is configured. */
  name: string;
  configured: boolean;
  workingDirectory: string;
  exists: boolean;
  isDirectory: boolean;
  /** The folders whose recorded trust covers it, nearest (its real path) first. */
  trustChain: string[];
  claudeDir: string;
  globalFile: string;
  /** The last 20 characters of ANTHROPIC_API_KEY in claude's environment: what claude compares. */
  apiKeySuffix: string | null;
  /** Variables that log claude in, by name. */
  authEnv: string[];
  dangerouslySkipPermissions: boolean;
  sandbox: boolean;
  developmentChannels: number;
  poolChannel: boolean;
}

export interface SystemdFacts {
  mode: PoolConfig["systemd"];
  /** The user manager's version, or null when none answers (or mode is off). */
  manager: string | null;
  reason: string | null;
  /** Whether lingering is on; null without a booted systemd. */
  linger: boolean | null;
  user: string;
}

export interface PortFacts {
  bind: string;
  port: number;
  loopback: boolean;
  tls: boolean;
  allowInsecureRemote: boolean;
  /** ours: a claude-pool answers /health there. */
  state: "free" | "ours" | "busy" | "denied" | "unusable";
  detail: string | null;
}

export interface TlsFacts {
  cert: string;
  key: string;
  certError: string | null;
  keyError: string | null;
  notAfter: string | null;
  keyMatches: boolean | null;
}

export interface StateFacts {
  dir: string;
  state: "writable" | "creatable" | "unwritable";
  error: string | null;
}

/** A pool answering on the control socket (claude-poolctl doctor asks it). */
export interface RunningFacts {
  socket: string;
  /** Null when nothing answers there. */
  status: { pid: number; version: string; active: number; maxSessions: number } | null;
  sessions: { name: string; status: string; blockedOn: string | null; reason: string | null }[];
}

export interface DoctorFacts {
  config: { file: string | null; problems: string[] | null };
  /** Absent when not asked (claude-pool doctor). */
  running?: RunningFacts;
  state: StateFacts;
  /** Null when the config is invalid: the rest depends on it. */
  pool: {
    claude: ClaudeFacts;
    claudeDirs: ClaudeDirFacts[];
    sessions: SessionFacts[];
    root: boolean;
    trustWorkingDirectories: boolean;
    confirmDevelopmentChannels: boolean;
    systemd: SystemdFacts;
    port: PortFacts;
    tls: TlsFacts | null;
  } | null;
}
