import { renderUsage, runCommand, type CommandDef } from "citty";
import { RpcError, UnreachableError } from "../../rpc/client.js";
import { parseArgv } from "../argv.js";
import { readCommand } from "../command-tree.js";
import { Failure, UsageError } from "../errors.js";
import { TimeoutError } from "./client.js";

const ExitStatus = { ok: 0, poolError: 1, usage: 2, unreachable: 3 } as const;

/**
 * Runs a CLI with claude-poolctl's exit statuses: 1 for an error from the pool, 2 for usage,
 * 3 when the pool is not reachable or does not answer.
 */
export async function runCli(
  command: CommandDef,
  name: string,
  argv = process.argv.slice(2),
): Promise<void> {
  try {
    const request = parseArgv(await readCommand(command), argv.length === 0 ? ["--help"] : argv);
    if (request.kind === "version") {
      console.log((await resolved(command.meta))?.version);
    } else if (request.kind === "help") {
      await printUsage(command, request.path);
    } else {
      await runCommand(command, { rawArgs: request.rawArgs });
    }
  } catch (err) {
    process.exitCode = report(err, name);
    // a wedged pool may hold the connection open forever
    if (err instanceof TimeoutError) process.exit();
  }
}

async function resolved<T>(value: T | (() => T | Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

async function printUsage(command: CommandDef, path: string[]): Promise<void> {
  let cmd = command;
  let parent: CommandDef | undefined;
  for (const word of path) {
    const subCommands = (await resolved(cmd.subCommands)) ?? {};
    parent = cmd;
    cmd = await resolved(subCommands[word] as CommandDef);
  }
  const usage = await renderUsage(cmd, parent);
  process.stdout.write(`${colorAllowed() ? usage : stripColor(usage)}\n\n`);
}

/** Colour only on a terminal, and not when NO_COLOR is set (https://no-color.org). */
function colorAllowed(): boolean {
  return process.stdout.isTTY === true && !process.env.NO_COLOR;
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
  if (error instanceof TimeoutError) {
    process.stderr.write(
      `${name}: ${error.message}\n` +
        `Is it stuck? See "systemctl --user status claude-pool" and "journalctl --user -u claude-pool"; --timeout SECONDS waits longer.\n`,
    );
    return ExitStatus.unreachable;
  }
  if (error instanceof RpcError || error instanceof Failure) {
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
