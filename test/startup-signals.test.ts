/** Signals held from the entry point until the supervisor takes them over. */
import assert from "node:assert/strict";
import { it } from "node:test";
import { deliverSignals, heldStop, holdSignals } from "../src/startup-signals.js";

it("holds reloads (once) and a stop, delivers the stop instead of the reload, then passes signals on", () => {
  holdSignals();
  process.emit("SIGHUP", "SIGHUP");
  process.emit("SIGHUP", "SIGHUP");
  assert.equal(heldStop(), null);
  process.emit("SIGINT", "SIGINT");
  process.emit("SIGTERM", "SIGTERM");
  assert.equal(heldStop(), "SIGINT", "the first stop is the one kept");
  const calls: string[] = [];
  deliverSignals({ reload: () => calls.push("reload"), stop: (signal) => calls.push(signal) });
  assert.deepEqual(calls, ["SIGINT"]);
  process.emit("SIGHUP", "SIGHUP");
  process.emit("SIGTERM", "SIGTERM");
  assert.deepEqual(calls, ["SIGINT", "reload", "SIGTERM"]);
});
