import type { Dialog } from "./dialogs.js";

/**
 * What a conversation is doing, from the evidence the pool has of it: Claude Code's hooks first,
 * the screen (first-run dialogs, the permission dialog, an interruption) where hooks say nothing,
 * and the process's own life. A pure reducer: events in, a new state and the signals to send out;
 * it never throws, whatever order events come in.
 */

export type Activity = "starting" | "idle" | "busy" | "waiting";

export type WaitingFor =
  | {
      kind: "permission";
      requestId: string | null;
      toolName: string;
      inputPreview: string;
      /** Set when no client answered in time and the dialog in claude's terminal decides. */
      answerAt?: "terminal";
    }
  | { kind: "dialog"; dialog: Dialog }
  | { kind: "input"; message: string };

export interface Turn {
  id: string;
  startedAt: string;
  /** The first 200 characters of what started it. */
  prompt: string;
}

export type TurnOutcome = "done" | "failed" | "interrupted";

export interface EndedTurn extends Turn {
  endedAt: string;
  outcome: TurnOutcome;
  /** The first 2,000 characters of the reply. */
  reply: string;
}

export interface PendingPermission {
  requestId: string | null;
  toolName: string;
  inputPreview: string;
  answerAt?: "terminal";
  /** Whether claude's dialog for it has been on the screen (its closing then ends it). */
  drawn?: boolean;
}

export interface EvidenceState {
  process: "down" | "starting" | "up";
  /** Whether a hook reported in this launch: then the screen no longer decides busy or idle. */
  hooks: boolean;
  turn: Turn | null;
  /** Reply text streamed so far in `turn`, and the message it came in. */
  reply: string;
  message: string;
  lastTurn: EndedTurn | null;
  permission: PendingPermission | null;
  question: string | null;
  dialog: Dialog | null;
  /** Since when the conversation has been idle at its prompt (ms), or null while it is not. */
  idleSince: number | null;
  /** Turns started in this state's life, for ids of turns no hook named. */
  turns: number;
}

/** What Claude Code sends a hook, as far as the pool reads it. */
export interface HookInput {
  hook_event_name?: unknown;
  prompt?: unknown;
  prompt_id?: unknown;
  delta?: unknown;
  message_id?: unknown;
  tool_name?: unknown;
  tool_input?: unknown;
  notification_type?: unknown;
  message?: unknown;
  last_assistant_message?: unknown;
  error?: unknown;
  [key: string]: unknown;
}

/** What the screen shows now, read after each burst of output. */
export interface ScreenReading {
  dialog: Dialog | null;
  /** claude's own permission dialog ("Do you want to proceed?"). */
  permissionPrompt: boolean;
  /** claude's footer says a turn runs ("esc to interrupt"). */
  busy: boolean;
}

export type EvidenceEvent =
  | { type: "launched"; at: number }
  | { type: "ready"; at: number }
  /**
   * A new pool took the running process over: the turn the last pool saw in progress goes on
   * (its start was announced then).
   */
  | { type: "adopted"; at: number; turn: Turn | null }
  | { type: "exited"; at: number }
  | { type: "hook"; at: number; input: HookInput; requestId?: string }
  | { type: "screen"; at: number; reading: ScreenReading }
  /** A pending permission request was answered (by a client, a timeout or at the terminal). */
  | { type: "permission.resolved"; at: number; requestId: string }
  /** No client answered in time: the request stays open, for the terminal to answer. */
  | { type: "permission.deferred"; at: number; requestId: string }
  /** claude recorded that the person interrupted the turn (Esc, or "No" at a tool prompt). */
  | { type: "interrupted"; at: number };

export type EvidenceEffect =
  | { type: "turn.started"; turn: Turn }
  /** claude's dialog for a hook's permission request closed: someone answered at the terminal. */
  | { type: "permission.closed"; requestId: string }
  | { type: "turn.delta"; turnId: string; text: string }
  | { type: "turn.ended"; turn: EndedTurn };

export interface EvidenceView {
  activity: Activity | null;
  waitingFor: WaitingFor | null;
  evidence: "hooks" | "screen";
  turn: Turn | null;
  lastTurn: EndedTurn | null;
}

export const promptChars = 200;
export const replyChars = 2000;
export const previewChars = 500;

export function initialEvidence(): EvidenceState {
  return {
    process: "down",
    hooks: false,
    turn: null,
    reply: "",
    message: "",
    lastTurn: null,
    permission: null,
    question: null,
    dialog: null,
    idleSince: null,
    turns: 0,
  };
}

