#!/usr/bin/env bash
# serve-bench.sh -- Cairn's HTTP server and pull/push clients against peers, in one run.
#
# Usage: bench/serve-bench.sh [--quick] [--corpus DIR] [--out DIR] [--runs N] [--jsonl FILE] [--store DIR]
#
# On the corpus of bench/make-corpus.sh, on loopback only, page cache warm:
#   1. raw GET   curl of /v1/images/bench/base:v1/disk from `cairn serve` vs nginx (sendfile on) serving base.img:
#                from the store (--disk-cache 0), and from the server's disk cache once its copy is made
#   2. pull      cold `cairn pull` vs curl -o from nginx (both with and without fsync); warm pull (same cache);
#                bytes on the wire (client bytesFetched, server bytesServed); delta pull of user.img with
#                --seed base.img vs the bytes of user.img's blocks absent from base.img, and an rsync batch
#   3. push      user.img to a server holding only base.img (bytes sent); cold push of app.img to an empty
#                server vs `restic backup` of app.img into a fresh repository
#   4. RSS       RSS of a fresh server (--disk-cache 0) under 64 concurrent disk downloads, sampled every 0.1 s
#   5. RSS mixed RSS of a server started as `./cairn serve` starts it with no memory flags (the default
#                --memory budget sets -Xmx; --disk-cache 0) under 64 disk GETs, 64 pulls and 8 overlay writers
#                at once (io.cairn.bench.MixedLoad) of a random 64 MiB image (16 MiB with --quick)
# --quick leaves out the no-fsync pull pair and step 3, and reads less in step 4. --mixed-only runs step 5 alone
# (no corpus needed).
# Every server runs with CAIRN_JAVA_OPTS=-Xmx256m and is driven as its admin (the token it prints on first
# start). With --store DIR it serves that store (tags bench/base:v1 and bench/user:v1, e.g. from
# import-bench.sh --keep-store) instead of importing. Timed steps that matter for targets run --runs times
# (default 3; 1 with --quick), GETs from the store 3 times, GETs from the disk cache 5 times (3 with
# --quick) alternating with nginx's, the rest once. Step 5's server runs without CAIRN_JAVA_OPTS. Installs nginx-light, rsync, restic, bc, curl if
# missing. Without --jsonl it writes OUT/measurements.jsonl and OUT/report.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup serve "$@"
STORE_ARG=""
MIXED_ONLY=0
set -- "${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --store) STORE_ARG="$2"; shift ;;
    --mixed-only) MIXED_ONLY=1 ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
  shift
done
RUNS_CHEAP=3
RUNS_SLOW=1

install_peers nginx:nginx-light rsync:rsync restic:restic bc:bc curl:curl
command -v python3 >/dev/null || die "python3 is needed"
build_cairn

