import type { CommandDef } from "citty";
import { readCommand } from "./command-tree.js";

/** A command's subcommands and options, as the completions need them. */
interface Entry {
  name: string;
  description: string;
  options: { flag: string; description: string; takesValue: boolean }[];
  /** The first positional names a session: complete it with session names and ids. */
  takesSession: boolean;
}

async function entries(command: CommandDef): Promise<Entry[]> {
  return (await readCommand(command)).subCommands.map((sub) => ({
    name: sub.name,
    description: sub.description,
    options: sub.options.map((o) => ({
      flag: o.flag,
      description: o.description,
      takesValue: o.value !== null,
    })),
    takesSession: sub.positionals[0]?.name === "id",
  }));
}

const quote = (text: string) => text.replace(/'/g, "'\\''");

/** A bash completion script for `program`, whose session names come from `list --names`. */
export async function bashCompletion(program: string, command: CommandDef): Promise<string> {
  const list = await entries(command);
  const fn = `_${program.replace(/-/g, "_")}`;
  const cases = list
    .map(
      (e) =>
        `    ${e.name}) opts='${e.options.map((o) => o.flag).join(" ")} --help'; session=${e.takesSession ? 1 : 0} ;;`,
    )
    .join("\n");
  return `# bash completion for ${program}
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} opts session=0
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W '${list.map((e) => e.name).join(" ")} --help --version' -- "$cur"))
    return
  fi
  case \${COMP_WORDS[1]} in
${cases}
    *) return ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [ "$session" = 1 ] && [ "$COMP_CWORD" -eq 2 ]; then
    COMPREPLY=($(compgen -W "$(claude-poolctl list --names 2>/dev/null)" -- "$cur"))
  fi
}
complete -o default -F ${fn} ${program}
`;
}

/** A zsh completion script (#compdef) for `program`. */
export async function zshCompletion(program: string, command: CommandDef): Promise<string> {
  const list = await entries(command);
  const fn = `_${program.replace(/-/g, "_")}`;
  const commands = list.map((e) => `    '${e.name}:${quote(e.description)}'`).join("\n");
  const cases = list
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
