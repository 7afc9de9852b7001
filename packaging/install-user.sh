#!/usr/bin/env bash
# `make install-user`: claude-pool for the current user, under ~/.local, with its user units.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${PREFIX:-$HOME/.local}
unit_dir=${USER_UNIT_DIR:-${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user}
packaging/stage.sh "$prefix/lib/claude-pool"
mkdir -p "$prefix/bin" "$unit_dir"
ln -sfn "$prefix/lib/claude-pool/dist/src/bin/claude-pool.js" "$prefix/bin/claude-pool"
ln -sfn "$prefix/lib/claude-pool/dist/src/bin/claude-poolctl.js" "$prefix/bin/claude-poolctl"
sed "s#^ExecStart=/usr/bin/claude-pool #ExecStart=$prefix/bin/claude-pool #" units/claude-pool.service \
  > "$unit_dir/claude-pool.service"
install -m 644 units/claude-pool.socket units/claude-pool-sessions.slice "$unit_dir/"
if systemctl --user daemon-reload 2>/dev/null; then reloaded=yes; else reloaded=no; fi
echo "installed claude-pool in $prefix (commands in $prefix/bin), units in $unit_dir"
[ "$reloaded" = yes ] || echo "no user manager reachable: run 'systemctl --user daemon-reload' in your session"
echo "start it with:  systemctl --user enable --now claude-pool"
echo "keep it running after logout:  loginctl enable-linger $(id -un)"