# ---- 5. RSS under mixed load with the default memory budget (defined here, run last) ----
mixed_rss() {
  local mib=$(( QUICK == 1 ? 16 : 64 )) data="$WORK/store-mem" img="$WORK/mem.img" size jar cp lpid t0 r peak=0 hwm
  head -c "${mib}M" /dev/urandom > "$img"  # random: nothing dedups or compresses away
  "$BENCH_ROOT/cairn" import "$img" --name bench/mem:v1 --data "$data" --json > /dev/null
  size=$(apparent "$img"); rm -f "$img"
  note load.before.mixed "$(loadavg)"
  # No CAIRN_JAVA_OPTS: the launcher's -Xmx and -XX:MaxDirectMemorySize come from the default budget.
  SERVER_JAVA_OPTS="" start_server "$data" --disk-cache 0
  emit rss.mixed.beforeBytes B $(( $(rss_kb "$SPID" VmRSS) * 1024 ))
  jar=$(ls "$BENCH_ROOT"/bench/target/bench-*.jar 2>/dev/null | grep -v -e sources -e tests | head -1)
  cp="$jar:$(cat "$BENCH_ROOT/bench/target/classpath.txt")"
  mkdir -p "$WORK/mixed"
  java -Xmx1g -cp "$cp" io.cairn.bench.MixedLoad "$URL" "$TOKEN" bench/mem:v1 "$size" "$WORK/mixed" \
    > "$WORK/mixed.json" 2> "$WORK/mixed.err" &
  lpid=$!; t0=$(now)
  while kill -0 "$lpid" 2>/dev/null; do
    r=$(rss_kb "$SPID" VmRSS); (( r > peak )) && peak=$r
    sleep 0.1
  done
  wait "$lpid" || { log "mixed load failed:"; cat "$WORK/mixed.err" >&2; FAILED+=(rss.mixed); }
  hwm=$(rss_kb "$SPID" VmHWM)
  log "mixed load (64 GETs, 64 pulls, 8 writers of a ${mib} MiB image): $(cat "$WORK/mixed.json");" \
    "RSS peak sampled $((peak >> 10)) MiB, VmHWM $((hwm >> 10)) MiB"
  emit rss.mixed.seconds s "$(calc "$(now) - $t0")"
  emit rss.mixed.peakBytes B $(( peak * 1024 ))
  emit rss.mixed.hwmBytes B $(( hwm * 1024 ))
  emit rss.mixed.imageBytes B "$size"
  note rss.mixed.budgetMiB 1024
  stop_server
  rm -rf "$data" "$WORK/mixed"
}
if [[ $MIXED_ONLY = 1 ]]; then
  note_machine
  mixed_rss
  bench_finish
  exit
fi

make_corpus
standalone_notes
SIZE=$(apparent "$BASE")
note peer.nginx "nginx $(nginx -v 2>&1 | sed 's|.*/||')"
note peer.curl "$(curl --version | head -1 | awk '{print $1, $2}')"
note peer.rsync "$(rsync --version | head -1 | awk '{print $1, $3}')"
note peer.restic "$(restic version | awk '{print $1, $2}')"
note load.before.serve "$(loadavg)"
export RESTIC_PASSWORD=bench

# getc ARGS: curl that prints "HTTP_CODE BYTES" for curl_ok
getc() { curl -s -w '%{http_code} %{size_download}' "$@"; }
# curl_ok FILE EXPECTEDBYTES: checks a getc record
curl_ok() {
  local code="" got=""
  read -r code got < "$1" || true
  [[ ( $code == 200 || $code == 206 ) && $got == "$2" ]] || { log "download got HTTP $code, $got bytes, expected $2 ($1)"; return 1; }
}

cat "$BASE" "$USER_IMG" "$APP" > /dev/null  # page cache warm: every tool reads from memory

# ---- store with base and user; server S1 ----
if [[ -n "$STORE_ARG" ]]; then
  S1="$STORE_ARG"
else
  log "importing base.img and user.img"
  S1="$WORK/store1"
  "$BENCH_ROOT/cairn" import "$BASE" --name bench/base:v1 --data "$S1" --json > /dev/null
  "$BENCH_ROOT/cairn" import "$USER_IMG" --name bench/user:v1 --data "$S1" --json > /dev/null
fi
start_nginx "$CORPUS"
curl -sf "$NGINX/base.img" | cmp - "$BASE" || die "nginx's base.img differs"

# ---- 1. raw GET ----
# 1a. From the store: the server without its disk cache decompresses every block (what the first GET
# of a version costs). Untimed first: check the bytes once, and warm the JIT and the page cache.
start_server "$S1" --disk-cache 0
DISK="$URL/v1/images/bench/base:v1/disk"
curl -sf "${AUTH[@]}" "$DISK" | cmp - "$BASE" || die "GET $DISK differs from base.img"
AFTER='curl_ok "$WORK/$id.log" $SIZE'
measure get.store.seconds "$RUNS_CHEAP" "" 'getc "${AUTH[@]}" -o /dev/null "$DISK"'
AFTER=""
stop_server
# 1b. From the disk cache (the default): the first GET asks for a raw copy, made in the background;
# every GET after it is sent with sendfile. The time until the copy is there is measured too.
start_server "$S1"; S1PID=$SPID
log "cairn at $URL (pid $S1PID), nginx at $NGINX"
DISK="$URL/v1/images/bench/base:v1/disk"
t0=$(now)
curl -sf "${AUTH[@]}" "$DISK" | cmp - "$BASE" || die "GET $DISK differs from base.img"
for ((i = 0; i < 1200; i++)); do
  [[ "$(stat_get diskCache.images)" -ge 1 ]] && break
  sleep 0.1
