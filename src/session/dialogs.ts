/** First-run dialogs an unattended claude can wait at forever; someone must attach and answer. */
export type Dialog =
  | "trust-folder"
  | "api-key"
  | "development-channels"
  | "bypass-permissions"
  | "login"
  | "onboarding";

/** Screen text that identifies each dialog, as Claude Code 2.1.332 draws it. */
const patterns: [Dialog, RegExp][] = [
  ["development-channels", /WARNING: Loading development channels/i],
  ["bypass-permissions", /Bypass Permissions mode/i],
  ["api-key", /Do you want to use this API key\?/i],
  [
    "trust-folder",
    /Do you trust the files in this folder\?|Is this a project you (created|trust)/i,
  ],
  ["login", /Select login method|Not logged in|Please run \/login/i],
  ["onboarding", /Choose the text style that looks best with your terminal/i],
];

export function detectDialog(screenLines: string[]): Dialog | null {
  const text = screenLines.join("\n");
  return patterns.find(([, re]) => re.test(text))?.[0] ?? null;
}
