import type { Caller } from "../auth/tokens.js";
import type { ScreenSnapshot } from "../session/session.js";
import { encodeOutput } from "./output-frames.js";

/** What a transport offers a connected client. */
export interface PeerTransport {
  /** Sends one JSON-RPC message. */
  send(text: string): void;
  /** Sends one binary output message (see output-frames.ts). */
  sendOutput(message: Buffer): void;
  /** Bytes accepted for this peer and not yet written to it. */
  bufferedBytes(): number;
  onDrain(listener: () => void): void;
  /** For logs: "unix", "ws 10.0.0.2:5123", … */
  readonly label: string;
}

/** Past this backlog a peer is behind: its live output is dropped and later resynced. */
export const highWaterBytes = 1 << 20;
/**
 * Past this backlog an attached peer holds its session's output back until it drains (the host
 * then stops reading claude's terminal), for at most `pressMs` at a time and `pressShare` of the
 * time overall: a client that reads a burst slower than claude writes it slows the session
 * instead of missing output, and one that reads slowly or not at all falls behind instead of
 * slowing claude for long.
 */
export const pressBytes = 256 * 1024;
export const pressMs = 500;
export const pressShare = 0.25;
/** A press shorter than this is not worth the round trip. */
const minPressMs = 20;
/**
 * Before a resync's redraw: soft reset (DECSTR) and clear screen and scrollback. Not RIS, which
 * would also throw a client out of its alternate screen.
 */
const resetTerminal = "\x1b[!p\x1b[H\x1b[2J\x1b[3J";

interface Attachment {
  readOnly: boolean;
  /** Live output goes as binary messages of the bytes read, not as session.output signals. */
  binary: boolean;
  /** syncing: waiting for a snapshot, output queued; live: output sent; behind: output dropped. */
  state: "syncing" | "live" | "behind";
  /** Output with the byte offset it starts at: the snapshot holds what came before its own. */
  queue: { data: string; bytes: Buffer; offset: number }[];
  queuedBytes: number;
  overflowed: boolean;
  /** While this peer holds the session's output back: the deadline after which it is behind. */
  pressing: NodeJS.Timeout | null;
  /**
   * How long it may hold the output back, as of `budgetAt` (ms, performance.now()), which is
   * also when a press under way began.
   */
  budgetMs: number;
  budgetAt: number;
}

/** A session's output of one event-loop turn, as text or as bytes. */
type Outbox = { binary: false; chunks: string[] } | { binary: true; chunks: Buffer[] };

export type SnapshotSource = (
  sessionId: string,
  withScrollback: boolean,
) => Promise<ScreenSnapshot>;

/**
 * One connected client: its signal subscriptions, the sessions it is attached to, and the rule
 * that a slow client never grows memory without bound or holds anyone else up.
 */
export class Peer {
  private seq = 0;
  private readonly subscriptions = new Set<string>();
  private readonly attachments = new Map<string, Attachment>();
  private closed = false;
  private readonly outbox = new Map<string, Outbox>();
  private flushScheduled = false;
  /** Told when this peer starts and stops holding a session's output back. */
  onPressure: (sessionId: string, pressing: boolean) => void = () => {};

  constructor(
    readonly transport: PeerTransport,
    private readonly snapshot: SnapshotSource,
    /** Who is connected, for signals meant for some scopes only. */
    readonly caller: Caller,
  ) {
    transport.onDrain(() => this.catchUp());
  }

  subscribe(signals: string[]): void {
    for (const s of signals) this.subscriptions.add(s);
  }

  unsubscribe(signals: string[]): void {
    for (const s of signals) this.subscriptions.delete(s);
  }

  subscribed(): string[] {
    return [...this.subscriptions];
  }

  wants(signal: string): boolean {
    return !this.closed && this.subscriptions.has(signal);
  }

  /** Sends a signal if subscribed; a peer far behind loses it, which its `seq` shows. */
  signal(name: string, params: Record<string, unknown>): void {
    if (!this.subscriptions.has(name)) return;
    if (this.transport.bufferedBytes() > highWaterBytes) {
      this.seq++;
      return;
    }
    this.notify(name, params);
  }

  /** A session's output: to an attached peer in order, or to a `session.output` subscriber. */
  output(sessionId: string, data: string, offset: number, bytes: Buffer): void {
    const attachment = this.attachments.get(sessionId);
    if (!attachment) {
      if (data !== "") this.signal("session.output", { id: sessionId, data });
      return;
    }
    switch (attachment.state) {
      case "syncing":
        if (attachment.queuedBytes + bytes.length > highWaterBytes) {
          attachment.overflowed = true;
          this.seq++;
          return;
        }
        attachment.queue.push({ data, bytes, offset });
        attachment.queuedBytes += bytes.length;
        return;
      case "live":
        // While it holds the output back, the host sends at most its window more; the deadline
        // bounds how long that sits here.
        if (attachment.pressing === null && this.transport.bufferedBytes() > highWaterBytes) {
          attachment.state = "behind";
          this.seq++;
          return;
        }
        this.queueOutput(sessionId, attachment.binary, data, bytes);
        if (attachment.pressing === null && this.transport.bufferedBytes() > pressBytes) {
          this.press(sessionId, attachment);
        }
        return;
      case "behind":
        this.seq++;
    }
  }

