import { defineCommand } from "citty";
import { ConfigError, loadConfig } from "../config/load.js";
import { redactSecrets } from "../config/redact.js";
import { controlSocket } from "../paths.js";
import { RemoteApiRefused } from "../rpc/http-server.js";
import { AlreadyRunningError } from "../rpc/unix-server.js";
import { SystemdRequiredError } from "../systemd/connect.js";
import { runSupervisor } from "../supervisor.js";
import { doctorCommand } from "./doctor.js";
import { kill, resume, spawn, status } from "./poolctl/commands.js";
import { version } from "../version.js";

/** sysexits(3) EX_CONFIG: the unit's RestartPreventExitStatus keeps systemd from retrying it. */
const exitConfigError = 78;

const configArg = {
  config: {
    type: "string",
    description:
      "Config file (default: $CLAUDE_POOL_CONFIG, ./pool.config.json, ~/.config/claude-pool/config.json)",
    valueHint: "PATH",
  },
} as const;

function reportStartError(err: unknown): never {
  if (err instanceof ConfigError) {
    process.stderr.write(`claude-pool: invalid config\n${err.message}\n`);
    process.exit(exitConfigError);
  }
  if (
    err instanceof AlreadyRunningError ||
    err instanceof SystemdRequiredError ||
    err instanceof RemoteApiRefused
  ) {
    process.stderr.write(`claude-pool: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

export function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(
      `claude-pool: --port must be an integer from 0 to 65535, not "${value}"\n`,
    );
    process.exit(2);
  }
  return port;
}

const start = defineCommand({
  meta: { name: "start", description: "Run the pool in the foreground (the default command)" },
  args: {
    ...configArg,
    port: {
      type: "string",
      description: "TCP port of the remote API (overrides apiPort)",
      valueHint: "N",
    },
  },
  async run({ args }) {
    await runSupervisor({ configPath: args.config, port: parsePort(args.port) }).catch(
      reportStartError,
    );
  },
});

const config = defineCommand({
  meta: {
    name: "config",
    description: "Print the resolved config as JSON, env values and other secrets redacted",
  },
  args: {
    ...configArg,
    "show-secrets": { type: "boolean", description: "Print secrets as they are" },
  },
  run({ args }) {
    try {
      const loaded = loadConfig({ explicitPath: args.config });
      const shown = args["show-secrets"] ? loaded.config : redactSecrets(loaded.config);
      process.stdout.write(JSON.stringify(shown, null, 2) + "\n");
    } catch (err) {
      reportStartError(err);
    }
  },
});

const channel = defineCommand({
  meta: {
    name: "channel",
    description:
      "The MCP channel server each session's claude starts (stdio; from the session's --mcp-config)",
  },
  async run() {
    const sessionId = process.env.CLAUDE_POOL_SESSION_ID;
    if (!sessionId) {
      process.stderr.write(
        "claude-pool channel: CLAUDE_POOL_SESSION_ID is not set; claude starts this server for a " +
          "session of the pool, from the MCP config the pool writes for it\n",
      );
      process.exit(2);
    }
    // The MCP SDK is for the channel server alone: the supervisor does not load it.
    const { runChannelServer } = await import("../channel/mcp-server.js");
    const server = await runChannelServer({ sessionId, socketPath: controlSocket().path });
    // claude closing our stdin means it is gone; the SDK's transport does not end on that.
    process.stdin.once("end", () => {
      server.close();
      process.exit(0);
    });
  },
});

const host = defineCommand({
  meta: {
    name: "host",
    description:
      "A session's host, which owns its terminal and outlives the supervisor (started by the pool, spec on stdin)",
  },
  async run() {
    if (process.stdin.isTTY) {
      process.stderr.write(
        "claude-pool host: the pool starts this for each session, with the session's spec on stdin\n",
      );
      process.exit(2);
    }
    const { hostProgram } = await import("../host/spawn-host.js");
    const { spawnSync } = await import("node:child_process");
    const run = spawnSync(hostProgram, [], { argv0: "claude-pool host", stdio: "inherit" });
    if (run.error) {
      process.stderr.write(`claude-pool host: ${run.error.message}\n`);
      process.exit(1);
    }
    process.exit(run.status ?? 1);
  },
});

export const claudePoolCommand = defineCommand({
  meta: {
    name: "claude-pool",
    version,
    description: "Supervisor for a pool of persistent Claude Code conversations",
  },
  subCommands: {
    start,
    config,
    doctor: doctorCommand(false),
    channel,
    host,
    status,
    spawn,
    kill,
    resume,
  },
  default: "start",
});
