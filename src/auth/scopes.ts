/**
 * What a token may do. read: list, status, read-only attach, monitor. control: spawn, kill,
 * resume, send, writable attach. approve: answer permission prompts. admin: everything, tokens.
 */
export const scopeNames = ["read", "control", "approve", "admin"] as const;
export type Scope = (typeof scopeNames)[number];

/** Every scope: the pool's own user on the control socket, and the admin token. */
export const allScopes: ReadonlySet<Scope> = new Set(scopeNames);

export function hasScope(granted: ReadonlySet<Scope>, needed: Scope): boolean {
  return granted.has("admin") || granted.has(needed);
}
