#!/usr/bin/env bash
# fuse-bench.sh -- reads through `cairn mount` against local and HTTP peers, in one run.
#
# Usage: bench/fuse-bench.sh [--quick] [--corpus DIR] [--image FILE] [--out DIR] [--runs N]
#
# On base.img of bench/make-corpus.sh (or --image FILE), on loopback only:
#   1. cold     cat of images/bench/base/v1.raw from a fresh mount with an empty block cache, vs
#               curl -o /dev/null of /v1/images/bench/base:v1/disk from the same server
#   2. warm     cat from a fresh mount whose block cache already holds every block (blocks re-hashed
#               on read, kernel page cache empty), and cat again in the same mount (page cache hot),
#               vs cat of the local image file (page cache hot)
#   3. startup  time from starting `cairn mount` until `qemu-img info` of the mounted file succeeds
# MB/s are apparent bytes (zeros included) per second, 10^6 bytes. The server runs with
# CAIRN_JAVA_OPTS=-Xmx256m. Writes OUT/fuse.md. Timings are medians of --runs runs (default 3; 1 with --quick).
set -euo pipefail
export LC_ALL=C
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
QUICK=0; CORPUS=""; IMAGE=""; OUT="$ROOT/bench-out"; RUNS=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --corpus) CORPUS="$2"; shift ;;
    --image) IMAGE="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    --runs) RUNS="$2"; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuse-bench: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[[ -n "$RUNS" ]] || RUNS=$(( QUICK ? 1 : 3 ))
[[ "$RUNS" =~ ^[1-9][0-9]?$ ]] || { echo "fuse-bench: --runs must be 1..99" >&2; exit 2; }
log() { echo "fuse-bench: $*" >&2; }
die() { log "$*"; exit 1; }
for t in fusermount curl qemu-img python3; do command -v "$t" >/dev/null || die "$t is needed"; done
[[ -w /dev/fuse ]] || die "/dev/fuse is not usable here"

if [[ -z "$IMAGE" ]]; then
  [[ -n "$CORPUS" ]] || CORPUS="${TMPDIR:-/tmp}/corpus-$([[ $QUICK = 1 ]] && echo quick || echo full)"
  "$ROOT/bench/make-corpus.sh" $([[ $QUICK = 1 ]] && echo --quick) "$CORPUS" >&2
  IMAGE="$CORPUS/base.img"
fi
SIZE=$(stat -c %s "$IMAGE")
mkdir -p "$OUT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/cairn-fuse-bench.XXXXXX")"
SPID=""; MPID=""; MNT="$WORK/mnt"; mkdir -p "$MNT"

