#!/usr/bin/env bash
# Lays out an installed claude-pool in DEST: compiled JS, package.json and the production
# node_modules (node-pty as compiled for this machine). Used by `make install-user` and the
# .deb/.rpm recipes. Run `make build` first.
set -euo pipefail
dest=${1:?usage: packaging/stage.sh DEST}
cd "$(dirname "$0")/.."
[ -f dist/src/bin/claude-pool.js ] || { echo "stage.sh: build first (make build)" >&2; exit 2; }
rm -rf "$dest"
mkdir -p "$dest/dist"
cp -r dist/src "$dest/dist/"
find "$dest/dist" -name '*.map' -delete
cp package.json package-lock.json LICENSE README.md "$dest/"
# A clean production install (npm prune --omit=dev leaves dev packages in place with npm 11);
# the package cache from the build makes it an offline one.
(cd "$dest" && npm ci --omit=dev --prefer-offline --no-audit --no-fund >/dev/null)
rm -f "$dest/package-lock.json"
chmod 755 "$dest/dist/src/bin/claude-pool.js" "$dest/dist/src/bin/claude-poolctl.js"
