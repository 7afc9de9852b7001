#!/usr/bin/env node
import { runMain } from "citty";
import { claudePoolCommand } from "../cli/claude-pool.js";

await runMain(claudePoolCommand);
