import type { ArgsDef, CommandDef } from "citty";

/** A command's option, as it is typed: `--json`, `--no-submit`, `-f, --follow`. */
export interface OptionDoc {
  /** The argument's key, as citty names it: `submit` for `--no-submit`. */
  name: string;
  flag: string;
  aliases: string[];
  description: string;
  /** What follows the flag (`PATH`), or null for a switch. */
  value: string | null;
  required: boolean;
}

export interface PositionalDoc {
  name: string;
  description: string;
  required: boolean;
}

/** A citty command as plain data: what --help, the completions and the man pages show. */
export interface CommandDoc {
  name: string;
  description: string;
  hidden: boolean;
  /** It runs on its own, not only through one of its subcommands. */
  runnable: boolean;
  /** The subcommand that runs when none is named. */
  defaultCommand: string | null;
  options: OptionDoc[];
  positionals: PositionalDoc[];
  subCommands: CommandDoc[];
}

async function resolve<T>(
  value: T | (() => T | Promise<T>) | Promise<T> | undefined,
): Promise<T | undefined> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

/** Reads `command` and, recursively, its subcommands. */
export async function readCommand(command: CommandDef, name?: string): Promise<CommandDoc> {
  const meta = (await resolve(command.meta)) ?? {};
  const args = ((await resolve(command.args)) ?? {}) as ArgsDef;
  const subCommands = (await resolve(command.subCommands)) ?? {};
  const options: OptionDoc[] = [];
  const positionals: PositionalDoc[] = [];
  for (const [arg, def] of Object.entries(args)) {
    const description = def.description ?? "";
    const required = def.required === true;
    if (def.type === "positional") {
      positionals.push({ name: arg, description, required: def.required !== false });
      continue;
    }
    // a boolean that defaults to true is only ever given as --no-<name>
    const negated = def.type === "boolean" && def.default === true;
    const aliases = ["alias" in def ? (def.alias ?? []) : []]
      .flat()
      .map((a) => (a.length === 1 ? `-${a}` : `--${a}`));
    options.push({
      name: arg,
      flag: negated ? `--no-${arg}` : `--${arg}`,
      aliases: negated ? [] : aliases,
      description: negated ? (def.negativeDescription ?? `Turn off: ${description}`) : description,
      value:
        def.type === "string" || def.type === "enum" ? (def.valueHint ?? arg.toUpperCase()) : null,
      required,
    });
  }
  const subs: CommandDoc[] = [];
  for (const [sub, def] of Object.entries(subCommands)) {
    subs.push(await readCommand((await resolve(def as CommandDef)) as CommandDef, sub));
  }
  return {
    name: name ?? meta.name ?? "",
    description: meta.description ?? "",
    hidden: meta.hidden === true,
    runnable: typeof command.run === "function",
    defaultCommand: (await resolve(command.default)) ?? null,
    options,
    positionals,
    subCommands: subs,
  };
}
