import { detectDialog } from "./dialogs.js";
import type { ScreenReading } from "./evidence.js";

/** What the screen of claude 2.1.332 tells about the conversation, for the evidence model. */
export interface ClaudeScreen extends ScreenReading {
  /** claude said it cannot hear its channels (no claude.ai login, or switched off for the account). */
  channelsRefused: boolean;
}

const permissionDialog = /Do you want to (proceed|make this edit|create|allow|run)\b.*\?/;
const firstChoice = /^\s*(❯\s*)?1\.\s+Yes\b/;
const busyFooter = /esc to interrupt/i;
/** How claude says it cannot hear its channels, in any case. */
export const channelRefusalPhrases = [
  "Channels are not currently available",
  "channels aren't available right now",
];
const channelsRefused = new RegExp(
  channelRefusalPhrases.map((phrase) => phrase.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"),
  "i",
);

export function readScreen(lines: string[]): ClaudeScreen {
  const text = lines.join("\n");
  return {
    dialog: detectDialog(lines),
    permissionPrompt:
      lines.some((l) => permissionDialog.test(l)) && lines.some((l) => firstChoice.test(l)),
    busy: busyFooter.test(text),
    channelsRefused: channelsRefused.test(text),
  };
}
