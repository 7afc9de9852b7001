/** The last `capacity` characters of a session's output, kept as a list of chunks. */
export class Scrollback {
  private chunks: string[] = [];
  private size = 0;

  constructor(private readonly capacity: number) {}

  append(data: string): void {
    this.chunks.push(data);
    this.size += data.length;
    while (this.size > this.capacity && this.chunks.length > 0) {
      const excess = this.size - this.capacity;
      const head = this.chunks[0];
      if (head.length <= excess) {
        this.chunks.shift();
        this.size -= head.length;
      } else {
        this.chunks[0] = head.slice(excess);
        this.size -= excess;
      }
    }
  }

  text(): string {
    if (this.chunks.length > 1) this.chunks = [this.chunks.join("")];
    return this.chunks[0] ?? "";
  }
}

export function stripAnsi(text: string): string {
  // CSI, OSC (BEL or ST terminated), and two-byte escapes
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-_]/g, "");
}
