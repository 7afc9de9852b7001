import { activityLabel } from "./model.js";
import type { Prompt, SessionInfo } from "./types.js";

const askedKey = "claude-pool.notifications-asked";

/** Whether this page can show notifications at all (a secure context: https or localhost). */
export function notificationsSupported(): boolean {
  return "Notification" in window && window.isSecureContext;
}

/** Asks for permission once per browser, from a click; later calls do nothing. */
export async function askOnce(force = false): Promise<NotificationPermission | "unsupported"> {
  if (!notificationsSupported()) return "unsupported";
  if (Notification.permission !== "default") return Notification.permission;
  if (!force && localStorage.getItem(askedKey)) return "default";
  localStorage.setItem(askedKey, new Date().toISOString());
  return Notification.requestPermission();
}

/** A notification that a session waits for a person; clicking it opens the session. */
export function notifyWaiting(session: SessionInfo, prompt: Prompt | null): void {
  if (!notificationsSupported() || Notification.permission !== "granted") return;
  if (document.visibilityState === "visible" && document.hasFocus()) return;
  const body = prompt
    ? `${prompt.toolName}: ${prompt.description || prompt.inputPreview}`.slice(0, 180)
    : session.blockedOn
      ? `waiting at the ${session.blockedOn} dialog`
      : activityLabel(session);
  const notification = new Notification(`${session.name} needs you`, {
    body,
    tag: `claude-pool-${session.id}`,
  });
  notification.onclick = () => {
    window.focus();
    location.hash = `#/s/${session.id}`;
    notification.close();
  };
}
