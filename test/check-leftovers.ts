/**
 * Usage: node dist/test/check-leftovers.js ROOT [GRACE_SECONDS]
 *
 * Fails (exit 1), naming them, if processes still work in or point into ROOT, the directory that
 * holds every temp dir of a test run, once GRACE_SECONDS (default 5) have passed for those that
 * are on their way out. `make test` runs it after the node tests and after the systemd tests.
 */
import { statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { describeLeftover, processesUnder } from "./leftovers.js";

function usage(message: string): never {
  process.stderr.write(
    `check-leftovers: ${message}\nusage: check-leftovers ROOT [GRACE_SECONDS]\n`,
  );
  process.exit(2);
}

const [root, graceArg = "5"] = process.argv.slice(2);
if (root === undefined || !root.startsWith("/") || root.replace(/\/+$/, "") === "") {
  usage("ROOT must be the absolute path of the test run's temp dir root");
}
if (!statSync(root, { throwIfNoEntry: false })?.isDirectory()) usage(`${root} is no directory`);
const graceSeconds = Number(graceArg);
if (!(graceSeconds >= 0)) usage(`GRACE_SECONDS must be a number ≥ 0, not ${graceArg}`);

const deadline = Date.now() + graceSeconds * 1000;
let left = processesUnder(root);
while (left.length > 0 && Date.now() < deadline) {
  await sleep(100);
  left = processesUnder(root);
}
if (left.length === 0) {
  process.stdout.write(`check-leftovers: no process left under ${root}\n`);
} else {
  process.stderr.write(
    `check-leftovers: ${left.length} process(es) of this test run still running under ${root}:\n` +
      left.map((p) => `  ${describeLeftover(p)}\n`).join("") +
      "Find the test whose temp dir they use (in the cwd or environment above) and make it end " +
      "them; they are still running.\n",
  );
  process.exitCode = 1;
}
