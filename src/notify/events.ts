/** What a notify endpoint can subscribe to; `turn.ended` is opt-in (every reply of every session). */
export const notifyEvents = ["waiting", "turn.ended", "crashed", "failed", "schedule"] as const;

export type NotifyEventName = (typeof notifyEvents)[number];

/** An endpoint's events when its config names none. */
export const defaultNotifyEvents: readonly NotifyEventName[] = [
  "waiting",
  "crashed",
  "failed",
  "schedule",
];
