import type { PoolConfig } from "../config/types.js";
import { ErrorCode, PoolError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Pool } from "../pool.js";
import type { Session, SessionInfo } from "../session/session.js";
import { hopsOf, maxHops, mayMessage } from "./agent-policy.js";
import type { ChannelHub } from "./hub.js";
import { historyLimit } from "./ledger.js";
import type { AgentListing, AgentSendResult } from "./protocol.js";

/** How much of a session's last reply list_sessions shows. */
const lastReplyChars = 300;
/** Agent messages whose reply is awaited; past this many the oldest are forgotten. */
const maxAwaited = 1000;

interface Awaited {
  callerId: string;
  hops: number;
  /** Set while the sender's send_message waits; without it the reply comes as a message. */
  resolve: ((reply: string) => void) | null;
}

export interface AgentMessengerOptions {
  config: () => PoolConfig;
  log: Logger;
}

/**
 * Sessions messaging each other through the pool's MCP tools (list_sessions, send_message): the
 * pool, not the caller, checks `agentMessaging` and the hop limit. A message is an ordinary
 * channel.send from `session:<id>`; its reply goes back to the waiting tool call, or, once that
 * stopped waiting, to the sender as a message of its own.
 */
export class AgentMessenger {
  private readonly awaited = new Map<string, Awaited>();

  constructor(
    private readonly hub: ChannelHub<object>,
    private readonly pool: Pool,
    private readonly options: AgentMessengerOptions,
  ) {
    hub.on("reply", (id, _chatId, text, messageIds) => {
      for (const messageId of messageIds) this.replied(id, messageId, text);
    });
  }

  /** The sessions `callerId` may message, for list_sessions. */
  list(callerId: string): AgentListing[] {
    const caller = this.pool.find(callerId);
    const policy = this.enabledPolicy(caller);
    return this.pool
      .list()
      .filter((s) => mayMessage(policy, caller, s))
      .map((s) => ({
        id: s.id,
        name: s.name,
        status: s.status,
        activity: s.activity,
        workingDirectory: s.workingDirectory,
        lastReply: this.lastReply(s)?.slice(0, lastReplyChars) ?? null,
      }));
  }

  /**
   * What the session last answered: in its last turn, the reply it sent a message (with the
   * reply tool, say) rather than the turn's closing words; else its last turn's reply.
   */
  private lastReply(s: SessionInfo): string | null {
    let latest: { text: string; at: string } | null = null;
    for (const entry of this.hub.history(s.id, historyLimit)) {
      for (const r of entry.replies) if (latest === null || r.at >= latest.at) latest = r;
    }
    const turn = s.lastTurn;
    if (latest !== null && (turn === null || latest.at >= turn.startedAt)) return latest.text;
    return turn?.reply ?? null;
  }

  /**
   * send_message: a message from session `callerId` to `to` (resumed when stopped). Resolves
   * with the reply if it comes within `waitSeconds`, else with the message's state.
   */
  async send(
    callerId: string,
    to: string,
    text: string,
    waitSeconds: number,
  ): Promise<AgentSendResult> {
    const caller = this.pool.find(callerId);
    const policy = this.enabledPolicy(caller);
    const target = this.pool.find(to);
    if (target.id === caller.id) {
      throw new PoolError(
        ErrorCode.InvalidParams,
        `session ${caller.name} cannot message itself; list_sessions shows the sessions it may message`,
      );
    }
    if (!mayMessage(policy, caller, target)) {
      throw new PoolError(
        ErrorCode.Unauthorized,
        `agentMessaging does not allow ${caller.name} to message ${target.name}; the pool's ` +
          `config must have a rule like {"from": "${caller.name}", "to": ["${target.name}"]}`,
      );
    }
    const hops = this.chainHops(caller) + 1;
    if (hops > maxHops) {
      throw new PoolError(
        ErrorCode.InvalidState,
        `hop limit reached: this would be agent message ${hops} in one chain of agents ` +
          `messaging each other, and at most ${maxHops} are allowed so that loops end; answer ` +
          "with your reply instead of a new message",
      );
    }
    const entry = this.hub.send(
      target.id,
      text,
      { from_session: caller.name, hops: String(hops) },
      { from: `session:${caller.id}`, client: null },
    );
    const awaited: Awaited = { callerId: caller.id, hops, resolve: null };
    this.awaited.set(entry.messageId, awaited);
    if (this.awaited.size > maxAwaited) this.awaited.delete(this.awaited.keys().next().value!);
    const reply = await new Promise<string | null>((resolve) => {
      if (waitSeconds === 0) return resolve(null);
      const timer = setTimeout(() => {
        awaited.resolve = null;
        resolve(null);
      }, waitSeconds * 1000);
      awaited.resolve = (text) => {
        clearTimeout(timer);
        resolve(text);
      };
    });
    return {
      messageId: entry.messageId,
      to: { id: target.id, name: target.name },
      state: entry.state,
      waitSeconds,
      reply,
    };
  }

  /** The policy, unless agent messaging is off. */
  private enabledPolicy(caller: Session): Exclude<PoolConfig["agentMessaging"], "off"> {
    const policy = this.options.config().agentMessaging;
    if (policy !== "off") return policy;
    throw new PoolError(
      ErrorCode.Unauthorized,
      `agent messaging is off in the pool's config; to let ${caller.name} message other ` +
        `sessions, set agentMessaging to rules like [{"from": "${caller.name}", "to": ["*"]}]`,
    );
  }

  /**
   * The furthest chain the caller's claude is answering now: the most hops among the messages
   * delivered to it and not yet answered (a message that came from no agent counts 0).
   */
  private chainHops(caller: Session): number {
    return Math.max(0, ...this.hub.unanswered(caller.id).map((e) => hopsOf(e.meta)));
  }

  private replied(targetId: string, messageId: string, text: string): void {
    const awaited = this.awaited.get(messageId);
    if (!awaited) return;
    this.awaited.delete(messageId);
    if (awaited.resolve) return awaited.resolve(text);
    let target: Session | null = null;
    try {
      target = this.pool.find(targetId);
      this.hub.send(
        awaited.callerId,
        `Reply from session ${target.name} to your message ${messageId}:\n\n${text}`,
        { from_session: target.name, in_reply_to: messageId, hops: String(awaited.hops) },
        { from: `session:${target.id}`, client: null },
      );
    } catch (err) {
      this.options.log.warn(
        `session ${targetId}${target ? ` (${target.name})` : ""}: reply to message ${messageId} ` +
          `not delivered to session ${awaited.callerId}: ${(err as Error).message}`,
      );
    }
  }
}