done
[[ "$(stat_get diskCache.images)" -ge 1 ]] || die "the server made no disk cache copy of base.img in 120 s"
emit get.copyReady.seconds s "$(calc "$(now) - $t0")"
curl -sf "${AUTH[@]}" "$DISK" | cmp - "$BASE" || die "GET $DISK from the disk cache differs from base.img"
# Alternating, one of each at a time, so that neither server gets the quieter minutes: the two are
# within 10% of each other, less than this machine's noise between minutes.
AFTER='curl_ok "$WORK/$id.log" $SIZE'
GET_RUNS=$(( QUICK == 1 ? 3 : 5 ))
for ((g = 0; g < GET_RUNS; g++)); do
  measure get.cairn.seconds 1 "" 'getc "${AUTH[@]}" -o /dev/null "$DISK"'
  measure get.nginx.seconds 1 "" 'getc -o /dev/null "$NGINX/base.img"'
done
AFTER=""
[[ "$(stat_get diskCache.hits)" -ge $(( GET_RUNS + 1 )) ]] || die "the timed GETs were not sent from the disk cache"

# ---- 2. pulls ----
# pull_stats NAME: client JSON (bytesFetched, seconds) and the server's response bytes for one pull
served_before() { SB0=$(stat_get bytesServed); BB0=$(stat_get blockBytesServed); }
pull_stats() {
  emit "$1.fetchedBytes" B "$(jget "$WORK/$1.seconds.log" bytesFetched)"
  emit "$1.innerSeconds" s "$(jget "$WORK/$1.seconds.log" seconds)"
  emit "$1.servedBytes" B "$(( $(stat_get bytesServed) - SB0 ))"
}
PULLED="$WORK/pulled.img"
# Cold pull: fresh cache each run. Warm pull: the same cache again, right after.
AFTER='pull_stats pull.cold && cmp -s "$PULLED" "$BASE"'
measure pull.cold.seconds "$RUNS" 'rm -rf "$WORK/cache" "$PULLED"; served_before' \
  'cairn_client pull bench/base:v1 "$PULLED" --server "$URL" --cache "$WORK/cache" --json'
AFTER='pull_stats pull.warm && cmp -s "$PULLED" "$BASE"'
measure pull.warm.seconds "$RUNS_SLOW" 'rm -f "$PULLED"; served_before' \
  'cairn_client pull bench/base:v1 "$PULLED" --server "$URL" --cache "$WORK/cache" --json'
AFTER='curl_ok "$WORK/$id.log" $SIZE'
measure curl.fsync.seconds "$RUNS" 'rm -f "$PULLED"' 'getc -o "$PULLED" "$NGINX/base.img" && sync "$PULLED"'
AFTER=""
if [[ $QUICK = 0 ]]; then  # the same pair without fsync
  measure pull.nosync.seconds "$RUNS_SLOW" 'rm -rf "$WORK/cache" "$PULLED"' \
    'cairn_client pull bench/base:v1 "$PULLED" --server "$URL" --cache "$WORK/cache" --json --no-sync'
  AFTER='curl_ok "$WORK/$id.log" $SIZE'
  measure curl.nosync.seconds "$RUNS_SLOW" 'rm -f "$PULLED"' 'getc -o "$PULLED" "$NGINX/base.img"'
  AFTER=""
