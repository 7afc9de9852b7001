import { safeUrl } from "../config/redact.js";
import type { NotifyEndpointConfig } from "../config/types.js";
import type { Logger } from "../log.js";
import { backoffMs, retryableStatus, retryAfterMs } from "./backoff.js";
import type { NotifyEventName } from "./events.js";
import { renderRequest, type NotifyRequest } from "./format.js";
import type { Notification } from "./notification.js";
import { BoundedQueue } from "./queue.js";

/** How one endpoint is doing, for pool.status. */
export interface EndpointStatus {
  url: string;
  format: NotifyEndpointConfig["format"];
  events: NotifyEventName[];
  /** False from a failed attempt until the next one that works. */
  ok: boolean;
  lastError: string | null;
  lastErrorAt: string | null;
  lastSentAt: string | null;
  sent: number;
  /** Notifications given up on: refused (4xx) or still failing after every retry. */
  failed: number;
  /** Waiting to be sent, the one being tried included. */
  queued: number;
  /** Dropped, oldest first, because the queue was full. */
  dropped: number;
}

/** One attempt's outcome. */
export interface Attempt {
  ok: boolean;
  /** The HTTP status, or null when no answer came. */
  status: number | null;
  error: string | null;
  ms: number;
  /** Whether trying again may help. */
  retryable: boolean;
  retryAfterMs: number | null;
}

export type Fetch = typeof fetch;

/** POSTs `request`, never taking longer than `timeoutMs` nor throwing; `abort` cuts it short. */
export async function post(
  request: NotifyRequest,
  timeoutMs: number,
  fetchImpl: Fetch,
  abort?: AbortSignal,
): Promise<Attempt> {
  const started = Date.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const cancel = () => controller.abort();
  abort?.addEventListener("abort", cancel);
  const done = (fields: Omit<Attempt, "ms">): Attempt => ({ ...fields, ms: Date.now() - started });
  try {
    const res = await fetchImpl(request.url, {
      method: "POST",
      headers: request.headers,
      body: request.body,
      signal: controller.signal,
      redirect: "manual",
    });
    await res.body?.cancel().catch(() => {});
    if (res.status >= 200 && res.status < 300) {
      return done({
        ok: true,
        status: res.status,
        error: null,
        retryable: false,
        retryAfterMs: null,
      });
    }
    const redirect = res.status >= 300 && res.status < 400;
    return done({
      ok: false,
      status: res.status,
      error:
        `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}` +
        (redirect ? " (redirects are not followed: configure the URL it points to)" : ""),
      retryable: retryableStatus(res.status),
      retryAfterMs: retryAfterMs(res.headers.get("retry-after"), Date.now()),
    });
  } catch (err) {
    const error = controller.signal.aborted
      ? abort?.aborted
        ? "cancelled"
        : `no answer within ${timeoutMs / 1000} s`
      : causeOf(err as Error);
    return done({ ok: false, status: null, error, retryable: true, retryAfterMs: null });
  } finally {
    clearTimeout(timer);
    abort?.removeEventListener("abort", cancel);
  }
}

/** fetch says "fetch failed"; what failed is in its cause (ECONNREFUSED, a TLS error...). */
function causeOf(err: Error): string {
  const cause = err.cause as Error | undefined;
  return cause?.message ? cause.message : err.message;
}

/**
 * One notify endpoint: a bounded queue sent in order, one request at a time, each retried with
 * exponential backoff. Nothing here waits for the receiver on the pool's behalf, and a failing
 * endpoint is logged once, when it starts failing, and once more when it works again.
 */
export class Endpoint {
  private readonly queue: BoundedQueue<Notification>;
  private current: Notification | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly closing = new AbortController();
  private failing = false;
  private droppedBefore = 0;
  private readonly counts = { sent: 0, failed: 0 };
  private last = {
    error: null as string | null,
    errorAt: null as string | null,
    sentAt: null as string | null,
  };
  private ok = true;

  constructor(
    readonly config: NotifyEndpointConfig,
    private readonly log: Logger,
    private readonly fetchImpl: Fetch = fetch,
  ) {
    this.queue = new BoundedQueue(config.queueSize);
  }

  /** The URL as logs and callers below admin see it. */
  get shownUrl(): string {
    return safeUrl(this.config.url);
  }

  wants(event: NotifyEventName): boolean {
    return this.config.events.includes(event);
  }

  enqueue(n: Notification): void {
    if (this.closing.signal.aborted) return;
    this.queue.push(n);
    this.pump();
  }

  /** One attempt at `n` now, beside the queue: what `claude-poolctl notify test` reports. */
  async test(n: Notification): Promise<Attempt> {
    const attempt = await this.attempt(n);
    this.record(attempt);
    return attempt;
  }

  status(admin: boolean): EndpointStatus {
    const { url, format, events } = this.config;
    return {
      url: admin ? url : this.shownUrl,
      format,
      events,
      ok: this.ok,
      lastError: this.last.error,
      lastErrorAt: this.last.errorAt,
      lastSentAt: this.last.sentAt,
      sent: this.counts.sent,
      failed: this.counts.failed,
      queued: this.queue.length + (this.current ? 1 : 0),
      dropped: this.queue.dropped,
    };
  }

  /** Stops sending: the request in flight is cut short, what is queued is dropped. */
  close(): void {
    this.closing.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private pump(): void {
    if (this.current !== null || this.closing.signal.aborted) return;
    const next = this.queue.shift();
    if (next === undefined) return;
    this.current = next;
    void this.deliver(next, 0);
  }

  private async deliver(n: Notification, retry: number): Promise<void> {
    const attempt = await this.attempt(n);
    if (this.closing.signal.aborted) return;
    this.record(attempt);
    if (!attempt.ok && attempt.retryable && retry < this.config.retries) {
      const wait = Math.max(
        backoffMs(retry + 1, this.config.backoffSeconds * 1000),
        attempt.retryAfterMs ?? 0,
      );
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        void this.deliver(n, retry + 1);
      }, wait);
      this.retryTimer.unref();
      return;
    }
    if (!attempt.ok) this.counts.failed++;
    this.current = null;
    this.pump();
  }

  private attempt(n: Notification): Promise<Attempt> {
    const request = renderRequest(n, this.config);
    return post(request, this.config.timeoutSeconds * 1000, this.fetchImpl, this.closing.signal);
  }

  private record(attempt: Attempt): void {
    const now = new Date().toISOString();
    this.ok = attempt.ok;
    if (attempt.ok) {
      this.counts.sent++;
      this.last.sentAt = now;
      if (!this.failing) return;
      this.failing = false;
      const dropped = this.queue.dropped - this.droppedBefore;
      this.log.info(
        `notify ${this.shownUrl}: works again` +
          (dropped > 0 ? `; ${dropped} notifications were dropped meanwhile (queueSize)` : ""),
      );
      return;
    }
    this.last.error = attempt.error;
    this.last.errorAt = now;
    if (this.failing) return;
    this.failing = true;
    this.droppedBefore = this.queue.dropped;
    this.log.warn(
      `notify ${this.shownUrl}: ${attempt.error}; ` +
        (attempt.retryable ? "retrying with backoff" : "not retried") +
        ". Not logged again until it works; pool.status shows it",
    );
  }
}
