#!/usr/bin/env node
import { poolctlCommand } from "../cli/poolctl/commands.js";
import { runCli } from "../cli/poolctl/main.js";

await runCli(poolctlCommand, "claude-poolctl");
