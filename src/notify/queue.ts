/** First in, first out, at most `capacity` items: a push past it drops the oldest and counts it. */
export class BoundedQueue<T> {
  private items: T[] = [];
  /** Items dropped for room since the queue was made. */
  dropped = 0;

  constructor(private capacity: number) {}

  get length(): number {
    return this.items.length;
  }

  /** Adds `item`; returns the items dropped for it (oldest first). */
  push(item: T): T[] {
    this.items.push(item);
    return this.trim();
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  /** A new capacity; returns what no longer fits (oldest first). */
  resize(capacity: number): T[] {
    this.capacity = capacity;
    return this.trim();
  }

  private trim(): T[] {
    const over = Math.max(0, this.items.length - this.capacity);
    const gone = this.items.splice(0, over);
    this.dropped += gone.length;
    return gone;
  }
}
