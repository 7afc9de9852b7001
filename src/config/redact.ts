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

/**
 * A copy of config-shaped JSON without its secrets: every value of an `env` map, and whatever
 * sits under a key that names a token, key, secret, password, credential or auth.
 */
export function redactSecrets<T>(value: T): T {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== "object") return node;
    return Object.fromEntries(
      Object.entries(node).map(([key, child]) => [
        key,
        key === "env" || secretName.test(key) ? redactAll(child) : walk(child),
      ]),
    );
  };
  return walk(value) as T;
}
