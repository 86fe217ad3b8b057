#!/usr/bin/env bash
# import-bench.sh -- Cairn import against peers on the same VM images, in one run.
#
# Usage: bench/import-bench.sh [--quick] [--corpus DIR] [--out DIR] [--runs N]
#
# Builds (or reuses) the corpus with bench/make-corpus.sh, then times, on the same files:
#   cat, sha256sum            physical references (read everything; read and hash everything)
#   cairn import              into a fresh store, all images in turn
#   restic backup             into a fresh repository (Debian's restic)
#   casync make               into a fresh chunk store
#   borg create -C lz4        into a fresh repository
# and reports each ingest's time, MB/s (apparent and allocated bytes) and stored bytes, with
# ratios against Cairn. Installs restic, casync and borgbackup with apt-get if missing.
# Writes OUT/import.md and OUT/import.json. Timings are medians of --runs runs (default 3; 1 with --quick).
set -euo pipefail
export LC_ALL=C
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
QUICK=0; CORPUS=""; OUT="$ROOT/bench-out"; RUNS=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --corpus) CORPUS="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    --runs) RUNS="$2"; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "import-bench: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[[ -n "$RUNS" ]] || RUNS=$(( QUICK ? 1 : 3 ))
[[ -n "$CORPUS" ]] || CORPUS="${TMPDIR:-/tmp}/corpus-$([[ $QUICK = 1 ]] && echo quick || echo full)"
mkdir -p "$OUT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/cairn-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

