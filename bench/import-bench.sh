#!/usr/bin/env bash
# import-bench.sh -- Cairn import against peers on the same VM images, in one run.
#
# Usage: bench/import-bench.sh [--quick] [--corpus DIR] [--out DIR] [--runs N] [--jsonl FILE] [--keep-store DIR]
#
# On base.img, app.img and user.img of bench/make-corpus.sh (--quick: base.img and user.img), page cache warm, times:
#   cat, sha256sum            physical references (read everything; read and hash everything)
#   zstd -1                   compress each image (a reference for stored bytes without dedup)
#   cairn import              into a fresh store, one image after the other
#   restic backup             into a fresh repository
#   casync make               into a fresh chunk store
#   borg create -C lz4        into a fresh repository
# and emits each tool's seconds and stored bytes as JSON lines (ingest.TOOL.seconds, ingest.TOOL.storedBytes).
# cairn and restic run --runs times (default 3; 1 with --quick), cat too; the slower references run once.
# With --keep-store DIR the last Cairn store is moved to DIR (tags bench/base:v1, bench/app:v1,
# bench/user:v1) for serve-bench.sh. Without --jsonl it writes OUT/measurements.jsonl and OUT/report.md.
# Installs restic, casync, borgbackup, zstd, bc with apt-get if missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup import "$@"
KEEP_STORE=""
set -- "${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --keep-store) KEEP_STORE="$2"; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
  shift
done
RUNS_SLOW=1

install_peers restic:restic casync:casync borg:borgbackup zstd:zstd bc:bc
build_cairn
make_corpus
standalone_notes
# --quick leaves app.img out of the ingest, to stay within its time budget.
if [[ $QUICK = 1 ]]; then IMAGES=("$BASE" "$USER_IMG"); else IMAGES=("$BASE" "$APP" "$USER_IMG"); fi
note ingest.images "$(for f in "${IMAGES[@]}"; do basename "$f"; done | paste -sd, | sed 's/,/, /g')"
total=0; for f in "${IMAGES[@]}"; do total=$(( total + $(apparent "$f") )); done; emit ingest.apparentBytes B "$total"
total=0; for f in "${IMAGES[@]}"; do total=$(( total + $(allocated "$f") )); done; emit ingest.allocatedBytes B "$total"
note peer.restic "$(restic version | awk '{print $1, $2}')"
note peer.casync "casync $(casync --version 2>/dev/null | head -1 | awk '{print $NF}')"
note peer.borg "$(borg --version)"
note peer.zstd "$(zstd --version | sed 's/^\*\*\* //; s/ 64-bits.*//; s/,.*//')"
note peer.sha256sum "$(sha256sum --version | head -1)"
note load.before.ingest "$(loadavg)"

cat "${IMAGES[@]}" >/dev/null  # page cache warm: every tool reads from memory
export RESTIC_PASSWORD=bench BORG_PASSPHRASE="" BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
STORE="$WORK/store"
fresh() { rm -rf "$STORE"; mkdir -p "$STORE"; }
stored() {  # stored TOOL [MORE_PATHS...]: bytes of the tool's store (null if the run failed)
  local t=$1; shift
  [[ -e "$STORE/$t" ]] || { emit "ingest.$t.storedBytes" B null; return; }
  emit "ingest.$t.storedBytes" B "$(du -sbc "$STORE/$t" "$@" | tail -1 | cut -f1)"
}
# Cairn's own clock (inside the JVM, without JVM start): the sum of the three imports' "seconds"
cairn_inner() {
  emit ingest.cairn.innerSeconds s "$(grep -h '"seconds"' "$WORK/ingest.cairn.seconds.log" | awk -F: '{s += $2} END {printf "%.6f", s}')"
}

measure ingest.cat.seconds "$RUNS" "" 'cat "${IMAGES[@]}" > /dev/null'
measure ingest.sha256sum.seconds "$RUNS_SLOW" "" 'sha256sum "${IMAGES[@]}"'
measure ingest.zstd.seconds "$RUNS_SLOW" 'fresh; mkdir "$STORE/zstd"' \
  'zstd -1 -q --output-dir-flat "$STORE/zstd" "${IMAGES[@]}"'
stored zstd
AFTER=cairn_inner
measure ingest.cairn.seconds "$RUNS" 'fresh' \
  'for f in "${IMAGES[@]}"; do "$BENCH_ROOT/cairn" import "$f" --name "bench/$(basename "$f" .img):v1" --data "$STORE/cairn" --json; done'
AFTER=""
stored cairn
if [[ -n "$KEEP_STORE" ]]; then rm -rf "$KEEP_STORE"; mv "$STORE/cairn" "$KEEP_STORE"; fi
measure ingest.restic.seconds "$RUNS" 'fresh; restic init --repo "$STORE/restic" >/dev/null' \
  'restic backup --repo "$STORE/restic" "${IMAGES[@]}"'
stored restic
measure ingest.casync.seconds "$RUNS_SLOW" 'fresh' \
  'for f in "${IMAGES[@]}"; do casync make --store="$STORE/casync" "$STORE/$(basename "$f").caibx" "$f"; done'
stored casync "$STORE"/*.caibx
measure ingest.borg.seconds "$RUNS_SLOW" 'fresh; borg init -e none "$STORE/borg" >/dev/null' \
  'borg create --compression lz4 "$STORE/borg::a" "${IMAGES[@]}"'
stored borg
rm -rf "$STORE"
bench_finish