stop_pid() {  # stop_pid PID: SIGTERM, wait at most 30 s, then SIGKILL
  local pid="$1" i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  [[ $rc != 0 ]] && for f in "$WORK"/*.err; do [[ -e $f ]] && { echo "--- $f"; tail -20 "$f"; } >&2; done
  stop_pid "$MPID"
  mountpoint -q "$MNT" 2>/dev/null && fusermount -u -z "$MNT"
  stop_pid "$SPID"
  if [[ ${KEEP_WORK:-0} = 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mbps() { awk -v b="$SIZE" -v s="$1" 'BEGIN {printf "%.0f", b / s / 1e6}'; }

"$ROOT/cairn" --version >/dev/null  # build before timing anything
export CAIRN_SKIP_BUILD=1

log "importing $IMAGE ($SIZE bytes)"
"$ROOT/cairn" import "$IMAGE" --name bench/base:v1 --data "$WORK/store" --json > "$WORK/import.json"
CAIRN_JAVA_OPTS=-Xmx256m "$ROOT/cairn" serve --data "$WORK/store" --port 0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
SPID=$!
URL=""
for ((i = 0; i < 600; i++)); do
  URL=$(sed -n 's|^cairn: serving store .* on \(http://127\.0\.0\.1:[0-9]*\)$|\1|p' "$WORK/serve.out")
  [[ -n "$URL" ]] && break
  kill -0 "$SPID" 2>/dev/null || die "cairn serve exited"
  sleep 0.1
done
[[ -n "$URL" ]] || die "cairn serve printed no URL"
export CAIRN_TOKEN; CAIRN_TOKEN=$(sed -n 's/.*export CAIRN_TOKEN=\(\S*\).*/\1/p' "$WORK/serve.out")
FILE="$MNT/images/bench/base/v1.raw"

# mount CACHE: starts `cairn mount` in the background; sets MPID
mount_bridge() {
  "$ROOT/cairn" mount "$MNT" --server "$URL" --cache "$1" >"$WORK/mount.out" 2>>"$WORK/mount.err" &
  MPID=$!
}
await_mounted() {
  local i
  for ((i = 0; i < 1200; i++)); do
    [[ -e "$FILE" ]] && return 0
    kill -0 "$MPID" 2>/dev/null || die "cairn mount exited"
    sleep 0.05
  done
  die "cairn mount did not mount within 60 s"
}
unmount_bridge() {
  fusermount -u "$MNT"
  wait "$MPID" 2>/dev/null || true
  MPID=""
}
time_cmd() { local t0; t0=$(now); "$@" >/dev/null; awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.3f\n", b - a}'; }

declare -a COLD WARM HOT CURL LOCAL START
cat "$IMAGE" >/dev/null  # the local copy is read from the page cache, like a warm host
for ((r = 0; r < RUNS; r++)); do
  log "run $((r + 1)) of $RUNS"
  # 3. startup: until qemu-img info answers (the cache is warm from the previous run, if any)
  t0=$(now)
  mount_bridge "$WORK/cache-$r"
  until qemu-img info -f raw "$FILE" >/dev/null 2>&1; do
    kill -0 "$MPID" 2>/dev/null || die "cairn mount exited"
    sleep 0.02
  done
  START+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.3f", b - a}')")
  # 1. cold: this run's cache is empty but for qemu-img's few blocks
  COLD+=("$(time_cmd cat "$FILE")")
  HOT+=("$(time_cmd cat "$FILE")")
  unmount_bridge
  # 2. warm: a new mount on the now full cache
  mount_bridge "$WORK/cache-$r"; await_mounted
  WARM+=("$(time_cmd cat "$FILE")")
  unmount_bridge
  CURL+=("$(time_cmd curl -sf -o /dev/null -H "Authorization: Bearer $CAIRN_TOKEN" "$URL/v1/images/bench/base:v1/disk")")
  LOCAL+=("$(time_cmd cat "$IMAGE")")
done
m() { printf '%s\n' "$@" | median; }
cold=$(m "${COLD[@]}"); warm=$(m "${WARM[@]}"); hot=$(m "${HOT[@]}"); curl_t=$(m "${CURL[@]}")
local_t=$(m "${LOCAL[@]}"); start=$(m "${START[@]}")

REPORT="$OUT/fuse.md"
{
  echo "| read of $(awk -v b="$SIZE" 'BEGIN {printf "%.0f MiB", b / 1048576}') ($(basename "$IMAGE")) | time (s) | MB/s |"
  echo "|---|---|---|"
  echo "| mount, cold block cache (\`cat\`) | $cold | $(mbps "$cold") |"
  echo "| \`curl\` of the raw disk from the same server | $curl_t | $(mbps "$curl_t") |"
  echo "| mount, warm block cache, new mount (\`cat\`) | $warm | $(mbps "$warm") |"
  echo "| mount, page cache hot, same mount (\`cat\`) | $hot | $(mbps "$hot") |"
  echo "| \`cat\` of the local file (page cache hot) | $local_t | $(mbps "$local_t") |"
  echo "| \`cairn mount\` start until \`qemu-img info\` succeeds | $start | |"
  echo
  echo "Medians of $RUNS run(s); $(nproc) cores; $(date -u +%Y-%m-%d)."
} > "$REPORT"
cat "$REPORT"
