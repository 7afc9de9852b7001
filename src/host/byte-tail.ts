/** The last `capacity` bytes of a stream, decoded only when asked for. */
export class ByteTail {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly capacity: number) {}

  append(data: Buffer): void {
    this.chunks.push(data);
    this.size += data.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0].length >= this.capacity) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  /** As text, from the first whole character within the last `capacity` bytes. */
  text(): string {
    const all = Buffer.concat(this.chunks);
    const from = Math.max(0, all.length - this.capacity);
    // A character is at most 4 bytes: past 3 continuation bytes the stream is not UTF-8 there.
    let start = from;
    while (start < Math.min(all.length, from + 3) && (all[start] & 0xc0) === 0x80) start++;
    return all.subarray(start).toString("utf8");
  }
}
