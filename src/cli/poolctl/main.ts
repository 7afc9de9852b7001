import { runCommand, runMain, type CommandDef } from "citty";
import { RpcError, UnreachableError } from "../../rpc/client.js";
import { UsageError } from "./client.js";

const ExitStatus = { ok: 0, poolError: 1, usage: 2, unreachable: 3 } as const;

/**
 * Runs a CLI with claude-poolctl's exit statuses: 1 for an error from the pool, 2 for usage,
 * 3 when the pool is not reachable.
 */
export async function runCli(
  command: CommandDef,
  name: string,
  argv = process.argv.slice(2),
): Promise<void> {
  const wantsBuiltin =
    argv.some((a) => a === "--help" || a === "-h") ||
    (argv.length === 1 && argv[0] === "--version");
  if (wantsBuiltin || argv.length === 0) {
    await runMain(command, { rawArgs: argv.length === 0 ? ["--help"] : argv });
    return;
  }
  try {
    await runCommand(command, { rawArgs: argv });
  } catch (err) {
    process.exitCode = report(err, name);
  }
}

function report(err: unknown, name: string): number {
  const error = err as Error;
  if (error instanceof UnreachableError) {
    process.stderr.write(
      `${name}: ${error.message}\n` +
        `Is the pool running? Start it with "systemctl --user start claude-pool" (or "claude-pool start").\n`,
    );
    return ExitStatus.unreachable;
  }
  if (error instanceof RpcError) {
    process.stderr.write(`${name}: ${error.message}\n`);
    return ExitStatus.poolError;
  }
  if (error instanceof UsageError || error.name === "CLIError") {
    process.stderr.write(
      `${name}: ${stripColor(error.message)}\nRun "${name} --help" for usage.\n`,
    );
    return ExitStatus.usage;
  }
  process.stderr.write(`${name}: ${error.stack ?? String(err)}\n`);
  return ExitStatus.poolError;
}

function stripColor(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}
