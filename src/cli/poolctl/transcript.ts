import type { TranscriptEntry } from "../../session/transcript.js";
import { excerpt, localTime } from "./format.js";

/** What `session.transcript` returns. */
export interface TranscriptResult {
  id: string;
  claudeSessionId: string;
  entries: TranscriptEntry[];
}

/** The input field claude's own screen shows in `Tool(…)`, by tool. */
const mainInput = ["command", "file_path", "path", "pattern", "url", "query", "description"];

/** A tool call as claude draws it: `Bash(ls -la)`, `Read(src/a.ts)`, cut to `width`. */
export function toolCall(name: string, input: unknown, width: number): string {
  return `${name}(${excerpt(toolArgument(input), Math.max(8, width - name.length - 2))})`;
}

function toolArgument(input: unknown): string {
  if (typeof input === "string") return input;
  if (input === null || typeof input !== "object") return "";
  const fields = input as Record<string, unknown>;
  const key = mainInput.find((k) => typeof fields[k] === "string");
  const text = Object.values(fields).find((v): v is string => typeof v === "string");
  if (key !== undefined) return fields[key] as string;
  return text ?? (Object.keys(fields).length === 0 ? "" : JSON.stringify(input));
}

/** A tool's result in a line: its first line, and how many more there are. */
function resultLine(result: string, width: number): string {
  const lines = result.trimEnd().split("\n");
  const more = lines.length > 1 ? ` (+${lines.length - 1} lines)` : "";
  return excerpt(lines[0] || "(no output)", Math.max(10, width - more.length)) + more;
}

/**
 * The conversation for reading: a header per entry (`you` or `claude`, and its time), its text,
 * then each tool call as `  ⏺ Tool(argument)` with the first line of its result.
 */
export function transcriptText(entries: TranscriptEntry[], width: number): string {
  return entries
    .map((entry) => {
      const who = entry.role === "user" ? "you" : "claude";
      const lines = [entry.time === null ? who : `${who} · ${localTime(entry.time)}`];
      if (entry.text !== "") lines.push(entry.text);
      for (const tool of entry.tools) {
        lines.push(`  ⏺ ${toolCall(tool.name, tool.input, width - 4)}`);
        if (tool.result !== undefined) lines.push(`    ⎿  ${resultLine(tool.result, width - 7)}`);
      }
      return lines.join("\n");
    })
    .join("\n\n");
}
