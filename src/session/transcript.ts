import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
} from "node:fs";
import { join } from "node:path";
import { projectSlug } from "./claude-state.js";

/** DESIGN.md's `session.transcript` entry. */
export interface TranscriptEntry {
  role: "user" | "assistant";
  text: string;
  tools: { name: string; input: unknown; result?: string }[];
  time: string | null;
}

/** Characters kept of one tool result: a transcript is for reading, not for copying files. */
const resultChars = 4000;

/** Where claude keeps the conversation, or null when it has none yet. */
export function transcriptFile(
  configDir: string,
  cwd: string,
  claudeSessionId: string,
): string | null {
  const projects = join(configDir, "projects");
  const name = `${claudeSessionId}.jsonl`;
  const own = join(projects, projectSlug(cwd), name);
  if (existsSync(own)) return own;
  try {
    const dir = readdirSync(projects).find((d) => existsSync(join(projects, d, name)));
    return dir === undefined ? null : join(projects, dir, name);
  } catch {
    return null;
  }
}

/** The conversation in a transcript file, oldest first; the last `limit` entries when given. */
export function readTranscript(file: string, limit?: number): TranscriptEntry[] {
  const entries = parseTranscript(readFileSync(file, "utf8"));
  return limit === undefined ? entries : entries.slice(Math.max(0, entries.length - limit));
}

interface Line {
  type?: unknown;
  isSidechain?: unknown;
  isMeta?: unknown;
  timestamp?: unknown;
  message?: { id?: unknown; content?: unknown };
}

interface Block {
  type?: unknown;
  text?: unknown;
  name?: unknown;
  id?: unknown;
  input?: unknown;
  tool_use_id?: unknown;
  content?: unknown;
}

/**
 * claude's JSONL transcript: one line per event. User and assistant lines carry Anthropic message
 * content; an assistant message may be split over several lines with the same message id, and a
 * tool's result comes back in a later user line that names the tool_use id.
 */
export function parseTranscript(jsonl: string): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  const tools = new Map<string, TranscriptEntry["tools"][number]>();
  let lastMessageId: unknown = null;
  for (const raw of jsonl.split("\n")) {
    const line = parseLine(raw);
    if (!line || line.isSidechain === true || line.isMeta === true) continue;
    if (line.type !== "user" && line.type !== "assistant") continue;
    const role = line.type;
    const time = typeof line.timestamp === "string" ? line.timestamp : null;
    const content = line.message?.content;
    const blocks: Block[] =
      typeof content === "string"
        ? [{ type: "text", text: content }]
        : Array.isArray(content)
          ? content
          : [];
    const texts: string[] = [];
    const used: TranscriptEntry["tools"] = [];
    for (const block of blocks) {
      if (block === null || typeof block !== "object") continue;
      if (block.type === "text" && typeof block.text === "string") texts.push(block.text);
      else if (block.type === "tool_use" && typeof block.name === "string") {
        const tool = { name: block.name, input: block.input ?? null };
        used.push(tool);
        if (typeof block.id === "string") tools.set(block.id, tool);
      } else if (block.type === "tool_result" && typeof block.tool_use_id === "string") {
        const tool = tools.get(block.tool_use_id);
        if (tool) tool.result = resultText(block.content).slice(0, resultChars);
      }
    }
    if (texts.length === 0 && used.length === 0) continue;
    const text = texts.join("\n\n");
    const previous = entries.at(-1);
    const sameMessage =
      role === "assistant" &&
      previous?.role === "assistant" &&
      line.message?.id !== undefined &&
      line.message.id === lastMessageId;
    lastMessageId = role === "assistant" ? line.message?.id : null;
    if (sameMessage && previous) {
      previous.text = [previous.text, text].filter((t) => t !== "").join("\n\n");
      previous.tools.push(...used);
      continue;
    }
    entries.push({ role, text, tools: used, time });
  }
  return entries;
}

function parseLine(raw: string): Line | null {
  if (raw.trim() === "") return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    return parsed !== null && typeof parsed === "object" ? (parsed as Line) : null;
  } catch {
    return null; // a line claude is writing right now
  }
}

function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((b: Block | null) =>
      b !== null && typeof b === "object" && b.type === "text" && typeof b.text === "string"
        ? b.text
        : "",
    )
    .filter((t) => t !== "")
    .join("\n");
}

/** How much of a transcript's end is read to see how the last turn ended. */
const tailBytes = 64 * 1024;

/** claude's record of an interruption: "[Request interrupted by user]" or "… for tool use]". */
const interruption = /^\[Request interrupted by user/;

/** Whether claude recorded, at or after `since` (ISO time), that the person interrupted a turn. */
export function interruptedSince(file: string, since: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return false;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, tailBytes);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const last = parseTranscript(buffer.toString("utf8")).at(-1);
    return (
      last?.role === "user" &&
      interruption.test(last.text) &&
      last.time !== null &&
      last.time >= since
    );
  } finally {
    closeSync(fd);
  }
}