  /**
   * Attaches to a session: resolves with its screen, after which output streams live. Output
   * that arrives while the snapshot is taken is queued and sent after the reply.
   */
  async attach(sessionId: string, readOnly: boolean, binary = false): Promise<ScreenSnapshot> {
    const before = this.attachments.get(sessionId);
    if (before) this.stopPressing(sessionId, before);
    const attachment: Attachment = {
      readOnly,
      binary,
      state: "syncing",
      queue: [],
      queuedBytes: 0,
      overflowed: false,
      pressing: null,
      budgetMs: pressMs,
      budgetAt: performance.now(),
    };
    this.attachments.set(sessionId, attachment);
    const snapshot = await this.snapshot(sessionId, true);
    // The reply goes out in this turn's promise continuations; live output follows it.
    setImmediate(() => this.goLive(sessionId, attachment, snapshot.offset));
    return snapshot;
  }

  detach(sessionId: string): boolean {
    const attachment = this.attachments.get(sessionId);
    if (attachment) this.stopPressing(sessionId, attachment);
    return this.attachments.delete(sessionId);
  }

  /** The session is gone: forget attachments and stop sending. */
  forget(sessionId: string): void {
    this.detach(sessionId);
  }

  close(): void {
    this.closed = true;
    for (const [sessionId, attachment] of this.attachments)
      this.stopPressing(sessionId, attachment);
    this.attachments.clear();
    this.subscriptions.clear();
  }

  private goLive(sessionId: string, attachment: Attachment, from: number): void {
    if (this.closed || this.attachments.get(sessionId) !== attachment) return;
    if (attachment.overflowed) {
      void this.resync(sessionId, attachment);
      return;
    }
    for (const { data, bytes, offset } of attachment.queue) {
      if (offset >= from) this.queueOutput(sessionId, attachment.binary, data, bytes);
    }
    attachment.queue = [];
    attachment.queuedBytes = 0;
    attachment.state = "live";
  }

  private catchUp(): void {
    for (const [sessionId, attachment] of this.attachments) {
      this.stopPressing(sessionId, attachment);
      if (attachment.state === "behind") void this.resync(sessionId, attachment);
    }
  }

  private press(sessionId: string, attachment: Attachment): void {
    const now = performance.now();
    const refill = (now - attachment.budgetAt) * pressShare;
    attachment.budgetMs = Math.min(pressMs, attachment.budgetMs + refill);
    attachment.budgetAt = now;
    if (attachment.budgetMs < minPressMs) return;
    attachment.pressing = setTimeout(() => {
      this.stopPressing(sessionId, attachment);
      if (attachment.state === "live") attachment.state = "behind";
    }, attachment.budgetMs);
    this.onPressure(sessionId, true);
  }

  private stopPressing(sessionId: string, attachment: Attachment): void {
    if (attachment.pressing === null) return;
    clearTimeout(attachment.pressing);
    attachment.pressing = null;
    const now = performance.now();
    attachment.budgetMs = Math.max(0, attachment.budgetMs - (now - attachment.budgetAt));
    attachment.budgetAt = now;
    this.onPressure(sessionId, false);
  }

  /** Redraws the peer's screen from the model instead of replaying what it missed. */
  private async resync(sessionId: string, attachment: Attachment): Promise<void> {
    this.stopPressing(sessionId, attachment);
    Object.assign(attachment, { state: "syncing", queue: [], queuedBytes: 0, overflowed: false });
    let snapshot: ScreenSnapshot;
    try {
      snapshot = await this.snapshot(sessionId, false);
    } catch {
      this.attachments.delete(sessionId);
      return;
    }
    if (this.closed || this.attachments.get(sessionId) !== attachment) return;
    this.notify("session.output", {
      id: sessionId,
      data: resetTerminal + snapshot.data,
      resync: true,
      cols: snapshot.cols,
      rows: snapshot.rows,
    });
    this.goLive(sessionId, attachment, snapshot.offset);
  }

  /**
   * Output of one event-loop turn goes out as one message per session: a flood arrives from
   * the PTY in reads of a few KiB, and a message per read costs more than the bytes.
   */
  private queueOutput(sessionId: string, binary: boolean, data: string, bytes: Buffer): void {
    let pending = this.outbox.get(sessionId);
    if (pending && pending.binary !== binary) {
      this.flushOutput();
      pending = undefined;
    }
    if (!pending) {
      pending = binary ? { binary: true, chunks: [] } : { binary: false, chunks: [] };
      this.outbox.set(sessionId, pending);
    }
    if (pending.binary) pending.chunks.push(bytes);
    else if (data !== "") pending.chunks.push(data);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushOutput());
    }
  }

  private flushOutput(): void {
    this.flushScheduled = false;
    const outbox = [...this.outbox];
    this.outbox.clear();
    for (const [id, pending] of outbox) {
      if (pending.binary) {
        if (!this.closed) this.transport.sendOutput(encodeOutput(id, pending.chunks));
      } else if (pending.chunks.length > 0) {
        this.send("session.output", { id, data: pending.chunks.join("") });
      }
    }
  }

  /** Sends a notification whatever the subscriptions, after any output queued before it. */
  notify(method: string, params: Record<string, unknown>): void {
    if (this.outbox.size > 0) this.flushOutput();
    this.send(method, params);
  }

  private send(method: string, params: Record<string, unknown>): void {
    if (this.closed) return;
    this.transport.send(
      JSON.stringify({ jsonrpc: "2.0", method, params: { ...params, seq: ++this.seq } }),
    );
  }
}
