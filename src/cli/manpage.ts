/**
 * Man pages in roff, generated from what --help shows (the citty commands, read by
 * command-tree.ts) and from the config's JSON Schema, so the docs are written once.
 */
import type { CommandDoc, OptionDoc } from "./command-tree.js";

/** Text as roff shows it literally. */
export function escape(text: string): string {
  return text
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .replace(/^([.'])/gm, "\\&$1");
}

export const bold = (text: string) => `\\fB${escape(text)}\\fR`;
export const italic = (text: string) => `\\fI${escape(text)}\\fR`;

/** A tagged paragraph: its term is roff already, its body is plain text or roff lines. */
export interface Item {
  term: string;
  body: string[];
}

export interface Section {
  title: string;
  /** Plain-text paragraphs. */
  paragraphs?: string[];
  items?: Item[];
  /** Lines shown as they are, in a no-fill block (an example file). */
  literal?: string;
}

export interface PageHead {
  name: string;
  section: number;
  version: string;
  /** YYYY-MM-DD */
  date: string;
  summary: string;
  manual: string;
}

function renderItems(items: Item[]): string[] {
  return items.flatMap((item) => [".TP", item.term, ...item.body]);
}

export function renderPage(head: PageHead, sections: Section[]): string {
  const lines = [
    `.TH ${head.name.toUpperCase()} ${head.section} ${head.date} "${head.version}" "${head.manual}"`,
    // no hyphenation, ragged right: paths and option names stay whole
    ".nh",
    ".ad l",
    ".SH NAME",
    `${escape(head.name)} \\- ${escape(head.summary)}`,
  ];
  for (const section of sections) {
    lines.push(`.SH ${section.title.toUpperCase()}`);
    for (const [i, p] of (section.paragraphs ?? []).entries()) {
      if (i > 0) lines.push(".PP");
      lines.push(escape(p));
    }
    if (section.items) lines.push(...renderItems(section.items));
    if (section.literal !== undefined) {
      lines.push(".PP", ".nf", ".RS 4", ...section.literal.trimEnd().split("\n").map(escape));
      lines.push(".RE", ".fi");
    }
  }
  return lines.join("\n") + "\n";
}

const optionKey = (o: OptionDoc) => `${o.flag}\u0000${o.description}`;

function optionTerm(o: OptionDoc): string {
  const flags = [...o.aliases, o.flag].map(bold).join(", ");
  return o.value === null ? flags : `${flags} ${italic(o.value)}`;
}

const optionItem = (o: OptionDoc): Item => ({
  term: optionTerm(o),
  body: [escape(o.description + (o.required ? " (required)" : ""))],
});

/** Every visible command under `root`, with its words after the program name. */
function leaves(root: CommandDoc, path: string[] = []): [string[], CommandDoc][] {
  return root.subCommands
    .filter((c) => !c.hidden)
    .flatMap((c) => [
      [[...path, c.name], c] as [string[], CommandDoc],
      ...leaves(c, [...path, c.name]),
    ]);
}

/**
 * Options that most commands share (same flag, same meaning), described once in COMMON OPTIONS
 * instead of under every command.
 */
function commonOptions(commands: CommandDoc[]): OptionDoc[] {
  const counts = new Map<string, { option: OptionDoc; count: number }>();
  for (const c of commands) {
    for (const o of c.options) {
      const entry = counts.get(optionKey(o)) ?? { option: o, count: 0 };
      entry.count++;
      counts.set(optionKey(o), entry);
    }
  }
  return [...counts.values()]
    .filter((e) => e.count >= 3 && e.count * 2 >= commands.length)
    .map((e) => e.option);
}

/** The COMMANDS and COMMON OPTIONS sections of a program with subcommands. */
export function commandSections(program: CommandDoc): Section[] {
  const commands = leaves(program);
  const common = commonOptions(commands.map(([, c]) => c));
  const commonKeys = new Set(common.map(optionKey));
  const items = commands.map(([words, c]): Item => {
    const takesAllCommon = common.every((o) =>
      c.options.some((x) => optionKey(x) === optionKey(o)),
    );
    const own = c.options.filter((o) => !(takesAllCommon && commonKeys.has(optionKey(o))));
    const synopsis = [
      bold(words.join(" ")),
      ...(own.length > 0 || (takesAllCommon && common.length > 0) ? ["[\\fIoptions\\fR]"] : []),
      ...c.positionals.map((p) =>
        p.required ? italic(p.name.toUpperCase()) : `[${italic(p.name.toUpperCase())}]`,
      ),
    ].join(" ");
    const body = [escape(c.description)];
    const details: Item[] = [
      ...c.positionals.map((p) => ({
        term: italic(p.name.toUpperCase()),
        body: [escape(p.description)],
      })),
      ...own.map(optionItem),
    ];
    if (details.length > 0) body.push(".RS", ...renderItems(details), ".RE");
    if (takesAllCommon && common.length > 0) body.push(".IP", "Takes the common options.");
    return { term: synopsis, body };
  });
  const sections: Section[] = [{ title: "Commands", items }];
  if (common.length > 0) {
    sections.push({
      title: "Common options",
      paragraphs: ["Taken by every command that says so above."],
      items: common.map(optionItem),
    });
  }
  return sections;
}

/** The subset of JSON Schema that the config schema uses. */
export interface SchemaNode {
  description?: string;
  type?: string;
  enum?: readonly unknown[];
  oneOf?: readonly SchemaNode[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  properties?: Readonly<Record<string, SchemaNode>>;
  required?: readonly string[];
  items?: SchemaNode;
  additionalProperties?: boolean | SchemaNode;
}

function typeName(node: SchemaNode): string {
  if (node.enum) return `one of ${node.enum.join(", ")}`;
  if (node.oneOf) return node.oneOf.map(typeName).join(" or ");
  if (node.type === "array" && node.items) return `array of ${typeName(node.items)}s`;
  if (node.type === "object" && typeof node.additionalProperties === "object") {
    return `object of ${typeName(node.additionalProperties)}s`;
  }
  return node.type ?? "any";
}

function facts(node: SchemaNode, required: boolean): string {
  const parts = [typeName(node)];
  if (required) parts.push("required");
  if (node.minimum !== undefined) parts.push(`at least ${node.minimum}`);
  if (node.exclusiveMinimum !== undefined) parts.push(`more than ${node.exclusiveMinimum}`);
  if (node.maximum !== undefined) parts.push(`at most ${node.maximum}`);
  const empty =
    node.default !== null &&
    typeof node.default === "object" &&
    Object.keys(node.default as object).length === 0;
  if (node.default !== undefined && !empty) parts.push(`default ${JSON.stringify(node.default)}`);
  return parts.join(", ");
}

/**
 * One item per key of the schema, nested keys as dotted paths (`restart.maxRestarts`,
 * `sessions[].name`). Keys that several objects share (a session's settings) are listed once,
 * and the others point there.
 */
export function schemaItems(schema: SchemaNode): Item[] {
  const seen = new Map<object, string>();
  const walk = (node: SchemaNode, prefix: string): Item[] =>
    Object.entries(node.properties ?? {}).flatMap(([key, child]) => {
      const path = prefix + key;
      const object = child.type === "array" && child.items?.properties ? child.items : child;
      const childPrefix = object === child ? `${path}.` : `${path}[].`;
      const body = [escape(child.description ?? "")];
      const item = {
        term: `${bold(path)} (${escape(facts(child, node.required?.includes(key) === true))})`,
        body,
      };
      if (!object.properties) return [item];
      const first = seen.get(object.properties);
      if (first !== undefined) {
        body.push(".IP", escape(`The same keys as ${first}.`));
        return [item];
      }
      seen.set(object.properties, path);
      return [item, ...walk(object, childPrefix)];
    });
  return walk(schema, "");
}
