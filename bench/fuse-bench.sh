#!/usr/bin/env bash
# fuse-bench.sh -- sequential reads of base.img through `cairn mount`, if this build has it.
#
# Usage: bench/fuse-bench.sh [--quick] [--corpus DIR] [--out DIR] [--runs N] [--jsonl FILE] [--store DIR]
#
# If `./cairn mount --help` works (the FUSE bridge is being built on another branch), serves the store
# (--store DIR with tag bench/base:v1, else base.img imported into a fresh one), mounts the server at a
# temporary directory with a fresh block cache, and times `cat` of base.img's file in the mount to
# /dev/null: once cold (fuse.cold.seconds), then --runs times warm on the same mount (fuse.warm.seconds).
# Otherwise it only notes fuse.available=false and why. Without --jsonl it writes OUT/report.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup fuse "$@"
STORE_ARG=""
set -- "${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --store) STORE_ARG="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
  shift
done

build_cairn
unavailable() { log "FUSE: $1"; note fuse.available false; note fuse.reason "$1"; bench_finish; exit 0; }
# picocli answers `cairn NOSUCH --help` with the top-level usage and exit 0: look for the command's own usage.
"$BENCH_ROOT/cairn" mount --help 2>&1 | grep -q '^Usage: cairn mount' \
  || unavailable "\`./cairn mount --help\` does not work: the FUSE bridge is not merged into this build"
[[ -e /dev/fuse ]] || unavailable "no /dev/fuse on this machine"
command -v fusermount >/dev/null || command -v fusermount3 >/dev/null || unavailable "no fusermount"
make_corpus
[[ $STANDALONE = 1 ]] && { note_machine; note_corpus; }
note load.before.fuse "$(loadavg)"

if [[ -n "$STORE_ARG" ]]; then
  S="$STORE_ARG"
else
  S="$WORK/store"
  "$BENCH_ROOT/cairn" import "$BASE" --name bench/base:v1 --data "$S" --json > /dev/null
fi
start_server "$S"
MNT="$WORK/mnt"; mkdir -p "$MNT"
CAIRN_TOKEN="$TOKEN" "$BENCH_ROOT/cairn" mount "$MNT" --server "$URL" --cache "$WORK/fcache" \
  >"$WORK/mount.out" 2>"$WORK/mount.err" &
MPID=$!
CLEANUP_EXTRA='fusermount -u "$MNT" 2>/dev/null || fusermount3 -u "$MNT" 2>/dev/null || true; stop_pid "$MPID"'
# The bridge lays images out by name and tag; find base.img's file by its size rather than guess the path.
SIZE=$(apparent "$BASE"); FILE=""
for ((i = 0; i < 300; i++)); do
  FILE=$(find "$MNT" -maxdepth 5 -type f -size "${SIZE}c" -path '*base*' 2>/dev/null | head -1 || true)
  [[ -n "$FILE" ]] && break
  kill -0 "$MPID" 2>/dev/null || { cat "$WORK/mount.err" >&2; die "cairn mount exited"; }
  sleep 0.1
done
[[ -n "$FILE" ]] || die "no file of base.img's size appeared under the mount within 30 s"
note fuse.available true
note fuse.file "${FILE#$MNT/}"
log "reading $FILE"
measure fuse.cold.seconds 1 "" 'cat "$FILE" > /dev/null'
measure fuse.warm.seconds "$RUNS" "" 'cat "$FILE" > /dev/null'
cmp "$FILE" "$BASE" || FAILED+=(fuse.content)
fusermount -u "$MNT" 2>/dev/null || fusermount3 -u "$MNT" 2>/dev/null || true
stop_pid "$MPID"; CLEANUP_EXTRA=""
stop_server
bench_finish
