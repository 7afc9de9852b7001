#!/usr/bin/env bash
# `make deb`: dist/claude-pool_VERSION-1_ARCH.deb from the built tree (make build first).
# Needs dpkg-deb and dpkg-shlibdeps (dpkg-dev). MAINTAINER overrides the Maintainer field.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(node -p 'require("./package.json").version')
arch=$(dpkg --print-architecture)
deb_version=$version-1
maintainer=${MAINTAINER:-claude-pool maintainers <claude-pool@example.org>}
root=dist/pkgroot/deb
packaging/root.sh "$root" deb

doc=$root/usr/share/doc/claude-pool
gzip -9n <README.md >"$doc/README.md.gz"
# Dated by the last commit (or SOURCE_DATE_EPOCH), so a rebuild of a commit is the same package.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
first=$(git log --format=%cd --date=format:%Y 2>/dev/null | tail -n 1)
last=$(date -u -d "@$epoch" +%Y)
years=${first:-$last}
[ "$years" = "$last" ] || years=$years-$last
node dist/packaging/copyright.js "$root/usr/lib/claude-pool" /usr/lib/claude-pool "$years" \
  >"$doc/copyright"
date=$(date -R -d "@$epoch")
printf 'claude-pool (%s) unstable; urgency=medium\n\n  * claude-pool %s.\n\n -- %s  %s\n' \
  "$deb_version" "$version" "$maintainer" "$date" | gzip -9n >"$doc/changelog.Debian.gz"
install -D -m 644 packaging/deb/lintian-overrides "$root/usr/share/lintian/overrides/claude-pool"

# Dependencies of the session host and the native addon (libc6, ...), as dpkg-shlibdeps reads them.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir "$scratch/debian"
printf 'Source: claude-pool\n\nPackage: claude-pool\nArchitecture: any\n' >"$scratch/debian/control"
mapfile -t addons < <(find "$PWD/$root" -name '*.node' -o -name claude-pool-host)
shlibs=$(cd "$scratch" && dpkg-shlibdeps -O --warnings=0 "${addons[@]/#/-e}" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { echo "deb/build.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

# As dpkg-gencontrol counts it: each file's size in KiB rounded up, 1 for anything else.
installed_size=$(find "$root" -mindepth 1 -printf '%y %s\n' |
  awk '{ total += $1 == "f" ? int(($2 + 1023) / 1024) : 1 } END { print total }')
install -d -m 755 "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<CONTROL
Package: claude-pool
Version: $deb_version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: nodejs (>= 20), dbus-user-session, systemd, $shlibs
Section: admin
Priority: optional
Description: supervisor for a pool of persistent Claude Code conversations
 claude-pool runs as a systemd user service and keeps many long-lived Claude
 Code (claude) conversations, each in its own pseudo-terminal and transient
 systemd scope with resource limits. It starts sessions on demand, stops idle
 ones, restarts crashed ones and resumes them with their history.
 .
 claude-poolctl controls the pool over a Unix socket; remote clients use an
 authenticated JSON-RPC WebSocket API.
CONTROL
reload=$(sed 's/^/        /' packaging/reload-user-units.sh)
for script in postinst postrm; do
  awk -v snippet="$reload" '$0 == "#RELOAD_USER_UNITS#" { print snippet; next } { print }' \
    "packaging/deb/$script" >"$root/DEBIAN/$script"
  chmod 755 "$root/DEBIAN/$script"
done
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum) >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

dpkg-deb --build --root-owner-group -Zxz "$root" "dist/claude-pool_${deb_version}_$arch.deb" >/dev/null
echo "dist/claude-pool_${deb_version}_$arch.deb"
