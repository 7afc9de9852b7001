#!/usr/bin/env node
// A session's host (`claude-pool host`), started by the supervisor with its spec on stdin.
import { runHost } from "./host.js";

await runHost();
