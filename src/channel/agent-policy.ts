import type { AgentRule, PoolConfig } from "../config/types.js";

/** Agent messages in one chain (A → B → A ...) past which send_message refuses. */
export const maxHops = 4;

interface Named {
  id: string;
  name: string;
}

const matches = (pattern: string, s: Named): boolean =>
  pattern === "*" || pattern === s.name || pattern === s.id;

/** Whether `agentMessaging` lets session `from` message session `to` (never itself). */
export function mayMessage(policy: PoolConfig["agentMessaging"], from: Named, to: Named): boolean {
  if (policy === "off" || from.id === to.id) return false;
  return policy.some(
    (rule: AgentRule) => matches(rule.from, from) && rule.to.some((p) => matches(p, to)),
  );
}

/** A message's place in its chain of agent messages: its `hops` meta, 0 for anyone else's. */
export function hopsOf(meta: Readonly<Record<string, string>>): number {
  const hops = Number(meta.hops);
  return Number.isSafeInteger(hops) && hops > 0 ? hops : 0;
}
