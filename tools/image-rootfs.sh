#!/usr/bin/env bash
# image-rootfs.sh OUT_DIR BINARY... - assembles the root filesystem of the
# raftkv image: the binaries in /usr/bin, exactly the shared libraries they
# load (as ldd resolves them on this machine) and the dynamic loader, a
# non-root user (raftkv, uid 10001), and the directories the roles use.
# Nothing else: no shell, no package manager, no compiler. The directories
# the raftkv user writes to go to OUT_DIR-owned (copied with --chown).
set -euo pipefail
out=$1
shift
rm -rf "$out" "$out-owned"
mkdir -p "$out"/{usr/bin,etc,tmp} "$out-owned"/{data,run/raftkv}
chmod 1777 "$out/tmp"
copy_with_parents() {
	local src=$1
	local real
	real=$(readlink -f "$src")
	mkdir -p "$out$(dirname "$src")"
	cp -L "$real" "$out$src"
}
for bin in "$@"; do
	cp "$bin" "$out/usr/bin/"
	strip --strip-unneeded "$out/usr/bin/$(basename "$bin")"
	ldd "$bin" | awk '/=> \// { print $3 } /^\s*\/lib/ { print $1 }' | while read -r lib; do
		[ -e "$out$lib" ] || copy_with_parents "$lib"
	done
done
# /lib64 -> the loader path the binaries name
cat >"$out/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
raftkv:x:10001:10001:raftkv:/data:/sbin/nologin
PASSWD
cat >"$out/etc/group" <<'GROUP'
root:x:0:
raftkv:x:10001:
GROUP
echo "hosts: files dns" >"$out/etc/nsswitch.conf"
echo "image-rootfs: $(find "$out" -type f | wc -l) files, $(du -sh "$out" | cut -f1)"
