#!/usr/bin/env bash
# Lays out an installed claude-pool in DEST: compiled JS, the dashboard's bundle, package.json
# and the production node_modules (node-pty as compiled for this machine). Used by
# `make install-user` and the .deb/.rpm recipes. Run `make build` first.
set -euo pipefail
dest=${1:?usage: packaging/stage.sh DEST}
cd "$(dirname "$0")/.."
[ -f dist/src/bin/claude-pool.js ] && [ -f dist/dashboard/index.html ] ||
  { echo "stage.sh: build first (make build)" >&2; exit 2; }
rm -rf "$dest"
mkdir -p "$dest/dist"
cp -r dist/src dist/dashboard "$dest/dist/"
find "$dest/dist" -name '*.map' -delete
cp package.json package-lock.json LICENSE README.md "$dest/"
# A clean production install (npm prune --omit=dev leaves dev packages in place with npm 11);
# the package cache from the build makes it an offline one.
# The native addons are compiled here, with the usual hardening flags of a distribution build.
(cd "$dest" && CPPFLAGS="-D_FORTIFY_SOURCE=2" LDFLAGS="-Wl,-z,relro -Wl,-z,now" \
  npm ci --omit=dev --prefer-offline --no-audit --no-fund >/dev/null)
node dist/packaging/prune.js "$dest"
rm -f "$dest/package-lock.json"
# Leave out what a running pool never reads: native build intermediates (node-pty loads
# build/Release/pty.node, usocket build/Release/uwrap.node), node-pty's sources and its prebuilt
# binaries for Windows and macOS, source maps, and the packages' own tests and examples.
nm=$dest/node_modules
rm -rf "$nm/node-pty/"{prebuilds,src,deps,third_party,scripts,node-addon-api,typings,binding.gyp}
rm -f "$nm/node-pty/lib/"*.test.js "$nm/usocket/binding.gyp"
rm -rf "$nm/usocket/src"
for addon in "$nm"/node-pty "$nm"/usocket; do
  find "$addon/build" -mindepth 1 -maxdepth 1 ! -name Release -exec rm -rf {} +
  find "$addon/build/Release" -mindepth 1 -maxdepth 1 ! -name '*.node' -exec rm -rf {} +
done
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
  "$nm"/node-pty/build/Release/*.node "$nm"/usocket/build/Release/*.node
# Packages' docs and development files go too; their license files stay.
find "$nm" -type f \( -name '*.map' -o -name '.eslintrc*' -o -name '.npmignore' -o -name '.git*' \
  -o -name '.travis.yml' -o -name '.editorconfig' -o -regextype posix-extended \
  -iregex '.*/(readme|changelog|history|contributing|security)(\.md|\.markdown|\.txt)?' \) -delete
find "$nm" -depth -type d \( -name test -o -name tests -o -name __tests__ -o -name examples \
  -o -name example -o -name .github \) -exec rm -rf {} +
find "$nm" -depth -type d -empty -delete
chmod 755 "$dest/dist/src/bin/claude-pool.js" "$dest/dist/src/bin/claude-poolctl.js"
