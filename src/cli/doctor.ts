import { defineCommand } from "citty";
import { controlSocket } from "../paths.js";

/**
 * `doctor`: what would keep the pool or its sessions from starting unattended, one line per
 * check with its fix. Exit status 0 all well, 1 warnings, 2 failures. `askPool` also asks the
 * pool on the control socket (claude-poolctl's), which need not run.
 */
export function doctorCommand(askPool: boolean) {
  return defineCommand({
    meta: {
      name: "doctor",
      description:
        "Check what the pool needs to run unattended (config, claude, login, folders, dialogs, " +
        "systemd, port, TLS, state dir); exit 0 ok, 1 warnings, 2 failures",
    },
    args: {
      config: {
        type: "string",
        description:
          "Config file (default: $CLAUDE_POOL_CONFIG, ./pool.config.json, ~/.config/claude-pool/config.json)",
        valueHint: "PATH",
      },
      json: { type: "boolean", description: "Print the checks as JSON", default: false },
      ...(askPool
        ? {
            socket: {
              type: "string",
              description:
                "Control socket of the pool to ask (default: $CLAUDE_POOL_SOCKET or $XDG_RUNTIME_DIR/claude-pool/control.sock)",
              valueHint: "PATH",
            },
          }
        : {}),
    },
    async run({ args }) {
      const socket = askPool
        ? ((args.socket as string | undefined) ?? controlSocket().path)
        : undefined;
      // Loaded here: the other commands, whose start-up time counts, never need them.
      const { exitStatus, formatChecks, runChecks } = await import("../doctor/checks.js");
      const { gatherFacts } = await import("../doctor/facts.js");
      const checks = runChecks(await gatherFacts({ configPath: args.config, socket }));
      const status = exitStatus(checks);
      if (args.json) {
        const worst = (["ok", "warn", "fail"] as const)[status];
        process.stdout.write(JSON.stringify({ status: worst, checks }, null, 2) + "\n");
      } else {
        console.log(formatChecks(checks));
      }
      process.exitCode = status;
    },
  });
}