export function view(state: EvidenceState): EvidenceView {
  return {
    activity: activityOf(state),
    waitingFor: waitingForOf(state),
    evidence: state.hooks ? "hooks" : "screen",
    turn: state.turn,
    lastTurn: state.lastTurn,
  };
}

export function activityOf(state: EvidenceState): Activity | null {
  if (state.process === "down") return null;
  if (waitingForOf(state) !== null) return "waiting";
  if (state.process === "starting") return "starting";
  return state.turn ? "busy" : "idle";
}

function waitingForOf(state: EvidenceState): WaitingFor | null {
  if (state.process === "down") return null;
  if (state.dialog) return { kind: "dialog", dialog: state.dialog };
  if (state.permission) {
    const { requestId, toolName, inputPreview, answerAt } = state.permission;
    return { kind: "permission", requestId, toolName, inputPreview, ...(answerAt && { answerAt }) };
  }
  if (state.question !== null) return { kind: "input", message: state.question };
  return null;
}

/** How long the conversation has been idle at `now`: 0 while it is busy, waiting or starting. */
export function idleMs(state: EvidenceState, now: number): number | null {
  if (state.process === "down") return null;
  if (activityOf(state) !== "idle" || state.idleSince === null) return 0;
  return Math.max(0, now - state.idleSince);
}

export function reduce(
  state: EvidenceState,
  event: EvidenceEvent,
): { state: EvidenceState; effects: EvidenceEffect[] } {
  const step = new Step(state);
  step.apply(event);
  return step.finish(event.at);
}

/** One reduction: a working copy of the state and the effects it produced. */
class Step {
  readonly effects: EvidenceEffect[] = [];
  private s: EvidenceState;

  constructor(state: EvidenceState) {
    this.s = { ...state };
  }

  apply(event: EvidenceEvent): void {
    switch (event.type) {
      case "launched":
        this.endTurn(event.at, "interrupted");
        this.s = { ...initialEvidence(), lastTurn: this.s.lastTurn, turns: this.s.turns };
        this.s.process = "starting";
        return;
      case "ready":
        if (this.s.process === "starting") this.s.process = "up";
        return;
      case "adopted":
        if (this.s.process === "down" || this.s.turn !== null || event.turn === null) return;
        this.s.turn = event.turn;
        return;
      case "exited":
        this.endTurn(event.at, "interrupted");
        this.s = { ...initialEvidence(), lastTurn: this.s.lastTurn, turns: this.s.turns };
        return;
      case "hook":
        if (this.s.process === "down") return;
        this.s.hooks = true;
        if (this.s.process === "starting") this.s.process = "up";
        this.hook(event.at, event.input, event.requestId);
        return;
      case "screen":
        this.screen(event.at, event.reading);
        return;
      case "permission.resolved":
        if (this.s.permission?.requestId === event.requestId) this.s.permission = null;
        return;
      case "permission.deferred":
        if (this.s.permission?.requestId === event.requestId) {
          this.s.permission = { ...this.s.permission, answerAt: "terminal" };
        }
        return;
      case "interrupted":
        this.s.permission = null;
        this.s.question = null;
        this.endTurn(event.at, "interrupted");
        return;
    }
  }

  finish(now: number): { state: EvidenceState; effects: EvidenceEffect[] } {
    const idle = activityOf(this.s) === "idle";
    if (!idle) this.s.idleSince = null;
    else if (this.s.idleSince === null) this.s.idleSince = now;
    return { state: this.s, effects: this.effects };
  }

  private hook(at: number, input: HookInput, requestId: string | undefined): void {
    switch (input.hook_event_name) {
      case "UserPromptSubmit": {
        this.endTurn(at, "interrupted");
        this.s.permission = null;
        this.s.question = null;
        const id = typeof input.prompt_id === "string" && input.prompt_id ? input.prompt_id : null;
        this.startTurn(at, text(input.prompt), id);
        return;
      }
      case "MessageDisplay": {
        const turn = this.ensureTurn(at);
        const delta = text(input.delta);
        if (delta === "") return;
        // Each delta carries its own line ends; a new message after a tool call starts a paragraph.
        const message = text(input.message_id);
        const gap = this.s.reply !== "" && message !== this.s.message && !/\n$/.test(this.s.reply);
        this.s.reply += (gap ? "\n\n" : "") + delta;
        this.s.message = message;
        this.effects.push({ type: "turn.delta", turnId: turn.id, text: delta });
        return;
      }
      case "PreToolUse": {
        this.ensureTurn(at);
        if (input.tool_name === "AskUserQuestion") this.s.question = questionOf(input.tool_input);
        return;
      }
      case "PermissionRequest":
        this.ensureTurn(at);
        this.s.permission = {
          requestId: requestId ?? null,
          toolName: text(input.tool_name) || "a tool",
          inputPreview: preview(input.tool_input),
        };
        return;
      case "PostToolUse":
      case "PostToolUseFailure":
      case "PermissionDenied":
        this.s.permission = null;
        this.s.question = null;
        return;
      case "Notification":
        this.notification(input);
        return;
      case "Stop": {
        const reply = text(input.last_assistant_message);
        this.endTurn(at, "done", reply || undefined);
        return;
      }
      case "StopFailure":
        this.endTurn(at, "failed", text(input.error) || undefined);
        return;
      default:
        return;
    }
  }

