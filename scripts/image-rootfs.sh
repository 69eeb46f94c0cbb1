#!/bin/sh
# The container image's root file system, laid out in DEST from a linux_amd64 release archive: the
# executable, the shared libraries and the loader it links (as ldd resolves them on this Debian),
# the licences of both, the non-root user the image runs as, and /tmp. No CA bundle: Bun carries
# Mozilla's root certificates inside the executable.
# `npm run build:image` runs it on the build machine, the Dockerfile in its rootfs stage.
#
# Usage: image-rootfs.sh ARCHIVE DEST
set -eu
if [ $# -ne 2 ]; then
  echo "usage: image-rootfs.sh ARCHIVE DEST" >&2
  exit 2
fi
archive=$1
dest=$2
program=gitlab-aws-credential-helper
# The same number as USER in the Dockerfile (distroless images use it for the same purpose).
uid=65532
libc_copyright=/usr/share/doc/libc6/copyright

if [ ! -f "$archive" ]; then
  echo "image-rootfs: no release archive $archive: run npm run build:binaries first" >&2
  exit 1
fi
if [ -e "$dest" ]; then
  echo "image-rootfs: $dest exists; give a new directory" >&2
  exit 1
fi
if [ ! -f "$libc_copyright" ]; then
  echo "image-rootfs: $libc_copyright is missing: build on Debian or Ubuntu, whose C library the image takes" >&2
  exit 1
fi

umask 022
mkdir -p "$dest/usr/local/bin" "$dest/usr/share/doc/$program" "$dest/usr/share/doc/libc6" \
  "$dest/etc" "$dest/root" "$dest/home/nonroot" "$dest/tmp"
tar -xzf "$archive" -C "$dest/usr/local/bin" "$program"
tar -xzOf "$archive" LICENSE >"$dest/usr/share/doc/$program/LICENSE"
cp "$libc_copyright" "$dest/usr/share/doc/libc6/copyright"

needed=$(ldd "$dest/usr/local/bin/$program")
libraries=$(printf '%s\n' "$needed" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
case "$libraries" in
  *ld-linux*) ;;
  *)
    echo "image-rootfs: ldd named no loader for $program:" >&2
    printf '%s\n' "$needed" >&2
    exit 1
    ;;
esac
for library in $libraries; do
  mkdir -p "$dest${library%/*}"
  cp -L "$library" "$dest$library"
done

printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%s:%s:nonroot:/home/nonroot:/sbin/nologin\n' \
  "$uid" "$uid" >"$dest/etc/passwd"
printf 'root:x:0:\nnonroot:x:%s:\n' "$uid" >"$dest/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$dest/etc/nsswitch.conf"
chmod 0700 "$dest/root" "$dest/home/nonroot"
chmod 1777 "$dest/tmp"
