#!/usr/bin/env bash
# Builds the container image's base, target/base/base-image.tar (docker-save format, one layer), on
# the build machine without a registry or a Docker daemon: a jlink'd Java runtime, the glibc and C++
# libraries it and RocksDB load (copied from this Debian machine), bash for the launcher, a passwd
# with the unprivileged user cairn (10001), a sticky /tmp and /var/lib/cairn owned by cairn. Jib then
# adds the jars and the launcher on top (tar:// base). Why not a registry image: docs/operations.md,
# "Container image". Needs jlink (JDK 17), GNU tar and sha256sum.
set -euo pipefail
out=${1:?usage: make-base-image.sh OUTDIR}
java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac || command -v jlink)")")")}
uid=10001
root="$out/rootfs"
rm -rf "$out" && mkdir -p "$root"

# What the server, the client commands and the S3 backend use; java.se keeps reflection-heavy
# libraries (Jackson, the AWS SDK) from meeting a missing module at run time. ~55 MB.
"$java_home/bin/jlink" --add-modules java.se,jdk.unsupported,jdk.crypto.ec,jdk.zipfs,jdk.management,jdk.naming.dns \
  --strip-debug --no-man-pages --no-header-files --compress=2 --output "$root/opt/java"
# Debian's JDK keeps its CA list in /etc (a symlink jlink copies as a dangling one): take the file.
if [ -L "$root/opt/java/lib/security/cacerts" ] || [ ! -s "$root/opt/java/lib/security/cacerts" ]; then
  rm -f "$root/opt/java/lib/security/cacerts"
  cp -L "$java_home/lib/security/cacerts" "$root/opt/java/lib/security/cacerts"
fi
for f in "$root"/opt/java/lib/security/*; do
  [ -L "$f" ] && cp --remove-destination -L "$java_home/lib/security/${f##*/}" "$f"
done

mkdir -p "$root/usr/lib/x86_64-linux-gnu" "$root/lib64" "$root/bin" "$root/etc" "$root/tmp" "$root/var/lib/cairn" \
  "$root/proc" "$root/dev" "$root/sys"  # mount points: a runtime mounts them, a chroot smoke test too
libs=(libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libz.so.1 libstdc++.so.6 libgcc_s.so.1 libtinfo.so.6)
for l in "${libs[@]}"; do
  cp -L "/lib/x86_64-linux-gnu/$l" "$root/usr/lib/x86_64-linux-gnu/$l"
done
cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/ld-linux-x86-64.so.2"
ln -s usr/lib "$root/lib"
cp -L /bin/bash "$root/bin/bash"
printf 'root:x:0:0:root:/root:/bin/false\ncairn:x:%d:%d:Cairn store:/var/lib/cairn:/bin/false\n' $uid $uid > "$root/etc/passwd"
printf 'root:x:0:\ncairn:x:%d:\n' $uid > "$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"

# One layer, reproducible (sorted, fixed time, numeric owners): root owns everything but the store.
layer="$out/layer.tar"
tar_opts=(--numeric-owner --sort=name --mtime=@0 --format=posix --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)
tar -C "$root" "${tar_opts[@]}" --owner=0 --group=0 --exclude=./tmp --exclude=./var/lib/cairn -cf "$layer" .
tar -C "$root" "${tar_opts[@]}" --owner=0 --group=0 --mode=1777 --no-recursion -rf "$layer" ./tmp
tar -C "$root" "${tar_opts[@]}" --owner=$uid --group=$uid --mode=0700 --no-recursion -rf "$layer" ./var/lib/cairn
diff_id=$(sha256sum "$layer" | cut -d' ' -f1)

cat > "$out/config.json" <<JSON
{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/opt/java/bin:/usr/bin:/bin","JAVA_HOME=/opt/java"]},"rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"image/src/base/make-base-image.sh: jlink runtime, glibc, bash, user cairn"}]}
JSON
printf '[{"Config":"config.json","RepoTags":["cairn-base:local"],"Layers":["layer.tar"]}]\n' > "$out/manifest.json"
tar -C "$out" --numeric-owner --owner=0 --group=0 --mtime=@0 -cf "$out/base-image.tar" manifest.json config.json layer.tar
rm -rf "$root" "$layer"
echo "base image: $out/base-image.tar ($(du -m "$out/base-image.tar" | cut -f1) MB, layer sha256:$diff_id)"
