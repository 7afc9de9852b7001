import { stripAnsi } from "../pty/strip-ansi.js";

/**
 * Sequences that clear or redraw the screen: erase in display, cursor home or up (how Ink
 * repaints its frame), a full reset, the alternate screen. What came before the last one is the
 * screen's, not the dying process's last words.
 */
// eslint-disable-next-line no-control-regex
const redraw = /\x1b\[[0-9;]*[HJfA]|\x1bc|\x1b\[\?(?:1049|1047|47)[hl]/g;

/** Words of an error message, as opposed to a status line or a footer. */
const errorWords =
  /\b(?:error|fatal|panic|exception|traceback|fail(?:ed|ure)?|cannot|can't|could ?not|couldn't|unable to|not found|no such|denied|refused|invalid|unknown|abort(?:ed)?|segmentation fault|out of memory)\b|\b[a-z]+(?:error|exception)\b|\bno\b.*\bfound\b/i;

/** A prompt, an input box or a conversation line: what claude draws, not what it dies of. */
const drawnLine = /^[>❯│┃╭╰─⎿⏺●]/;

/**
 * The line of a dead process's last output that says why it died: the last line that looks like
 * an error among what it wrote after its last screen redraw. Null when there is none.
 */
export function crashLine(output: string): string | null {
  let start = 0;
  for (const match of output.matchAll(redraw)) start = match.index + match[0].length;
  const lines = stripAnsi(output.slice(start))
    .split(/\r?\n|\r/)
    .map((line) => line.trim());
  return lines.filter((line) => errorWords.test(line) && !drawnLine.test(line)).pop() ?? null;
}
