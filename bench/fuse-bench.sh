#!/usr/bin/env bash
# fuse-bench.sh -- reads through `cairn mount` against local and HTTP peers, in one run.
#
# Usage: bench/fuse-bench.sh [--quick] [--corpus DIR] [--image FILE] [--out DIR] [--runs N] [--jsonl FILE]
#                            [--store DIR]
#
# On base.img of bench/make-corpus.sh (or --image FILE), on loopback only, --runs times (default 3; 1
# with --quick):
#   1. startup  time from starting `cairn mount` until `qemu-img info` of a mounted 20 GiB image (the
#               image's data in a sparse file extended to 20 GiB) succeeds; qemu-img runs once the file
#               exists (fuse.startup.seconds)
#   2. cold     cat of images/bench/base/v1.raw from a fresh mount with an empty block cache
#               (fuse.cold.seconds), vs curl -o /dev/null of /v1/images/bench/base:v1/disk from the same
#               server (fuse.curl.seconds), which runs with --disk-cache 0 and so reads it from the store
#   3. hot      cat again in the same mount: the kernel's page cache holds the file (fuse.hot.seconds)
#   4. warm     cat from a new mount whose block cache holds every block (each checked on read,
#               page cache empty: fuse.warm.seconds), vs cat of the local image file, page cache hot
#               (fuse.local.seconds)
# If `./cairn mount --help` does not show that command's usage, it only notes fuse.available=false and
# why. The server runs with CAIRN_JAVA_OPTS=-Xmx256m; with --store DIR it serves that store (tag
# bench/base:v1), else it imports the image into a fresh one. Without --jsonl it writes OUT/report.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup fuse "$@"
STORE_ARG=""; IMAGE=""
set -- "${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --store) STORE_ARG="$2"; shift ;;
    --image) IMAGE="$2"; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
  shift
done

build_cairn
unavailable() { log "FUSE: $1"; note fuse.available false; note fuse.reason "$1"; bench_finish; exit 0; }
# picocli answers `cairn NOSUCH --help` with the top-level usage and exit 0: look for the command's own usage.
"$BENCH_ROOT/cairn" mount --help 2>&1 | grep -q '^Usage: cairn mount' \
  || unavailable "\`./cairn mount --help\` does not work: the FUSE bridge is not merged into this build"
[[ -w /dev/fuse ]] || unavailable "/dev/fuse is not usable here"
command -v fusermount >/dev/null || unavailable "no fusermount (apt-get install fuse3)"
install_peers curl:curl qemu-img:qemu-utils
if [[ -z "$IMAGE" ]]; then make_corpus; IMAGE="$BASE"; [[ $STANDALONE = 1 ]] && { note_machine; note_corpus; }
elif [[ $STANDALONE = 1 ]]; then note_machine; fi
note load.before.fuse "$(loadavg)"
note fuse.available true
note fuse.image "$(basename "$IMAGE")"
emit fuse.imageBytes B "$(apparent "$IMAGE")"

if [[ -n "$STORE_ARG" ]]; then
  S="$STORE_ARG"
else
  S="$WORK/store"
  "$BENCH_ROOT/cairn" import "$IMAGE" --name bench/base:v1 --data "$S" --json > /dev/null
fi
# Without the server's disk cache: the bridge fetches blocks by id, and a raw-disk GET (the curl peer)
# would otherwise start a background copy that takes CPU from the next run's mount and reads.
start_server "$S" --disk-cache 0
# The start-up measurement opens a 20 GiB image (issue #6: "independent of image size"): the same
# data as the image, in a sparse file extended to 20 GiB, pushed as bench/big:v1.
BIG="$WORK/big.img"
cp --sparse=always "$IMAGE" "$BIG" && truncate -s 20G "$BIG"
cairn_client push "$BIG" bench/big:v1 --server "$URL" --json > /dev/null || die "cannot push $BIG"
rm -f "$BIG"
emit fuse.startupImageBytes B $((20 << 30))
MNT="$WORK/mnt"; mkdir -p "$MNT"; MPID=""
FILE="$MNT/images/bench/base/v1.raw"
BIG_FILE="$MNT/images/bench/big/v1.raw"
CLEANUP_EXTRA='if [[ -n "$MPID" ]]; then stop_pid "$MPID"; fi; if mountpoint -q "$MNT" 2>/dev/null; then fusermount -u -z "$MNT"; fi'

mount_bridge() {  # mount_bridge CACHE: starts `cairn mount` in the background; sets MPID
  CAIRN_TOKEN="$TOKEN" "$BENCH_ROOT/cairn" mount "$MNT" --server "$URL" --cache "$1" \
    >"$WORK/mount.out" 2>>"$WORK/mount.err" &
  MPID=$!
}
await_mounted() {
  local i
  for ((i = 0; i < 1200; i++)); do
    [[ -e "$FILE" ]] && return 0
    kill -0 "$MPID" 2>/dev/null || { tail -20 "$WORK/mount.err" >&2; die "cairn mount exited"; }
    sleep 0.05
  done
  die "cairn mount did not mount within 60 s"
}
unmount_bridge() { fusermount -u "$MNT"; wait "$MPID" 2>/dev/null || true; MPID=""; }
until_qemu_info() {  # the startup measurement: until qemu-img can open the mounted file
  # Waits for the file with the shell's own test and only then runs qemu-img. Polling with qemu-img
  # itself started a process every 20 ms and took CPU from the mount: on 2 cores the measurement read
  # 0.96 s that way against 0.85 s this way (medians of 5, alternating).
  local i
  for ((i = 0; i < 6000; i++)); do
    if [[ -e "$BIG_FILE" ]] && qemu-img info -f raw "$BIG_FILE" >/dev/null 2>&1; then return 0; fi
    kill -0 "$MPID" 2>/dev/null || { tail -20 "$WORK/mount.err" >&2; return 1; }
    sleep 0.01
  done
  return 1
}

cat "$IMAGE" >/dev/null  # the local copy is read from the page cache, like a warm host
for ((r = 0; r < RUNS; r++)); do
  log "run $((r + 1)) of $RUNS"
  measure fuse.startup.seconds 1 'rm -rf "$WORK/cache"' 'mount_bridge "$WORK/cache"; until_qemu_info'
  [[ -n "$MPID" ]] && kill -0 "$MPID" 2>/dev/null || die "cairn mount is not running"
  measure fuse.cold.seconds 1 "" 'cat "$FILE" > /dev/null'
  measure fuse.hot.seconds 1 "" 'cat "$FILE" > /dev/null'
  unmount_bridge
  mount_bridge "$WORK/cache"; await_mounted
  measure fuse.warm.seconds 1 "" 'cat "$FILE" > /dev/null'
  (( r == RUNS - 1 )) && { cmp -s "$FILE" "$IMAGE" || { log "the mounted file differs from $IMAGE"; FAILED+=(fuse.content); }; }
  unmount_bridge
  measure fuse.curl.seconds 1 "" 'curl -sf -o /dev/null "${AUTH[@]}" "$URL/v1/images/bench/base:v1/disk"'
  measure fuse.local.seconds 1 "" 'cat "$IMAGE" > /dev/null'
done
stop_server
bench_finish
