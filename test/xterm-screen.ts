import xtermHeadless from "@xterm/headless";
import serializeAddon from "@xterm/addon-serialize";

const { Terminal } = xtermHeadless;
const { SerializeAddon } = serializeAddon;

export interface ScreenSnapshot {
  /** Escape sequences that redraw the screen, its scrollback and its modes exactly. */
  data: string;
  cols: number;
  rows: number;
}

/**
 * What xterm holds a line in, measured with @xterm/headless 6 on Node 20 (heap plus array buffers
 * over 20000 lines at 2 to 400 columns): a Uint32Array of 3 words a cell, and about 420 bytes of
 * objects around it (the BufferLine, its typed array and ArrayBuffer, two attribute maps).
 */
const cellBytes = 12;
const lineOverheadBytes = 420;

/**
 * Lines of scrollback that keep the whole buffer, screen included, within `bytes` of memory at
 * `cols` × `rows` (none when the screen alone takes that much).
 */
export function scrollbackLines(bytes: number, cols: number, rows: number): number {
  return Math.max(0, Math.floor(bytes / (cols * cellBytes + lineOverheadBytes)) - rows);
}

/**
 * A headless terminal fed with a session's output, as VS Code's pty host keeps one: attach replays
 * its serialization instead of a byte ring that may start mid-escape.
 */
export class ScreenModel {
  private readonly terminal: InstanceType<typeof Terminal>;
  private readonly serializer: InstanceType<typeof SerializeAddon>;

  /** `onError` hears what xterm throws at a write, which must not reach the event loop. */
  constructor(
    cols: number,
    rows: number,
    private readonly scrollbackBytes: number,
    private readonly onError: (err: Error) => void = () => {},
  ) {
    this.terminal = new Terminal({
      cols,
      rows,
      scrollback: scrollbackLines(scrollbackBytes, cols, rows),
      // A cleared screen goes to the scrollback, as in most terminals (and for reset below).
      scrollOnEraseInDisplay: true,
      allowProposedApi: true,
    });
    this.serializer = new SerializeAddon();
    this.terminal.loadAddon(this.serializer);
  }

  get cols(): number {
    return this.terminal.cols;
  }

  get rows(): number {
    return this.terminal.rows;
  }

  /** Whether the program asked for bracketed paste (`ESC[?2004h`). */
  get bracketedPaste(): boolean {
    return this.terminal.modes.bracketedPasteMode;
  }

  /** Queues output for parsing; `parsed` runs once it is parsed, or at once if xterm refused it. */
  write(data: string | Uint8Array, parsed?: () => void): void {
    try {
      this.terminal.write(data, parsed);
    } catch (err) {
      this.onError(err as Error);
      parsed?.();
    }
  }

  resize(cols: number, rows: number): void {
    this.terminal.options.scrollback = scrollbackLines(this.scrollbackBytes, cols, rows);
    this.terminal.resize(cols, rows);
  }

  /**
   * Resolves once every write so far is parsed, so the snapshot matches the output up to now.
   * `withScrollback: false` redraws the visible screen only.
   */
  snapshot(withScrollback = true): Promise<ScreenSnapshot> {
    return new Promise((resolve) =>
      this.write("", () =>
        resolve({
          data: this.serializer.serialize(withScrollback ? {} : { scrollback: 0 }),
          cols: this.cols,
          rows: this.rows,
        }),
      ),
    );
  }

  /** Parsed lines as plain text: the visible screen, or with `scrollback` everything kept. */
  lines(scrollback = false): string[] {
    const buffer = this.terminal.buffer.active;
    const start = scrollback ? 0 : buffer.baseY;
    const end = scrollback ? buffer.length : buffer.baseY + this.terminal.rows;
    const lines: string[] = [];
    for (let y = start; y < end; y++) lines.push(buffer.getLine(y)?.translateToString(true) ?? "");
    return lines;
  }

  /** Resolves after pending output is parsed, for readers of `lines()`. */
  flushed(): Promise<void> {
    return new Promise((resolve) => this.write("", resolve));
  }

  dispose(): void {
    this.terminal.dispose();
  }
}
