export function stripAnsi(text: string): string {
  // CSI, OSC (BEL or ST terminated), and two-byte escapes
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-_]/g, "");
}
