/**
 * What Claude Code's hooks cost per call: the real claude 2.1.332, run straight under node-pty
 * against the Anthropic API stand-in, takes turns of 10 sequential Bash tool calls (`true`) with
 * (a) no hooks, (b) the pool's own settings file: `http` hooks on every event the pool uses,
 * posting to the pool's HookServer, whose handler here answers `{}` at once, (c) the same events
 * as `command` hooks, a `node -e` per event that posts its input to the same server. A turn's
 * time is claude's own (`turn_duration` in its transcript); the events fired are counted at the
 * server. Per-event cost = (p50 with hooks − p50 without) / events per turn. The three claudes
 * take their turns in rotation. Goal: http ≤ 5 ms per event at p50.
 */
import { randomUUID } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pty, { type IPty } from "node-pty";
import { HookServer, secretHeader } from "../src/hooks/hook-server.js";
import { HookSettingsFiles } from "../src/hooks/settings.js";
import { createLogger } from "../src/log.js";
import { FakeAnthropic, type Reply } from "../test/fake-anthropic.js";
import { tempDir, waitFor } from "../test/helpers.js";
import { realClaude } from "../test/real-claude-support.js";
import {
  claudeHome,
  claudeIdle,
  requireRealClaude,
  sleep,
  transcriptFile,
  TurnDurations,
  type ClaudeHome,
} from "./real-claude.js";
import { loadAverage, percentile } from "./stats.js";

requireRealClaude("the hook cost benchmark");

const rounds = Number(process.env.BENCH_HOOK_ROUNDS ?? 8);
const toolCalls = 10;
const root = tempDir("claude-pool-bench-");

/** The events the hook server got, by the session id in the hook's URL. */
const fired = new Map<string, string[]>();
const server = new HookServer(
  (call) => {
    fired.get(call.sessionId)?.push(String(call.input.hook_event_name));
    call.answer({});
  },
  createLogger({ level: "warn" }),
);
await server.listen();
const settingsFiles = new HookSettingsFiles(join(root, "settings"), server, () => 300);

/** When the stand-in got each of the conversation's requests. */
const asked: number[] = [];
const api = await FakeAnthropic.start({
  onRequest: (r) => {
    if (r.kind === "turn") asked.push(performance.now());
  },
});

type HookEntry = { type: string; url?: string; headers?: Record<string, string>; timeout: number };
type Settings = { hooks?: Record<string, { matcher?: string; hooks: HookEntry[] }[]> };

/** The pool's `--settings` file for a launch of session `id`. */
function httpHooks(id: string): Settings {
  return JSON.parse(readFileSync(settingsFiles.settingsFor(id), "utf8")) as Settings;
}

/** The same hooks as `command` hooks: a node process per event posts its input to the server. */
function commandHooks(id: string): Settings {
  const { hooks = {} } = httpHooks(id);
  const command = (h: HookEntry) => {
    const script =
      'let b="";process.stdin.on("data",d=>b+=d).on("end",()=>fetch(' +
      `${JSON.stringify(h.url)},{method:"POST",headers:{"content-type":"application/json",` +
      `${JSON.stringify(secretHeader)}:${JSON.stringify(h.headers![secretHeader])}},body:b})` +
      ".then(r=>r.text()).then(t=>process.stdout.write(t)))";
    return { type: "command", command: `${process.execPath} -e '${script}'`, timeout: h.timeout };
  };
  return {
    hooks: Object.fromEntries(
      Object.entries(hooks).map(([event, entries]) => [
        event,
        entries.map((e) => ({ ...e, hooks: e.hooks.map(command) })),
      ]),
    ),
  };
}

interface Claude {
  label: string;
  /** The hook URL's session id. */
  hookId: string;
  home: ClaudeHome;
  child: IPty;
  transcript: TurnDurations;
  durations: number[];
  /** From the turn's first request to the stand-in to its last. */
  apiSpans: number[];
  /** claude's own CPU time in the turn (its tools' processes not counted). */
  cpu: number[];
  /** This process's CPU time in the turn: the stand-in, and the hook server if it has hooks. */
  benchCpu: number[];
  events: number[];
  /** The events of the last turn, by name. */
  lastEvents: string[];
}

async function startClaude(label: string, hookId: string, settings: Settings): Promise<Claude> {
  const dir = join(root, hookId);
  const home = claudeHome(api, dir);
  // Every variant may run `true` without asking (as root claude refuses to skip permissions).
  writeFileSync(
    join(home.claudeDir, "settings.json"),
    JSON.stringify({ permissions: { allow: ["Bash(true)"] } }),
  );
  const settingsFile = join(dir, "settings.json");
  writeFileSync(settingsFile, JSON.stringify(settings));
  const sessionId = randomUUID();
  const child = pty.spawn(
    realClaude,
    ["--session-id", sessionId, "--permission-mode", "default", "--settings", settingsFile],
    {
      cols: 120,
      rows: 40,
      cwd: home.workDir,
      env: { ...process.env, ...home.env, TERM: "xterm-256color" },
    },
  );
  child.onData(() => {}); // keep the PTY drained
  await claudeIdle(home.claudeDir, child.pid);
  fired.set(hookId, []);
  const transcript = new TurnDurations(transcriptFile(home, sessionId));
  return {
    ...{ label, hookId, home, child, transcript },
    ...{ durations: [], apiSpans: [], cpu: [], benchCpu: [], events: [], lastEvents: [] },
  };
}

