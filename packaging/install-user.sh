#!/usr/bin/env bash
# `make install-user`: claude-pool for the current user, under ~/.local, with its user units, man
# pages and shell completions.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${PREFIX:-$HOME/.local}
unit_dir=${USER_UNIT_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user}
man_dir=$prefix/share/man
# where bash-completion, zsh (once in fpath) and fish look for a user's own completions
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
bash_dir=${BASH_COMPLETION_USER_DIR:-$data_home/bash-completion}/completions
zsh_dir=$data_home/zsh/site-functions
fish_dir=${XDG_CONFIG_HOME:-$HOME/.config}/fish/completions
[ -d dist/docs/man ] || { echo "install-user.sh: build first (make build)" >&2; exit 2; }
packaging/stage.sh "$prefix/lib/claude-pool"
mkdir -p "$prefix/bin" "$unit_dir"
ln -sfn "$prefix/lib/claude-pool/dist/src/bin/claude-pool.js" "$prefix/bin/claude-pool"
ln -sfn "$prefix/lib/claude-pool/dist/src/bin/claude-poolctl.js" "$prefix/bin/claude-poolctl"
install -D -m 644 -t "$man_dir/man1" dist/docs/man/*.1
install -D -m 644 -t "$man_dir/man5" dist/docs/man/*.5
install -D -m 644 -t "$bash_dir" dist/docs/bash/*
install -D -m 644 -t "$zsh_dir" dist/docs/zsh/*
install -D -m 644 -t "$fish_dir" dist/docs/fish/*
sed "s#^ExecStart=/usr/bin/claude-pool #ExecStart=$prefix/bin/claude-pool #" units/claude-pool.service \
  > "$unit_dir/claude-pool.service"
install -m 644 units/claude-pool.socket units/claude-pool-sessions.slice "$unit_dir/"
if systemctl --user daemon-reload 2>/dev/null; then reloaded=yes; else reloaded=no; fi
echo "installed claude-pool in $prefix (commands in $prefix/bin), units in $unit_dir"
echo "man pages in $man_dir; completions for bash in $bash_dir, zsh in $zsh_dir, fish in $fish_dir"
echo "zsh finds its completions once ~/.zshrc has  fpath+=($zsh_dir)  before compinit"
[ "$reloaded" = yes ] || echo "no user manager reachable: run 'systemctl --user daemon-reload' in your session"
echo "start it with:  systemctl --user enable --now claude-pool"
echo "keep it running after logout:  loginctl enable-linger $(id -un)"
