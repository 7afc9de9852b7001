#!/usr/bin/env node
import { claudePoolCommand } from "../cli/claude-pool.js";
import { runCli } from "../cli/poolctl/main.js";

const argv = process.argv.slice(2);
await runCli(claudePoolCommand, "claude-pool", argv.length > 0 ? argv : ["start"]);
