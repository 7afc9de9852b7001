#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=30
// Only this import comes before the signal handlers: the rest of the program takes a while to load.
import { holdSignals } from "../startup-signals.js";

const argv = process.argv.slice(2);
const args = argv.length > 0 ? argv : ["start"];
if (args[0] === "start") holdSignals();
const { claudePoolCommand } = await import("../cli/claude-pool.js");
const { runCli } = await import("../cli/poolctl/main.js");
await runCli(claudePoolCommand, "claude-pool", args);