const toolTurn: Reply[] = [
  ...Array.from({ length: toolCalls }, () => ({
    toolUses: [{ name: "Bash", input: { command: "true", description: "Do nothing" } }],
  })),
  { text: "Ran them all." },
];

/** One turn of `toolCalls` Bash calls; records claude's time for it and the hooks it fired. */
async function turn(c: Claude, text: string, record = true): Promise<void> {
  await claudeIdle(c.home.claudeDir, c.child.pid);
  const done = c.transcript.poll().length;
  const events = fired.get(c.hookId)!;
  events.length = 0;
  asked.length = 0;
  api.script(toolTurn);
  const cpu = cpuMs(c.child.pid);
  const benchCpu = process.cpuUsage();
  c.child.write(text);
  await sleep(25); // the pool's pause between a typed message and its Enter
  c.child.write("\r");
  const durations = await waitFor(
    `the end of ${c.label}'s turn in its transcript`,
    () => {
      const d = c.transcript.poll();
      return d.length > done ? d : undefined;
    },
    60_000,
  );
  if (asked.length !== toolCalls + 1) {
    throw new Error(`${c.label}: ${asked.length} requests in a turn, not ${toolCalls + 1}`);
  }
  if (!record) return;
  c.durations.push(durations.at(-1)!);
  c.apiSpans.push(asked.at(-1)! - asked[0]);
  c.cpu.push(cpuMs(c.child.pid) - cpu);
  const { user, system } = process.cpuUsage(benchCpu);
  c.benchCpu.push((user + system) / 1000);
  c.events.push(events.length);
  c.lastEvents = [...events];
}

const claudes: Claude[] = [];
try {
  claudes.push(await startClaude("no hooks", "0000000a", {}));
  claudes.push(await startClaude("http hooks (the pool's)", "0000000b", httpHooks("0000000b")));
  claudes.push(await startClaude("command hooks (node -e)", "0000000c", commandHooks("0000000c")));
  for (const c of claudes) await turn(c, "warm up", false);
  for (let i = 0; i < rounds; i++) {
    // The slow command hooks every other round; the order rotated, so that no variant always
    // runs right after the same one.
    const these = i % 2 === 0 ? claudes : claudes.slice(0, 2);
    for (let k = 0; k < these.length; k++) {
      await turn(these[(i + k) % these.length], `round ${i}`);
    }
  }

  const f = (n: number, width = 7) => n.toFixed(1).padStart(width);
  const p50 = (ms: number[]) => percentile(ms, 50);
  const [none, ...hooked] = claudes;
  console.log(
    `hook cost: turns of ${toolCalls} Bash tool calls, real claude 2.1.332 (${loadAverage()})`,
  );
  for (const c of claudes) {
    console.log(
      `  ${c.label.padEnd(24)} turn_duration p50 ${f(p50(c.durations))} ms  ` +
        `p90 ${f(percentile(c.durations, 90))} ms (n=${c.durations.length});  ` +
        `first→last API request p50 ${f(p50(c.apiSpans))} ms`,
    );
    console.log(
      `  ${"".padEnd(24)} CPU in a turn p50: claude ${f(p50(c.cpu), 5)} ms, ` +
        `this process (stand-in, hook server) ${f(p50(c.benchCpu), 5)} ms`,
    );
  }
  const perEvent = (c: Claude, of: (c: Claude) => number[], events: number) =>
    ((p50(of(c)) - p50(of(none))) / events).toFixed(1);
  for (const c of hooked) {
    const events = p50(c.events);
    console.log(`  ${c.label}: ${events} events a turn (${tally(c.lastEvents)})`);
    console.log(
      `    per event: ${perEvent(c, (x) => x.durations, events)} ms of turn_duration, ` +
        `${perEvent(c, (x) => x.apiSpans, toolCalls)} ms of API span per tool call; ` +
        `CPU ${perEvent(c, (x) => x.cpu, events)} ms in claude, ` +
        `${perEvent(c, (x) => x.benchCpu, events)} ms here`,
    );
  }
  const http = hooked[0];
  // Each round's two turns ran back to back: the same cost, from pairs.
  const paired = p50(http.durations.map((d, i) => (d - none.durations[i]) / http.events[i]));
  console.log(
    `http hooks: ${perEvent(http, (x) => x.durations, p50(http.events))} ms per event (p50)   ` +
      `goal ≤ 5 ms;   from each round's pair of turns: ${paired.toFixed(1)} ms (p50);   ` +
      `per tool call ${perEvent(http, (x) => x.durations, toolCalls)} ms`,
  );
} finally {
  await Promise.all(
    claudes.map(
      (c) => new Promise<void>((resolve) => (c.child.onExit(() => resolve()), c.child.kill())),
    ),
  );
  server.close();
  await api.close();
  rmSync(root, { recursive: true, force: true });
}

/** User and system CPU time of process `pid`, in milliseconds. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // utime and stime, fields 14 and 15 of proc_pid_stat(5), in ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function tally(events: string[]): string {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e, (counts.get(e) ?? 0) + 1);
  return [...counts].map(([e, n]) => `${e} ${n}`).join(", ");
}