need=()
command -v restic >/dev/null || need+=(restic)
command -v casync >/dev/null || need+=(casync)
command -v borg >/dev/null || need+=(borgbackup)
command -v bc >/dev/null || need+=(bc)
if [[ ${#need[@]} -gt 0 ]]; then
  echo "import-bench: installing ${need[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

"$ROOT/bench/make-corpus.sh" $([[ $QUICK = 1 ]] && echo --quick) "$CORPUS" >&2
IMAGES=("$CORPUS/base.img" "$CORPUS/app.img" "$CORPUS/user.img")
apparent=0; allocated=0
for f in "${IMAGES[@]}"; do
  apparent=$(( apparent + $(stat -c %s "$f") ))
  allocated=$(( allocated + $(stat -c %b "$f") * 512 ))
done
"$ROOT/cairn" --version >/dev/null  # build before timing anything
export CAIRN_SKIP_BUILD=1

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
spread() { sort -g | awk 'NR==1{min=$1} {max=$1} END {printf "%.2f-%.2f", min, max}'; }

# run NAME SETUP CMD: times CMD (after SETUP, untimed) RUNS times; prints "median spread storedBytes"
declare -A T SP STORED
measure() {
  local name="$1" setup="$2" cmd="$3" store="$4" times=()
  for ((r = 0; r < RUNS; r++)); do
    rm -rf "$WORK/store"; mkdir -p "$WORK/store"
    eval "$setup"
    sync; local t0; t0=$(now)
    eval "$cmd" >"$WORK/$name.log" 2>&1 || { echo "import-bench: $name failed:"; cat "$WORK/$name.log"; exit 1; } >&2
    times+=("$(echo "$(now) - $t0" | bc -l)")
  done
  T[$name]=$(printf '%s\n' "${times[@]}" | median)
  SP[$name]=$(printf '%s\n' "${times[@]}" | spread)
  STORED[$name]=$([[ -n "$store" ]] && du -sb "$store" | cut -f1 || echo 0)
  printf 'import-bench: %-10s %8.2f s (%s)  stored %s bytes\n' "$name" "${T[$name]}" "${SP[$name]}" "${STORED[$name]}" >&2
}

cat "${IMAGES[@]}" >/dev/null  # warm the page cache: every tool reads from memory
export RESTIC_PASSWORD=bench BORG_PASSPHRASE="" BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
measure cat "" 'cat "${IMAGES[@]}" > /dev/null' ""
measure sha256sum "" 'sha256sum "${IMAGES[@]}"' ""
measure cairn "" 'for f in "${IMAGES[@]}"; do "$ROOT/cairn" import "$f" --name "bench/$(basename "$f" .img)" --data "$WORK/store/cairn" --json; done' "$WORK/store/cairn"
measure restic 'restic init --repo "$WORK/store/restic" >/dev/null' 'restic backup --repo "$WORK/store/restic" "${IMAGES[@]}"' "$WORK/store/restic"
measure casync "" 'for f in "${IMAGES[@]}"; do casync make --store="$WORK/store/casync" "$WORK/store/$(basename "$f").caibx" "$f"; done' "$WORK/store/casync"
measure borg 'borg init -e none "$WORK/store/borg" >/dev/null' 'borg create --compression lz4 "$WORK/store/borg::a" "${IMAGES[@]}"' "$WORK/store/borg"
# Cairn's own clock (excludes JVM start), from the last run's JSON
cairn_inner=$(grep -h '"seconds"' "$WORK/cairn.log" | awk -F: '{s+=$2} END {print s}')

mbps() { echo "$1 / $2 / 1000000" | bc -l; }
ratio() { echo "$1 / $2" | bc -l; }
{
  echo "# Import benchmark"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r);"
  echo "corpus: $(basename "$CORPUS") (${#IMAGES[@]} ext4 images from bench/make-corpus.sh), apparent $((apparent >> 20)) MiB, allocated $((allocated >> 20)) MiB; page cache warm; median of $RUNS run(s)."
  echo
  echo "| tool | time s (spread) | MB/s apparent | MB/s allocated | stored MiB | Cairn speed vs it | Cairn stored vs it |"
  echo "|---|---|---|---|---|---|---|"
  for n in cat sha256sum cairn restic casync borg; do
    st=${STORED[$n]}
    printf '| %s | %.2f (%s) | %.0f | %.0f | %s | %s | %s |\n' "$n" "${T[$n]}" "${SP[$n]}" \
      "$(mbps $apparent "${T[$n]}")" "$(mbps $allocated "${T[$n]}")" \
      "$([[ $st = 0 ]] && echo - || echo $((st >> 20)))" \
      "$(printf '%.2fx' "$(ratio "${T[$n]}" "${T[cairn]}")")" \
      "$([[ $st = 0 ]] && echo - || printf '%.2fx' "$(ratio "${STORED[cairn]}" "$st")")"
  done
  echo
  echo "Cairn's own clock (inside the JVM, without JVM start and build check): $(printf '%.2f' "$cairn_inner") s for all images."
  echo "\"Cairn speed vs it\" above 1 means Cairn is faster; \"Cairn stored vs it\" below 1 means Cairn stores less."
  min_peer=$(printf '%s\n' "${STORED[restic]}" "${STORED[casync]}" "${STORED[borg]}" | sort -n | head -1)
  echo
  echo "Targets: import >= 3x faster than restic: $(printf '%.2fx' "$(ratio "${T[restic]}" "${T[cairn]}")") ($(awk -v r="$(ratio "${T[restic]}" "${T[cairn]}")" 'BEGIN{print (r>=3)?"met":"not met"}'));"
  echo "stored bytes <= 0.85x restic: $(printf '%.2fx' "$(ratio "${STORED[cairn]}" "${STORED[restic]}")") ($(awk -v r="$(ratio "${STORED[cairn]}" "${STORED[restic]}")" 'BEGIN{print (r<=0.85)?"met":"not met"}'));"
  echo "stored bytes <= 0.85x smallest peer: $(printf '%.2fx' "$(ratio "${STORED[cairn]}" "$min_peer")") ($(awk -v r="$(ratio "${STORED[cairn]}" "$min_peer")" 'BEGIN{print (r<=0.85)?"met":"not met"}'))."
} > "$OUT/import.md"
{
  printf '{"apparentBytes": %s, "allocatedBytes": %s, "runs": %s, "cairnInnerSeconds": %s, "tools": {' "$apparent" "$allocated" "$RUNS" "$cairn_inner"
  sep=""
  for n in cat sha256sum cairn restic casync borg; do
    printf '%s"%s": {"seconds": %s, "storedBytes": %s}' "$sep" "$n" "${T[$n]}" "${STORED[$n]}"; sep=", "
  done
  echo "}}"
} > "$OUT/import.json"
cat "$OUT/import.md"
