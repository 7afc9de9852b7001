import type { CommandDef } from "citty";
import { readCommand, type CommandDoc, type OptionDoc } from "./command-tree.js";

export const completionShells = ["bash", "zsh", "fish"] as const;
export type CompletionShell = (typeof completionShells)[number];

interface Option {
  flag: string;
  /** `-f` for `--follow`, or null. */
  short: string | null;
  description: string;
  takesValue: boolean;
}

/** A command's subcommands and options, as the completions need them. */
interface Entry {
  name: string;
  description: string;
  options: Option[];
  /** The first positional names a session: complete it with session names and ids. */
  takesSession: boolean;
}

const option = (o: OptionDoc): Option => ({
  flag: o.flag,
  short: o.aliases.find((a) => /^-[^-]$/.test(a)) ?? null,
  description: o.description,
  takesValue: o.value !== null,
});

/** The program's commands, and the options that may come before them (the root's). */
async function read(command: CommandDef): Promise<{ globals: Option[]; entries: Entry[] }> {
  const root: CommandDoc = await readCommand(command);
  return {
    globals: root.options.map(option),
    entries: root.subCommands
      .filter((sub) => !sub.hidden)
      .map((sub) => ({
        name: sub.name,
        description: sub.description,
        options: sub.options.map(option),
        takesSession: sub.positionals[0]?.name === "id",
      })),
  };
}

const quote = (text: string) => text.replace(/'/g, "'\\''");
const flags = (options: Option[]) =>
  options.flatMap((o) => (o.short ? [o.short, o.flag] : [o.flag]));
const valueFlags = (options: Option[]) => flags(options.filter((o) => o.takesValue));

/**
 * A bash completion script for `program`, whose session names come from `list --names`. The
 * command is the first word that is neither an option nor an option's value.
 */
export async function bashCompletion(program: string, command: CommandDef): Promise<string> {
  const { globals, entries } = await read(command);
  const fn = `_${program.replace(/-/g, "_")}`;
  const cases = entries
    .map(
      (e) =>
        `    ${e.name}) opts='${flags(e.options).join(" ")} --help'; values='${valueFlags(e.options).join(" ")}'; session=${e.takesSession ? 1 : 0} ;;`,
    )
    .join("\n");
  return `# bash completion for ${program}
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} opts values='${valueFlags(globals).join(" ")}' session=0
  local i=1 command= word args=0
  while [ "$i" -lt "$COMP_CWORD" ]; do
    word=\${COMP_WORDS[i]}
    if [[ " $values " == *" $word "* ]]; then
      i=$((i + 1))
    elif [[ $word != -* ]]; then
      if [ -z "$command" ]; then
        command=$word
        case $command in
${cases.replace(/^ {4}/gm, "          ")}
          *) return ;;
        esac
      else
        args=$((args + 1))
      fi
    fi
    i=$((i + 1))
  done
  if [ -z "$command" ]; then
    COMPREPLY=($(compgen -W '${entries.map((e) => e.name).join(" ")} ${flags(globals).join(" ")} --help --version' -- "$cur"))
  elif [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [ "$session" = 1 ] && [ "$args" -eq 0 ] && [[ " $values " != *" \${COMP_WORDS[COMP_CWORD - 1]} "* ]]; then
    COMPREPLY=($(compgen -W "$(claude-poolctl list --names 2>/dev/null)" -- "$cur"))
  fi
}
complete -o default -F ${fn} ${program}
`;
}

/** A zsh completion script (#compdef) for `program`. */
export async function zshCompletion(program: string, command: CommandDef): Promise<string> {
  const { entries } = await read(command);
  const fn = `_${program.replace(/-/g, "_")}`;
  const commands = entries.map((e) => `    '${e.name}:${quote(e.description)}'`).join("\n");
  const cases = entries
    .map((e) => {
      const options = e.options.map(
        (o) =>
          `'${o.flag}[${quote(o.description).replace(/[[\]]/g, "")}]${o.takesValue ? ":value:" : ""}'`,
      );
      const session = e.takesSession ? ["'1:session:_claude_pool_sessions'"] : [];
      return `    ${e.name}) _arguments ${[...options, ...session].join(" ")} ;;`;
    })
    .join("\n");
  return `#compdef ${program}
_claude_pool_sessions() {
  local -a sessions
  sessions=(\${(f)"$(claude-poolctl list --names 2>/dev/null)"})
  compadd -a sessions
}
${fn}() {
  local -a commands
  commands=(
${commands}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  shift words
  (( CURRENT-- ))
  case $words[1] in
${cases}
  esac
}
${fn} "$@"
`;
}

/** A fish completion script for `program`. */
export async function fishCompletion(program: string, command: CommandDef): Promise<string> {
  const { globals, entries } = await read(command);
  const text = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  const complete = (condition: string | null, o: Option) =>
    [
      `complete -c ${program}`,
      ...(condition ? [`-n ${text(condition)}`] : []),
      ...(o.short ? [`-s ${o.short.slice(1)}`] : []),
      `-l ${o.flag.slice(2)}`,
      ...(o.takesValue ? ["-r"] : []),
      `-d ${text(o.description)}`,
    ].join(" ");
  const sessions = `__${program.replace(/-/g, "_")}_sessions`;
  const lines = [
    `# fish completion for ${program}`,
    `function ${sessions}`,
    "    claude-poolctl list --names 2>/dev/null",
    "end",
    `complete -c ${program} -f`,
    ...globals.map((o) => complete(null, o)),
    ...entries.flatMap((e) => {
      const seen = `__fish_seen_subcommand_from ${e.name}`;
      return [
        `complete -c ${program} -n __fish_use_subcommand -a ${e.name} -d ${text(e.description)}`,
        ...e.options
          .filter((o) => !globals.some((g) => g.flag === o.flag))
          .map((o) => complete(seen, o)),
        ...(e.takesSession ? [`complete -c ${program} -n ${text(seen)} -a '(${sessions})'`] : []),
      ];
    }),
  ];
  return lines.join("\n") + "\n";
}

export const completionScripts: Record<
  CompletionShell,
  (program: string, command: CommandDef) => Promise<string>
> = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion };
