/**
 * The command line, read strictly against the command tree before citty sees it. citty finds a
 * subcommand by the first word that is not an option, does not know the options of a command
 * it has not reached yet, and ignores options it does not know: `--url ws://h list` was taken
 * for the command `ws://h`, `--socket=/x list` dropped the socket. Here the root's options
 * (claude-poolctl's --json, --socket, --url, --token, --timeout) may come before or after the
 * command, `--opt=value` and `--opt value` alike, and an option that does not apply is an error.
 */
import type { CommandDoc, OptionDoc } from "./command-tree.js";
import { UsageError } from "./errors.js";

export type Request =
  | { kind: "version" }
  /** --help: the usage of the command at `path` (as far as the words named one). */
  | { kind: "help"; path: string[] }
  /** `rawArgs` is what citty runs: the path, each option as `--name=value`, `--name` or `--no-name`, then `--` and the positionals. */
  | { kind: "run"; path: string[]; rawArgs: string[] };

interface Given {
  option: OptionDoc;
  token: string;
  canonical: string;
}

export function parseArgv(root: CommandDoc, argv: readonly string[]): Request {
  if (argv.length === 1 && argv[0] === "--version") return { kind: "version" };
  const state: State = { path: [], node: root, help: false };
  try {
    const rawArgs = resolve(root, argv, state);
    return state.help
      ? { kind: "help", path: state.path }
      : { kind: "run", path: state.path, rawArgs };
  } catch (err) {
    if (state.help) return { kind: "help", path: state.path };
    throw err;
  }
}

interface State {
  path: string[];
  node: CommandDoc;
  /** --help or -h came where an option may: what follows it no longer needs to make sense. */
  help: boolean;
}

function resolve(root: CommandDoc, argv: readonly string[], state: State): string[] {
  const given: Given[] = [];
  const positionals: string[] = [];
  const descend = (name: string) => {
    state.node = state.node.subCommands.find((c) => c.name === name)!;
    state.path.push(name);
  };
  const choosing = () => state.node.subCommands.length > 0;
  const descendToDefault = () => {
    while (choosing() && state.node.defaultCommand !== null) descend(state.node.defaultCommand);
  };
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === "--") {
      if (choosing()) descendToDefault();
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token === "--help" || token === "-h") {
      state.help = true;
      continue;
    }
    if (token.startsWith("-") && token !== "-") {
      if (choosing()) descendToDefault();
      const { option, canonical, takesNext } = readOption(root, state.node, token, argv[i + 1]);
      if (takesNext) i++;
      given.push({ option, token, canonical });
      continue;
    }
    if (choosing()) {
      if (!state.node.subCommands.some((c) => c.name === token && !c.hidden)) {
        throw new UsageError(unknownCommand(state.path, token));
      }
      descend(token);
      continue;
    }
    positionals.push(token);
  }
  descendToDefault();
  const leaf = state.node;
  if (choosing() && !leaf.runnable) {
    throw new UsageError(
      state.path.length === 0
        ? "no command given"
        : `"${state.path.join(" ")}" needs a command: ${visible(leaf).join(", ")}`,
    );
  }
  for (const { option, token } of given) {
    if (!leaf.options.some((o) => o.name === option.name)) {
      throw new UsageError(`${token.split("=")[0]} does not apply to "${state.path.join(" ")}"`);
    }
  }
  if (positionals.length > leaf.positionals.length) {
    const extra = positionals[leaf.positionals.length];
    throw new UsageError(
      leaf.positionals.length === 0
        ? `"${state.path.join(" ")}" takes no arguments, not "${extra}"`
        : `unexpected argument "${extra}" after ${leaf.positionals.map((p) => p.name.toUpperCase()).join(" ")}`,
    );
  }
  return [
    ...state.path,
    ...given.map((g) => g.canonical),
    ...(positionals.length > 0 ? ["--", ...positionals] : []),
  ];
}

function visible(node: CommandDoc): string[] {
  return node.subCommands.filter((c) => !c.hidden).map((c) => c.name);
}

function unknownCommand(path: string[], word: string): string {
  return path.length === 0
    ? `unknown command "${word}"`
    : `unknown command "${path.join(" ")} ${word}"`;
}

/** Finds the option `token` names among those of `node` and of the root, and its value. */
function readOption(
  root: CommandDoc,
  node: CommandDoc,
  token: string,
  next: string | undefined,
): { option: OptionDoc; canonical: string; takesNext: boolean } {
  const long = token.startsWith("--");
  const eq = token.indexOf("=");
  const name = long ? token.slice(2, eq < 0 ? undefined : eq) : token.slice(1, 2);
  // -n5 and -n=5 as well as -n 5
  const inline = long
    ? eq < 0
      ? undefined
      : token.slice(eq + 1)
    : token.slice(2).replace(/^=/, "") || undefined;
  const candidates = node === root ? root.options : [...node.options, ...root.options];
  const matches = (o: OptionDoc, n: string) =>
    o.name === n || o.aliases.includes(n.length === 1 && !long ? `-${n}` : `--${n}`);
  const option = candidates.find((o) => matches(o, name));
  if (option) {
    if (option.value === null) {
      if (inline !== undefined) throw new UsageError(`${token.split("=")[0]} takes no value`);
      return { option, canonical: `--${option.name}`, takesNext: false };
    }
    const value = inline ?? next;
    if (value === undefined) throw new UsageError(`${token} needs a value (${option.value})`);
    return { option, canonical: `--${option.name}=${value}`, takesNext: inline === undefined };
  }
  const negated = long && name.startsWith("no-") ? name.slice(3) : null;
  const switchOff = negated === null ? undefined : candidates.find((o) => o.name === negated);
  if (switchOff?.value === null && inline === undefined) {
    return { option: switchOff, canonical: `--no-${switchOff.name}`, takesNext: false };
  }
  throw new UsageError(`unknown option ${long ? `--${name}` : `-${name}`}`);
}
