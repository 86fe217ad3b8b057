#!/usr/bin/env bash
# bench.sh -- every Cairn benchmark in one run, one report: ./cairn bench [--quick] [--out DIR]
#
# Usage: ./cairn bench [--quick] [--out DIR] [--corpus DIR] [--runs N]
#
#   --quick       the small corpus (512 MiB images) and single runs: under 3 minutes on 2 cores
#   --out DIR     where to write measurements.jsonl, results.json, report.md and charts/ (default bench-out)
#   --corpus DIR  corpus directory (default /tmp/corpus-quick or /tmp/corpus-full; built if missing)
#   --runs N      runs of the timed steps that targets rest on (default 3; 1 with --quick)
#
# Builds the CLI and the report generator, builds or reuses the corpus (bench/make-corpus.sh), notes the
# machine and its load, then runs import-bench.sh (keeping its Cairn store), serve-bench.sh on that store,
# overlay-bench.sh, fuse-bench.sh, nbd-bench.sh (NBD against qemu-nbd) and s3-bench.sh (Ceph RGW; skipped without Ceph), each appending JSON lines to OUT/measurements.jsonl; finally the
# report generator (module bench) writes OUT/results.json, OUT/report.md and OUT/charts/*.png.
# Exits non-zero if any measurement failed; the report lists what is missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup bench "$@"
[[ ${#EXTRA_ARGS[@]} -eq 0 ]] || { [[ "${EXTRA_ARGS[0]}" =~ ^(-h|--help)$ ]] && { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }; die "unknown argument ${EXTRA_ARGS[0]}"; }
STANDALONE=0                          # the parts append to one file; this script writes the report
: > "$JSONL"
T_START=$(now)
ARGS=(--corpus "$CORPUS" --out "$OUT" --jsonl "$JSONL" --runs "$RUNS")
[[ $QUICK = 1 ]] && ARGS+=(--quick)

install_peers restic:restic casync:casync borg:borgbackup zstd:zstd nginx:nginx-light rsync:rsync bc:bc curl:curl
note_machine                          # before the build: how busy the machine was when we were asked
build_cairn
make_corpus
note_corpus
log "load average before the measurements: $(loadavg)"

status=0
part() {  # part NAME ARGS...: one benchmark script; a failure is reported, and the others still run
  local name=$1 t0; shift
  t0=$(now)
  log "---- $name ----"
  "$BENCH_ROOT/bench/$name-bench.sh" "$@" || { log "$name-bench.sh failed"; status=1; }
  note "time.$name" "$(printf '%.0f' "$(calc "$(now) - $t0")")"
}
part import "${ARGS[@]}" --keep-store "$WORK/store"
part serve "${ARGS[@]}" --store "$WORK/store"
part overlay "${ARGS[@]}"
part fuse "${ARGS[@]}" --store "$WORK/store"
part nbd "${ARGS[@]}"
rm -rf "$WORK/store"
part s3 "${ARGS[@]}"                  # skips itself, with the reason in the report, without Ceph

note load.end "$(loadavg)"
note run.seconds "$(printf '%.0f' "$(calc "$(now) - $T_START")")"
bench_report || status=1
log "done in $(printf '%.0f' "$(calc "$(now) - $T_START")") s; load average now $(loadavg); report: $OUT/report.md"
exit $status
