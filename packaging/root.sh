#!/usr/bin/env bash
# Lays out the files of the .deb or .rpm under ROOT as they install: the program in
# /usr/lib/claude-pool, the commands in /usr/bin, the user units, man pages, shell completions and
# docs. FLAVOR (deb or rpm) picks the distribution's zsh completion directory. Build first.
set -euo pipefail
root=${1:?usage: packaging/root.sh ROOT deb|rpm}
case ${2:-} in
  deb) zsh_dir=usr/share/zsh/vendor-completions ;;
  rpm) zsh_dir=usr/share/zsh/site-functions ;;
  *) echo "usage: packaging/root.sh ROOT deb|rpm" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
[ -d dist/docs/man ] || { echo "root.sh: build first (make build)" >&2; exit 2; }
rm -rf "$root"
lib=$root/usr/lib/claude-pool
packaging/stage.sh "$lib"
# README and LICENSE go to the docs; node_modules/.bin only serves npm scripts.
rm -rf "$lib/README.md" "$lib/LICENSE" "$lib/node_modules/.bin"

install -d "$root/usr/bin"
for bin in claude-pool claude-poolctl; do
  ln -s "../lib/claude-pool/dist/src/bin/$bin.js" "$root/usr/bin/$bin"
done
install -D -m 644 -t "$root/usr/lib/systemd/user" units/claude-pool.service \
  units/claude-pool.socket units/claude-pool-sessions.slice
install -D -m 644 -t "$root/usr/share/man/man1" dist/docs/man/*.1
install -D -m 644 -t "$root/usr/share/man/man5" dist/docs/man/*.5
gzip -9n "$root"/usr/share/man/man?/*
install -D -m 644 -t "$root/usr/share/bash-completion/completions" dist/docs/bash/*
install -D -m 644 -t "$root/$zsh_dir" dist/docs/zsh/*
install -D -m 644 -t "$root/usr/share/fish/vendor_completions.d" dist/docs/fish/*
install -D -m 644 pool.config.example.json "$root/usr/share/doc/claude-pool/examples/config.json"

# Plain permissions: directories, scripts (files that start with #!) and the session host 755, the
# rest 644.
find "$root" -type d -exec chmod 755 {} +
find "$root" -type f -exec chmod 644 {} +
find "$root" -type f -size +1c -exec sh -c 'for f; do [ "$(head -c2 "$f")" = "#!" ] && chmod 755 "$f"; done; true' sh {} +
chmod 755 "$root/usr/lib/claude-pool/dist/native/claude-pool-host"
