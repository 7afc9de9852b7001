/** What a secret reads as for callers below admin; its key stays, so they see what is set. */
export const redacted = "<redacted>";

/** Key names that hold secrets (or, like auth headers, may). */
const secretName = /token|key|secret|passw(or)?d|credential|auth|cookie/i;

/** Every string and number in `value` replaced by `redacted`; keys, booleans, null kept. */
function redactAll(value: unknown): unknown {
  if (typeof value === "string" || typeof value === "number") return redacted;
  if (Array.isArray(value)) return value.map(redactAll);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactAll(v)]));
  }
  return value;
}

/** Maps whose every value may be a secret: environment variables, HTTP headers. */
const secretMaps = new Set(["env", "headers"]);

/**
 * `url` without the credentials it may carry: its user and password, and the values of query
 * parameters that name a token, key, secret, password or auth (ntfy's `?auth=`).
 */
export function safeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return redacted;
  }
  if (parsed.username !== "" || parsed.password !== "") {
    parsed.username = redacted;
    parsed.password = "";
  }
  for (const name of [...parsed.searchParams.keys()]) {
    if (secretName.test(name)) parsed.searchParams.set(name, redacted);
  }
  return parsed.href;
}

/**
 * A copy of config-shaped JSON without its secrets: every value of an `env` or `headers` map,
 * whatever sits under a key that names a token, key, secret, password, credential or auth, and
 * the credentials in a `url`.
 */
export function redactSecrets<T>(value: T): T {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== "object") return node;
    return Object.fromEntries(
      Object.entries(node).map(([key, child]) => [
        key,
        secretMaps.has(key) || secretName.test(key)
          ? redactAll(child)
          : key === "url" && typeof child === "string"
            ? safeUrl(child)
            : walk(child),
      ]),
    );
  };
  return walk(value) as T;
}
