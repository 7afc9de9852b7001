/**
 * Removes from a staged production tree the npm packages that only compiled the native addons
 * (node-gyp with its Python, nan and node-addon-api headers) and whatever only they depend on.
 * The addons are built by then; nothing requires these at run time.
 * Usage: node dist/packaging/prune.js DIR (with DIR/package-lock.json and DIR/node_modules)
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const buildOnly = new Set(["node-gyp", "nan", "node-addon-api"]);

interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: prune.js DIR\n");
  process.exit(2);
}
const lock = JSON.parse(readFileSync(join(dir, "package-lock.json"), "utf8")) as {
  packages: Record<string, LockEntry>;
};

/** Where Node finds `name` when `from` requires it: the nearest node_modules up the tree. */
function resolve(from: string, name: string): string | undefined {
  for (let base = from; ;) {
    const candidate = `${base ? `${base}/` : ""}node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (!base) return undefined;
    const parent = base.lastIndexOf("/node_modules/");
    base = parent < 0 ? "" : base.slice(0, parent);
  }
}

const needed = new Set<string>([""]);
const queue = [""];
for (let from = queue.pop(); from !== undefined; from = queue.pop()) {
  const entry = lock.packages[from] ?? {};
  const names = Object.keys({
    ...entry.dependencies,
    ...entry.optionalDependencies,
    ...entry.peerDependencies,
  });
  for (const name of names.filter((n) => !buildOnly.has(n))) {
    const path = resolve(from, name);
    if (path !== undefined && !needed.has(path)) {
      needed.add(path);
      queue.push(path);
    }
  }
}
for (const path of Object.keys(lock.packages)) {
  if (!needed.has(path)) rmSync(join(dir, path), { recursive: true, force: true });
}