fi
rm -rf "$PULLED" "$WORK/cache"

# Delta pull: user.img from the server, base.img as seed, fresh cache each run.
delta_stats() {
  emit delta.pull.fetchedBytes B "$(jget "$WORK/delta.pull.seconds.log" bytesFetched)"
  emit delta.pull.servedBytes B "$(( $(stat_get bytesServed) - SB0 ))"
  emit delta.pull.blockBytesServed B "$(( $(stat_get blockBytesServed) - BB0 ))"
  cmp -s "$PULLED" "$USER_IMG"
}
AFTER=delta_stats
measure delta.pull.seconds "$RUNS_SLOW" 'rm -rf "$WORK/cache2" "$PULLED"; served_before' \
  'cairn_client pull bench/user:v1 "$PULLED" --server "$URL" --cache "$WORK/cache2" --seed "$BASE" --json'
AFTER=""
rm -rf "$PULLED" "$WORK/cache2"
stop_server

# rsync as the delta peer: the batch file holds what rsync would send to update a copy of base.img.
cp --sparse=always "$BASE" "$WORK/basecopy.img"
AFTER='emit delta.rsync.batchBytes B "$(stat -c %s "$WORK/rsync.batch")"'
measure delta.rsync.seconds "$RUNS_SLOW" 'rm -f "$WORK/rsync.batch" "$WORK/rsync.batch.sh"' \
  'rsync --no-whole-file -I --only-write-batch="$WORK/rsync.batch" "$USER_IMG" "$WORK/basecopy.img"'
AFTER=""
rm -f "$WORK/basecopy.img" "$WORK/rsync.batch"

# ---- 3. push ----
push_start() {  # push_start STORE: fresh server on STORE, cache gone, counter noted
  rm -rf "$WORK/pcache"; start_server "$1"; PR0=$(stat_get blockBytesReceived)
}
push_stats() {  # push_stats NAME: bytes the client sent; with a second argument, what the server took in
  emit "$1.sentBytes" B "$(jget "$WORK/$1.seconds.log" bytesSent)"
  [[ -z "${2:-}" ]] || emit "$1.receivedBytes" B "$(( $(stat_get blockBytesReceived) - PR0 ))"
  stop_server
}
if [[ $QUICK = 0 ]]; then
  # user.img to a server that holds only base.img (a copy of one template store per run).
  "$BENCH_ROOT/cairn" import "$BASE" --name bench/base:v1 --data "$WORK/store-base" --json > /dev/null
  AFTER='push_stats push.delta received'
  measure push.delta.seconds "$RUNS_SLOW" 'rm -rf "$WORK/store2"; cp -a "$WORK/store-base" "$WORK/store2"; push_start "$WORK/store2"' \
    'cairn_client push "$USER_IMG" bench/user2:v1 --server "$URL" --cache "$WORK/pcache" --json'
  rm -rf "$WORK/store2" "$WORK/store-base"
  # Cold push of app.img to an empty server vs restic backup into a fresh repository.
  AFTER='push_stats push.cold'
  measure push.cold.seconds "$RUNS_SLOW" 'rm -rf "$WORK/store3"; push_start "$WORK/store3"' \
    'cairn_client push "$APP" bench/app:v1 --server "$URL" --cache "$WORK/pcache" --json'
  AFTER=""
  rm -rf "$WORK/store3" "$WORK/pcache"
  AFTER='emit push.restic.storedBytes B "$(du -sb "$WORK/restic" | cut -f1)"'
  measure push.restic.seconds "$RUNS_SLOW" 'rm -rf "$WORK/restic"; restic init --repo "$WORK/restic" >/dev/null' \
    'restic backup --repo "$WORK/restic" "$APP"'
  AFTER=""
  rm -rf "$WORK/restic"
fi

