import type { PoolConfig } from "../config/types.js";
import type { SessionSpec } from "./spec.js";

/**
 * What claude takes from the pool's environment whatever `inheritEnv` says: the user's identity,
 * locale, paths, proxies and certificates, and the variables Claude Code documents (its own, and
 * those of Bedrock, Vertex and OpenTelemetry). Not IS_SANDBOX: letting claude skip permissions as
 * root is the session's `env` to say, not whatever shell started the pool.
 */
const baseNames = new Set([
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "PATH",
  "LANG",
  "LANGUAGE",
  "TZ",
  "http_proxy",
  "HTTP_PROXY",
  "https_proxy",
  "HTTPS_PROXY",
  "no_proxy",
  "NO_PROXY",
  "all_proxy",
  "ALL_PROXY",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
  "API_TIMEOUT_MS",
  "BASH_DEFAULT_TIMEOUT_MS",
  "BASH_MAX_TIMEOUT_MS",
  "BASH_MAX_OUTPUT_LENGTH",
  "MAX_THINKING_TOKENS",
  "MAX_MCP_OUTPUT_TOKENS",
  "MCP_TIMEOUT",
  "MCP_TOOL_TIMEOUT",
  "ENABLE_TOOL_SEARCH",
  "USE_BUILTIN_RIPGREP",
  "SLASH_COMMAND_TOOL_CHAR_BUDGET",
  "CLOUD_ML_REGION",
]);

const basePrefixes = [
  "LC_",
  "XDG_",
  "ANTHROPIC_",
  "CLAUDE_",
  "DISABLE_",
  "OTEL_",
  "AWS_",
  "GOOGLE_",
  "VERTEX_REGION_",
];

/** Variables that systemd hands the pool itself; passing them on would confuse claude's children. */
const serviceVariables = new Set([
  "LISTEN_FDS",
  "LISTEN_PID",
  "LISTEN_FDNAMES",
  "NOTIFY_SOCKET",
  "WATCHDOG_PID",
  "WATCHDOG_USEC",
  "INVOCATION_ID",
  "JOURNAL_STREAM",
  "MANAGERPID",
  "SYSTEMD_EXEC_PID",
]);

/** The pool's own settings (CLAUDE_POOL_CONFIG, CLAUDE_POOL_SOCKET, …) are not claude's. */
const poolPrefix = "CLAUDE_POOL_";

function inBase(name: string): boolean {
  return baseNames.has(name) || basePrefixes.some((prefix) => name.startsWith(prefix));
}

/**
 * claude's environment: the base set and what `inheritEnv` names from the pool's environment
 * (never systemd's variables nor the pool's own), then the terminal, the session's `env`
 * (defaults.env with the session's over it), and what the pool tells claude.
 */
export function buildClaudeEnv(
  poolEnv: NodeJS.ProcessEnv,
  inheritEnv: PoolConfig["inheritEnv"],
  spec: Pick<SessionSpec, "env" | "workingDirectory">,
  sessionId: string,
): Record<string, string> {
  const inherited = (name: string): boolean =>
    inheritEnv === true || inBase(name) || (Array.isArray(inheritEnv) && inheritEnv.includes(name));
  const passed = Object.entries(poolEnv).filter(
    (entry): entry is [string, string] =>
      entry[1] !== undefined &&
      !serviceVariables.has(entry[0]) &&
      !entry[0].startsWith(poolPrefix) &&
      inherited(entry[0]),
  );
  return {
    ...Object.fromEntries(passed),
    TERM: "xterm-256color",
    COLORTERM: "truecolor",
    ...spec.env,
    CLAUDE_POOL_SESSION_ID: sessionId,
    PWD: spec.workingDirectory,
  };
}
