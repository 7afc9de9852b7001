/**
 * The durable ledger: its journal read back after a stop, a torn or damaged file, and (property
 * test) a kill at any byte of any write, which must leave exactly the state before that write.
 */
import assert from "node:assert/strict";
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { historyLimit, type Ledger, type LedgerEntry } from "../src/channel/ledger.js";
import { LedgerStore } from "../src/store/ledger-store.js";
import { tempDir } from "./helpers.js";

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newFile = () => join(dir, `ledger-${files++}.jsonl`);

/** Everything a store holds, comparable across stores: each session's entries and unsure ones. */
function stateOf(store: LedgerStore): Record<string, unknown> {
  const state: Record<string, unknown> = {};
  for (const id of store.sessions().sort()) {
    const ledger = store.ledger(id);
    const entries = ledger.recent(historyLimit);
    if (entries.length === 0) continue;
    const unsure = ledger.unsure().map((u) => ({ id: u.entry.messageId, via: u.via }));
    state[id] = JSON.parse(JSON.stringify({ entries, unsure })) as unknown;
  }
  return state;
}

function reopen(file: string): { store: LedgerStore; warning: string | null } {
  return LedgerStore.open(file);
}

describe("ledger store", () => {
  it("reads back messages and every change to them after a restart", () => {
    const file = newFile();
    const { store } = reopen(file);
    const a = store.ledger("aaaaaaaa");
    const [one, two, three] = ["one", "two", "three"].map((text) =>
      a.add(text, { chat_id: "c" }, "local"),
    );
    a.sent(one, "channel");
    a.markDelivered(one, "channel");
    a.reply("c", "reply to one");
    a.sent(two, "pty");
    a.add("for b", {}, "phone", "pty");
    store.ledger("bbbbbbbb").add("gone", {}, "local");
    store.forget("bbbbbbbb");
    a.fail(three, "test");
    const before = stateOf(store);
    store.close();

    const { store: again, warning } = reopen(file);
    assert.equal(warning, null);
    assert.deepEqual(stateOf(again), before);
    const ledger = again.ledger("aaaaaaaa");
    assert.deepEqual(
      ledger.recent(10).map((e) => [e.content, e.state, e.replies.map((r) => r.text)]),
      [
        ["one", "replied", ["reply to one"]],
        ["two", "queued", []],
        ["three", "failed", []],
        ["for b", "queued", []],
      ],
    );
    assert.deepEqual(
      ledger.unsure().map((u) => [u.entry.content, u.via]),
      [["two", "pty"]],
      "a message handed to a path, with no word back, is unsure after the restart",
    );
    ledger.markDelivered(ledger.recent(10)[3], "pty");
    assert.deepEqual(
      ledger.unsure().map((u) => u.entry.content),
      ["two", "for b"],
      "so is one delivered with no reply",
    );
    assert.equal(ledger.recent(10)[3].delivery, "pty");
    assert.deepEqual(again.sessions(), ["aaaaaaaa"]);
    again.close();
  });

  it("cuts off a torn last line and appends after it", () => {
    const file = newFile();
    const { store } = reopen(file);
    store.ledger("aaaaaaaa").add("kept", {}, "local");
    const before = stateOf(store);
    store.close();
    appendFileSync(file, '{"op":"add","session":"aaaaaaaa","entry":{"messageId":"x');

    const second = reopen(file);
    assert.match(second.warning ?? "", /torn last line of \d+ bytes/);
    assert.deepEqual(stateOf(second.store), before);
    second.store.ledger("aaaaaaaa").add("after", {}, "local");
    second.store.close();

    const third = reopen(file);
    assert.equal(third.warning, null);
    assert.deepEqual(
      third.store
        .ledger("aaaaaaaa")
        .recent(10)
        .map((e) => e.content),
      ["kept", "after"],
    );
    third.store.close();
  });

  it("leaves out lines that are no record, and says so", () => {
    const file = newFile();
    const { store } = reopen(file);
    store.ledger("aaaaaaaa").add("one", {}, "local");
    store.close();
    appendFileSync(file, 'not json\n{"op":"nonsense","session":"aaaaaaaa"}\n');
    const { store: again, warning } = reopen(file);
    assert.match(warning ?? "", /left out 2 lines that are no record/);
    assert.deepEqual(
      again
        .ledger("aaaaaaaa")
        .recent(10)
        .map((e) => e.content),
      ["one"],
    );
    again.close();
  });

  it("stays bounded: compaction keeps the live messages only", () => {
    const file = newFile();
    const { store } = LedgerStore.open(file, { compactBytes: 4096 });
    const ledger = store.ledger("aaaaaaaa");
    for (let i = 0; i < historyLimit * 3; i++) {
      const entry = ledger.add(`message ${i} ${"x".repeat(100)}`, {}, "local");
      ledger.markDelivered(entry, "pty");
      ledger.replyTo([entry], `reply ${i}`);
    }
    const before = stateOf(store);
    store.close();
    const size = readFileSync(file).length;
    const live = JSON.stringify(before).length;
    assert.ok(size < 3 * live + 4096, `journal of ${size} bytes for ${live} bytes of messages`);
    const { store: again } = reopen(file);
    assert.deepEqual(stateOf(again), before);
    assert.equal(again.ledger("aaaaaaaa").recent(historyLimit * 2).length, historyLimit);
    again.close();
  });

  it("recovers the state before any write a kill cut short, at any byte (property)", () => {
    type Step =
      | { kind: "add"; session: number; delivery: boolean }
      | { kind: "send" | "deliver" | "reply" | "requeue" | "fail"; pick: number }
      | { kind: "forget"; session: number };
    const session = fc.integer({ min: 0, max: 2 });
    const pick = fc.nat();
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant("add" as const), session, delivery: fc.boolean() }),
      fc.record({
        kind: fc.constantFrom(
          "send" as const,
          "deliver" as const,
          "reply" as const,
          "requeue" as const,
          "fail" as const,
        ),
        pick,
      }),
      fc.record({ kind: fc.constant("forget" as const), session }),
    );
    const ids = ["aaaaaaaa", "bbbbbbbb", "cccccccc"];
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 600, max: 8000 }),
        fc.array(
          fc.tuple(fc.nat(), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })),
          {
            minLength: 1,
            maxLength: 4,
          },
        ),
        (steps, compactBytes, cuts) => {
          const file = newFile();
          const { store } = LedgerStore.open(file, { compactBytes });
          // After each step: the file as a kill right then leaves it, and the state it holds.
          const points: { bytes: Buffer; state: Record<string, unknown> }[] = [
            { bytes: readFileSync(file), state: stateOf(store) },
          ];
          const all = (): [Ledger, LedgerEntry][] =>
            store.sessions().flatMap((id) =>
              store
                .ledger(id)
                .recent(historyLimit)
                .map((e): [Ledger, LedgerEntry] => [store.ledger(id), e]),
            );
          for (const s of steps) {
            if (s.kind === "add") {
              store
                .ledger(ids[s.session])
                .add(`m${points.length}`, {}, "local", s.delivery ? "pty" : null);
            } else if (s.kind === "forget") {
              store.forget(ids[s.session]);
            } else {
              const entries = all();
              const [ledger, entry] = entries[s.pick % Math.max(1, entries.length)] ?? [];
              if (!ledger) {
                // nothing to change yet
              } else if (s.kind === "send") ledger.sent(entry, "channel");
              else if (s.kind === "deliver") ledger.markDelivered(entry, "pty");
              else if (s.kind === "reply") ledger.replyTo([entry], `r${points.length}`);
              else if (s.kind === "requeue") ledger.requeue(entry, "test");
              else ledger.fail(entry, "test");
            }
            points.push({ bytes: readFileSync(file), state: stateOf(store) });
          }
          store.close();
          for (const [index, fraction] of cuts) {
            const i = index % (points.length - 1);
            const [before, next] = [points[i], points[i + 1]];
            const check = newFile();
            // A kill while the next write was under way: an append leaves part of its line; a
            // rewrite (the next file is no continuation of this one) leaves a temp file.
            const appended = next.bytes.subarray(0, before.bytes.length).equals(before.bytes);
            if (appended) {
              const torn = Math.floor(fraction * (next.bytes.length - before.bytes.length));
              writeFileSync(check, next.bytes.subarray(0, before.bytes.length + torn));
            } else {
              writeFileSync(check, before.bytes);
              const partial = next.bytes.subarray(0, Math.floor(fraction * next.bytes.length));
              writeFileSync(`${check}.tmp`, partial);
            }
            const { store: recovered } = reopen(check);
            assert.deepEqual(stateOf(recovered), before.state, `cut after step ${i}`);
            recovered.close();
            rmSync(check);
          }
          rmSync(file);
        },
      ),
      { numRuns: 60 },
    );
  });
});
