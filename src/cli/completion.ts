import type { ArgsDef, CommandDef } from "citty";

/** A command's subcommands and options as plain data, read from its citty definition. */
interface Entry {
  name: string;
  description: string;
  options: { flag: string; description: string; takesValue: boolean }[];
  /** The first positional names a session: complete it with session names and ids. */
  takesSession: boolean;
}

async function resolve<T>(
  value: T | (() => T | Promise<T>) | Promise<T> | undefined,
): Promise<T | undefined> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

async function entries(command: CommandDef): Promise<Entry[]> {
  const subCommands = (await resolve(command.subCommands)) ?? {};
  const result: Entry[] = [];
  for (const [name, sub] of Object.entries(subCommands)) {
    const def = (await resolve(sub as CommandDef)) as CommandDef;
    const meta = (await resolve(def.meta)) ?? {};
    const args = ((await resolve(def.args)) ?? {}) as ArgsDef;
    const options = Object.entries(args)
      .filter(([, a]) => a.type !== "positional")
      .map(([flag, a]) => ({
        // a boolean that defaults to true is only ever given as --no-<name>
        flag: a.type === "boolean" && a.default === true ? `--no-${flag}` : `--${flag}`,
        description: a.description ?? "",
        takesValue: a.type === "string",
      }));
    const positional = Object.entries(args).find(([, a]) => a.type === "positional");
    result.push({
      name,
      description: meta.description ?? "",
      options,
      takesSession: positional?.[0] === "id",
    });
  }
  return result;
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
