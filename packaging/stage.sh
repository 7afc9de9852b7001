#!/usr/bin/env bash
# Lays out an installed claude-pool in DEST: compiled JS, the dashboard's bundle, package.json
# the session host (native/, compiled by make build) and the production node_modules. Used by
# `make install-user` and the .deb/.rpm recipes. Run `make build` first.
set -euo pipefail
dest=${1:?usage: packaging/stage.sh DEST}
cd "$(dirname "$0")/.."
[ -f dist/src/bin/claude-pool.js ] && [ -f dist/dashboard/index.html ] &&
  [ -x dist/native/claude-pool-host ] ||
  { echo "stage.sh: build first (make build)" >&2; exit 2; }
rm -rf "$dest"
mkdir -p "$dest/dist"
cp -r dist/src dist/dashboard "$dest/dist/"
install -D -m 755 dist/native/claude-pool-host "$dest/dist/native/claude-pool-host"
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
  "$dest/dist/native/claude-pool-host"
find "$dest/dist" -name '*.map' -delete
cp package.json package-lock.json LICENSE README.md "$dest/"
# A clean production install (npm prune --omit=dev leaves dev packages in place with npm 11);
# the package cache from the build makes it an offline one.
# The native addon (usocket's) is compiled here, with a distribution build's hardening flags.
(cd "$dest" && CPPFLAGS="-D_FORTIFY_SOURCE=2" LDFLAGS="-Wl,-z,relro -Wl,-z,now" \
  npm ci --omit=dev --prefer-offline --no-audit --no-fund >/dev/null)
node dist/packaging/prune.js "$dest"
rm -f "$dest/package-lock.json"
# Leave out what a running pool never reads: native build intermediates (usocket loads
# build/Release/uwrap.node), source maps, and the packages' own tests and examples.
nm=$dest/node_modules
rm -f "$nm/usocket/binding.gyp"
rm -rf "$nm/usocket/src"
find "$nm/usocket/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
find "$nm/usocket/build/Release" -mindepth 1 -maxdepth 1 ! -name '*.node' -exec rm -rf {} +
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
  "$nm"/usocket/build/Release/*.node
# Packages' docs and development files go too; their license files stay.
find "$nm" -type f \( -name '*.map' -o -name '.eslintrc*' -o -name '.npmignore' -o -name '.git*' \
  -o -name '.travis.yml' -o -name '.editorconfig' -o -regextype posix-extended \
  -iregex '.*/(readme|changelog|history|contributing|security)(\.md|\.markdown|\.txt)?' \) -delete
find "$nm" -depth -type d \( -name test -o -name tests -o -name __tests__ -o -name examples \
  -o -name example -o -name .github \) -exec rm -rf {} +
find "$nm" -depth -type d -empty -delete
chmod 755 "$dest/dist/src/bin/claude-pool.js" "$dest/dist/src/bin/claude-poolctl.js"
