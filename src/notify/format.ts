import { createHmac, timingSafeEqual } from "node:crypto";
import type { NotifyEndpointConfig } from "../config/types.js";
import { version } from "../version.js";
import type { Notification } from "./notification.js";

/** The headers a receiver reads, GitHub-webhook style. */
export const header = {
  event: "X-Claude-Pool-Event",
  delivery: "X-Claude-Pool-Delivery",
  signature: "X-Claude-Pool-Signature-256",
} as const;

/** One POST, ready to send. */
export interface NotifyRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** `sha256=` and the HMAC-SHA256 of `body` under `secret`, in hex: the signature header's value. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}

/** Whether `received` (the header's value) signs `body` under `secret`; constant time. */
export function verifySignature(secret: string, body: string, received: string): boolean {
  const expected = Buffer.from(signature(secret, body));
  const given = Buffer.from(received);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** ntfy's tags are emoji short codes (shown before the title) or words. */
const ntfyTags: Record<Notification["event"], string> = {
  waiting: "raising_hand",
  "turn.ended": "speech_balloon",
  crashed: "warning",
  failed: "rotating_light",
  schedule: "alarm_clock",
  test: "white_check_mark",
};

/**
 * An ntfy JSON publish (https://docs.ntfy.sh/publish/#publish-as-json): the topic is the URL's
 * last path segment and the body goes to the server's URL above it, so no header carries text.
 */
function ntfy(n: Notification, url: URL): { url: string; body: string } {
  const segments = url.pathname.split("/");
  const topic = decodeURIComponent(segments.pop() ?? "");
  const server = new URL(url.href);
  server.pathname = `${segments.join("/")}/`;
  const body = {
    topic,
    title: n.title,
    message: n.message,
    priority: n.urgent ? 4 : 3,
    tags: [ntfyTags[n.event], ...(n.session ? [n.session.name] : [])],
    ...(n.url ? { click: n.url } : {}),
  };
  return { url: server.href, body: JSON.stringify(body) };
}

/**
 * The request that tells `endpoint` of `n`; signed when the endpoint has a secret. A user and
 * password in the URL become Basic authentication (fetch refuses URLs with credentials).
 */
export function renderRequest(n: Notification, endpoint: NotifyEndpointConfig): NotifyRequest {
  const target = new URL(endpoint.url);
  const basic: Record<string, string> =
    target.username === "" && target.password === ""
      ? {}
      : {
          Authorization: `Basic ${Buffer.from(
            `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`,
          ).toString("base64")}`,
        };
  target.username = "";
  target.password = "";
  const { url, body } =
    endpoint.format === "ntfy" ? ntfy(n, target) : { url: target.href, body: JSON.stringify(n) };
  const headers: Record<string, string> = {
    ...basic,
    ...endpoint.headers,
    "Content-Type": "application/json",
    "User-Agent": `claude-pool/${version}`,
    [header.event]: n.event,
    [header.delivery]: n.id,
  };
  if (endpoint.secret !== undefined) headers[header.signature] = signature(endpoint.secret, body);
  return { url, headers, body };
}
