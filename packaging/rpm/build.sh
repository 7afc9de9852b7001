#!/usr/bin/env bash
# `make rpm`: dist/claude-pool-VERSION-1.ARCH.rpm from the built tree (make build first), with
# rpmbuild (Debian's rpm package has it).
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(node -p 'require("./package.json").version')
arch=$(rpm --eval '%{_arch}')
root=$PWD/dist/pkgroot/rpm
topdir=$PWD/dist/rpmbuild
packaging/root.sh "$root" rpm
install -D -m 644 LICENSE "$root/usr/share/licenses/claude-pool/LICENSE"
install -m 644 README.md "$root/usr/share/doc/claude-pool/README.md"

# The License tag: claude-pool's and every bundled package's, as the Debian copyright lists them.
licenses=$(node dist/packaging/copyright.js "$root/usr/lib/claude-pool" /usr/lib/claude-pool - |
  sed -n 's/^License: //p' | sed 's/ or \| and /\n/g' | sort -u | paste -sd, | sed 's/,/ AND /g')

rm -rf "$topdir"
mkdir -p "$topdir/SPECS"
reload=$(cat packaging/reload-user-units.sh)
awk -v snippet="$reload" '$0 == "#RELOAD_USER_UNITS#" { print snippet; next } { print }' \
  packaging/rpm/claude-pool.spec >"$topdir/SPECS/claude-pool.spec"
rpmbuild -bb --quiet --target "$arch" --define "_topdir $topdir" \
  --define "pkg_version $version" --define "pkg_licenses $licenses" \
  --define "staged_root $root" "$topdir/SPECS/claude-pool.spec"
rpm=claude-pool-$version-1.$arch.rpm
mv "$topdir/RPMS/$arch/$rpm" dist/
rm -rf "$topdir"
echo "dist/$rpm"