  private notification(input: HookInput): void {
    const message = text(input.message);
    switch (input.notification_type) {
      case "permission_prompt":
        // The hook that asks the pool names the tool; this only says a dialog is open.
        this.s.permission ??= { requestId: null, toolName: toolFrom(message), inputPreview: "" };
        return;
      case "idle_prompt":
      case "auth_success":
        return;
      default:
        if (message) this.s.question = message;
    }
  }

  private screen(at: number, reading: ScreenReading): void {
    if (this.s.process === "down") return;
    this.s.dialog = reading.dialog;
    if (reading.dialog === null && this.s.process === "starting") return;
    if (this.s.hooks) {
      // Hooks tell when a dialog opens; the screen tells when it closed at the terminal.
      const permission = this.s.permission;
      if (!permission) return;
      if (reading.permissionPrompt) {
        if (!permission.drawn) this.s.permission = { ...permission, drawn: true };
      } else if (permission.requestId === null || permission.drawn) {
        this.s.permission = null;
        if (permission.requestId !== null) {
          this.effects.push({ type: "permission.closed", requestId: permission.requestId });
        }
      }
      return;
    }
    if (reading.permissionPrompt) {
      this.ensureTurn(at);
      this.s.permission ??= { requestId: null, toolName: "a tool", inputPreview: "" };
    } else {
      this.s.permission = null;
    }
    if (reading.busy || reading.permissionPrompt) this.ensureTurn(at);
    else if (this.s.turn) this.endTurn(at, "done");
  }

  private startTurn(at: number, prompt: string, id: string | null): Turn {
    this.s.turns += 1;
    const turn: Turn = {
      // Unique across pools too, whose counters all start at 0.
      id: id ?? `turn-${at.toString(36)}-${this.s.turns}`,
      startedAt: new Date(at).toISOString(),
      prompt: prompt.slice(0, promptChars),
    };
    this.s.turn = turn;
    this.s.reply = "";
    this.s.message = "";
    this.effects.push({ type: "turn.started", turn });
    return turn;
  }

  /** A turn no prompt started that the pool saw (a channel message, a scheduled wake-up). */
  private ensureTurn(at: number): Turn {
    return this.s.turn ?? this.startTurn(at, "", null);
  }

  private endTurn(at: number, outcome: TurnOutcome, reply?: string): void {
    const turn = this.s.turn;
    if (!turn) return;
    const ended: EndedTurn = {
      ...turn,
      endedAt: new Date(at).toISOString(),
      outcome,
      reply: (reply ?? this.s.reply).slice(0, replyChars),
    };
    this.s.turn = null;
    this.s.reply = "";
    this.s.message = "";
    this.s.permission = null;
    this.s.question = null;
    this.s.lastTurn = ended;
    this.effects.push({ type: "turn.ended", turn: ended });
  }
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** A tool's input as one short line for a prompt: the command of a Bash call, else its JSON. */
export function preview(input: unknown): string {
  if (input === undefined || input === null) return "";
  if (typeof input === "object" && typeof (input as { command?: unknown }).command === "string") {
    return (input as { command: string }).command.slice(0, previewChars);
  }
  let json: string;
  try {
    json = JSON.stringify(input) ?? "";
  } catch {
    json = "";
  }
  return json.slice(0, previewChars);
}

function questionOf(input: unknown): string {
  const questions = (input as { questions?: unknown } | null)?.questions;
  if (Array.isArray(questions)) {
    const first = questions[0] as { question?: unknown } | undefined;
    if (typeof first?.question === "string") return first.question;
  }
  return "claude asks a question";
}

/** "Claude needs your permission to use Bash" → "Bash". */
function toolFrom(message: string): string {
  return /permission to use (\S+)/.exec(message)?.[1] ?? "a tool";
}