# ---- 4. RSS under 64 concurrent downloads (fresh server on S1) ----
# Without the disk cache: every download decompresses blocks in the server's buffers, the case that
# needs memory (from the disk cache the kernel sends the file).
note load.before.rss "$(loadavg)"
start_server "$S1" --disk-cache 0; DISK="$URL/v1/images/bench/base:v1/disk"
curl -sf "${AUTH[@]}" -o /dev/null "$DISK"  # one warm-up download
RSS_BEFORE=$(rss_kb "$SPID" VmRSS)
# Every 8th download the first half of the disk, the others a sixteenth at different offsets (--quick:
# an eighth and a thirty-second): 64 connections at once, for long enough that RSS levels off.
if [[ $QUICK = 1 ]]; then WHOLE=$(( SIZE / 8 )); PART=$(( SIZE / 32 / 4096 * 4096 )); else WHOLE=$(( SIZE / 2 )); PART=$(( SIZE / 16 / 4096 * 4096 )); fi
STEP=$(( SIZE / 64 / 4096 * 4096 ))
cpids=(); EXPECTED=0
for ((i = 0; i < 64; i++)); do
  if (( i % 8 == 0 && WHOLE == SIZE )); then range=(); len=$SIZE
  elif (( i % 8 == 0 )); then len=$WHOLE; range=(-r "0-$(( len - 1 ))")
  else start=$(( (i % 48) * STEP )); len=$PART; range=(-r "$start-$(( start + len - 1 ))"); fi
  EXPECTED=$(( EXPECTED + len ))
  echo "$len" > "$WORK/c$i.len"
  curl -s --max-time 600 "${AUTH[@]}" -o /dev/null -w '%{http_code} %{size_download}' "${range[@]}" "$DISK" > "$WORK/c$i.out" 2>&1 &
  cpids+=($!)
done
t0=$(now); RSS_PEAK=0; TIMELINE=()
for ((s = 0; s < 6500; s++)); do  # at most ~11 min; curl's --max-time ends them before
  r=$(rss_kb "$SPID" VmRSS); (( r > RSS_PEAK )) && RSS_PEAK=$r; TIMELINE+=($(( r * 1024 )))
  alive=0; for p in "${cpids[@]}"; do kill -0 "$p" 2>/dev/null && { alive=1; break; }; done
  (( alive )) || break
  sleep 0.1
done
CONC_SECONDS=$(calc "$(now) - $t0")
for p in "${cpids[@]}"; do wait "$p" || true; done
CONC_FAILED=0
for ((i = 0; i < 64; i++)); do
  curl_ok "$WORK/c$i.out" "$(cat "$WORK/c$i.len")" || CONC_FAILED=$((CONC_FAILED + 1))
done
RSS_HWM=$(rss_kb "$SPID" VmHWM)
log "64 downloads: $((EXPECTED >> 20)) MiB in $(printf '%.1f' "$CONC_SECONDS") s, $CONC_FAILED failed; RSS peak sampled $((RSS_PEAK >> 10)) MiB, VmHWM $((RSS_HWM >> 10)) MiB"
stop_server
emit rss.downloads count 64
emit rss.requestedBytes B "$EXPECTED"
emit rss.seconds s "$CONC_SECONDS"
emit rss.failed count "$CONC_FAILED"
emit rss.beforeBytes B $(( RSS_BEFORE * 1024 ))
emit rss.peakBytes B $(( RSS_PEAK * 1024 ))
emit rss.hwmBytes B $(( RSS_HWM * 1024 ))
emit rss.timelineBytes B "${TIMELINE[@]}"
note rss.intervalSeconds "$(calc "$CONC_SECONDS / ${#TIMELINE[@]}")"  # ~0.1 s plus the checks between samples
note rss.limitMiB 512
if [[ $QUICK = 1 ]]; then note rss.pattern "every 8th the first eighth of the disk, the others a thirty-second at different offsets"
else note rss.pattern "every 8th the first half of the disk, the others a sixteenth at different offsets"; fi
[[ $CONC_FAILED = 0 ]] || FAILED+=(rss.downloads)
mixed_rss
bench_finish
