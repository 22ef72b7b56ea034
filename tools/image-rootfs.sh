#!/usr/bin/env bash
# image-rootfs.sh OUT_DIR BINARY... - assembles the root filesystem of the
# raftkv image: the binaries in /usr/bin, exactly the shared libraries they
# load (as ldd resolves them on this machine) and the dynamic loader, a
# non-root user (raftkv, uid 10001), and the directories the roles use.
# Nothing else: no shell, no package manager, no compiler. The directories
# the raftkv user writes to go to OUT_DIR-owned (copied with --chown).
# Prints the sorted file list to OUT_DIR.files, so two builds (this host's,
# or a builder container's) can be compared file by file.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 OUT_DIR BINARY..." >&2; exit 2; }
out=$1
shift
rm -rf "$out" "$out-owned"
mkdir -p "$out"/{usr/bin,etc,tmp} "$out-owned"/{data,run/raftkv}
chmod 1777 "$out/tmp"

# Copies a library (following symlinks) to the same path inside the image.
copy_lib() {
	local lib=$1
	[ -e "$out$lib" ] && return 0
	mkdir -p "$out$(dirname "$lib")"
	cp -L "$lib" "$out$lib"
}

for bin in "$@"; do
	[ -x "$bin" ] || { echo "image-rootfs: $bin is missing (run make build)" >&2; exit 1; }
	cp "$bin" "$out/usr/bin/"
	strip --strip-unneeded "$out/usr/bin/$(basename "$bin")"
	# "libx.so => /path (addr)" lines name libraries; a line that starts with
	# a path is the dynamic loader (the path the binary's PT_INTERP names).
	# [[:space:]], not \s: Debian's awk is mawk.
	libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
		$1 ~ /^\// { print $1 }')
	if ldd "$bin" | grep -q 'not found'; then
		echo "image-rootfs: $bin needs a library this machine lacks:" >&2
		ldd "$bin" | grep 'not found' >&2
		exit 1
	fi
	for lib in $libs; do copy_lib "$lib"; done
done
interp=$(readelf -l "$1" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ -e "$out$interp" ] || { echo "image-rootfs: loader $interp was not copied" >&2; exit 1; }

cat >"$out/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
raftkv:x:10001:10001:raftkv:/data:/sbin/nologin
PASSWD
cat >"$out/etc/group" <<'GROUP'
root:x:0:
raftkv:x:10001:
GROUP
echo "hosts: files dns" >"$out/etc/nsswitch.conf"
(cd "$out" && find . -type f | sed 's|^\.||' | sort) >"$out.files"
echo "image-rootfs: $(wc -l <"$out.files") files, $(du -sh "$out" | cut -f1)" \
	"(list: $out.files; loader $interp)"
