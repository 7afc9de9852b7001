import {
  closeSync,
  fdatasync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";

export interface OpenedJournal<Op> {
  journal: Journal<Op>;
  /** The records the file holds, oldest first. */
  ops: Op[];
  /** Set when lines were left out: a torn last line, or lines that are no record. */
  warning: string | null;
}

/**
 * An append-only JSON-lines file. Each record is written with one write(2) before append()
 * returns, so a process killed at any moment leaves every record it appended; fdatasync runs in
 * the background, one for every batch of records appended meanwhile (group commit), and
 * synced() tells when they are on disk. A kill in the middle of a write leaves at most a torn last
 * line, which open() cuts off. rewrite() replaces the file atomically (temp file, fsync, rename).
 */
export class Journal<Op> {
  private fd: number;
  private bytes: number;
  /** Bytes appended since the file was last written whole. */
  private appended = 0;
  private syncing: Promise<void> | null = null;
  /** Records appended since the running fdatasync started. */
  private dirty = false;
  /** A failed write could not be undone: the file must be written whole before the next record. */
  private torn = false;
  /** Counts rewrites: each replaces the file descriptor. */
  private generation = 0;

  private constructor(
    readonly file: string,
    fd: number,
    size: number,
    private readonly onError: (message: string) => void,
  ) {
    this.fd = fd;
    this.bytes = size;
  }

  /**
   * Opens `file` (created when missing) and reads its records; `parse` turns a line's JSON into a
   * record, or null when it is none. A last line without its newline was torn by a kill and is cut
   * off the file; a leftover temp file of an unfinished rewrite is removed.
   */
  static open<Op>(
    file: string,
    parse: (value: unknown) => Op | null,
    onError: (message: string) => void = () => {},
  ): OpenedJournal<Op> {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    rmSync(tempOf(file), { force: true });
    const fd = openSync(file, "a+", 0o600);
    const data = readFileSync(fd);
    const end = data.lastIndexOf(0x0a) + 1;
    const problems: string[] = [];
    if (end < data.length) {
      ftruncateSync(fd, end);
      problems.push(`cut off a torn last line of ${data.length - end} bytes`);
    }
    const ops: Op[] = [];
    let bad = 0;
    for (const line of data.subarray(0, end).toString("utf8").split("\n")) {
      if (line === "") continue;
      let op: Op | null = null;
      try {
        op = parse(JSON.parse(line));
      } catch {
        // counted below
      }
      if (op === null) bad++;
      else ops.push(op);
    }
    if (bad > 0) problems.push(`left out ${bad} line${bad === 1 ? "" : "s"} that are no record`);
    const journal = new Journal<Op>(file, fd, end, onError);
    journal.appended = end;
    return {
      journal,
      ops,
      warning: problems.length > 0 ? `${file}: ${problems.join("; ")}` : null,
    };
  }

  /** The file's size. */
  get size(): number {
    return this.bytes;
  }

  /** Bytes appended since the file was last written whole. */
  get appendedBytes(): number {
    return this.appended;
  }

  /**
   * Writes `op` as one line before returning. On failure (say a full disk) the file is cut back
   * to its last whole record and the error thrown: the record is not in the journal.
   */
  append(op: Op): void {
    if (this.torn) throw new Error(`${this.file} needs rewriting after a failed write`);
    const line = Buffer.from(`${JSON.stringify(op)}\n`);
    try {
      let done = 0;
      while (done < line.length) done += writeSync(this.fd, line, done, line.length - done);
    } catch (err) {
      try {
        ftruncateSync(this.fd, this.bytes);
      } catch {
        this.torn = true;
      }
      throw err;
    }
    this.bytes += line.length;
    this.appended += line.length;
    this.dirty = true;
    this.scheduleSync();
  }

  /** Whether append() refuses until rewrite() succeeds. */
  get needsRewrite(): boolean {
    return this.torn;
  }

  /** Resolves once every record appended so far is on disk (or its fdatasync failed, logged). */
  async synced(): Promise<void> {
    while (this.dirty || this.syncing) await (this.syncing ?? Promise.resolve());
  }

  /** Replaces the file with `ops`, atomically: a kill at any point leaves the old or the new file. */
  rewrite(ops: readonly Op[]): void {
    const temp = tempOf(this.file);
    const text = Buffer.from(ops.map((op) => `${JSON.stringify(op)}\n`).join(""));
    const fd = openSync(temp, "w", 0o600);
    try {
      let done = 0;
      while (done < text.length) done += writeSync(fd, text, done, text.length - done);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      rmSync(temp, { force: true });
      throw err;
    }
    closeSync(fd);
    renameSync(temp, this.file);
    syncDir(dirname(this.file));
    const next = openSync(this.file, "a+", 0o600);
    closeSync(this.fd);
    this.fd = next;
    this.generation++;
    this.bytes = text.length;
    this.appended = 0;
    this.torn = false;
  }

  /** Syncs what is left and closes the file. */
  close(): void {
    this.generation++;
    try {
      fsyncSync(this.fd);
    } catch (err) {
      this.onError(`${this.file}: fsync failed: ${(err as Error).message}`);
    }
    closeSync(this.fd);
  }

  private scheduleSync(): void {
    if (this.syncing) return;
    this.dirty = false;
    const generation = this.generation;
    this.syncing = new Promise<void>((resolve) =>
      fdatasync(this.fd, (err) => {
        // A rewrite meanwhile closed that descriptor, after an fsync of its own.
        if (err && generation === this.generation) {
          this.onError(`${this.file}: fdatasync failed: ${err.message}`);
        }
        this.syncing = null;
        if (this.dirty) this.scheduleSync();
        resolve();
      }),
    );
  }
}

function tempOf(file: string): string {
  return `${file}.tmp`;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
