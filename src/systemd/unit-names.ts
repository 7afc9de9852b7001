/** Names of the units the pool makes, and their D-Bus object paths. */

/** The slice every session scope goes under; shipped as units/claude-pool-sessions.slice. */
export const SESSIONS_SLICE = "claude-pool-sessions.slice";

const SCOPE_PREFIX = "claude-pool-";

/** Pattern for ListUnitsByPatterns that matches every session scope. */
export const SCOPE_PATTERN = `${SCOPE_PREFIX}*.scope`;

export function scopeUnitName(sessionId: string): string {
  return `${SCOPE_PREFIX}${sessionId}.scope`;
}

/** The session id in a scope name made by scopeUnitName, or null for any other unit. */
export function sessionIdOfScope(unit: string): string | null {
  if (!unit.startsWith(SCOPE_PREFIX) || !unit.endsWith(".scope")) return null;
  const id = unit.slice(SCOPE_PREFIX.length, -".scope".length);
  return id === "" ? null : id;
}

/** systemd's object path for a unit: every byte outside [A-Za-z0-9] becomes _xx (bus_label_escape). */
export function unitObjectPath(unit: string): string {
  let label = "";
  for (const byte of Buffer.from(unit, "utf8")) {
    const c = String.fromCharCode(byte);
    label += /[A-Za-z0-9]/.test(c) ? c : `_${byte.toString(16).padStart(2, "0")}`;
  }
  return `/org/freedesktop/systemd1/unit/${label || "_"}`;
}
