#!/usr/bin/env bash
# serve-bench.sh -- Cairn's HTTP server and pull/push clients against peers, in one run.
#
# Usage: bench/serve-bench.sh [--quick] [--corpus DIR] [--out DIR] [--runs N]
#
# On the corpus of bench/make-corpus.sh (base.img, user.img, app.img), on loopback only:
#   1. raw GET   curl of /v1/images/bench/base:v1/disk from `cairn serve` vs nginx (sendfile on) serving base.img
#   2. pull      cold `cairn pull` vs curl -o from nginx (both with and without fsync); warm pull (same
#                cache); delta pull of user.img with --seed base.img: bytes fetched (client JSON and the
#                server's /v1/stats) vs the bytes of user.img's non-zero 4 KiB blocks found nowhere in
#                base.img, with an rsync batch (--only-write-batch, --no-whole-file) as the peer
#   3. push      user.img to a server holding only base.img (bytes sent vs changed bytes); cold push of
#                app.img to an empty server vs `restic backup` of app.img into a fresh repository
#   4. RSS       peak RSS of a fresh server (CAIRN_JAVA_OPTS=-Xmx256m) under 64 concurrent disk downloads
# Every server runs with CAIRN_JAVA_OPTS=-Xmx256m. Installs nginx-light, rsync, restic, bc with apt-get if
# missing. Writes OUT/serve.md and OUT/serve.json. Timings are medians of --runs runs (default 3; 1 with --quick).
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
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "serve-bench: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[[ -n "$RUNS" ]] || RUNS=$(( QUICK ? 1 : 3 ))
[[ "$RUNS" =~ ^[1-9][0-9]?$ ]] || { echo "serve-bench: --runs must be 1..99" >&2; exit 2; }
[[ -n "$CORPUS" ]] || CORPUS="${TMPDIR:-/tmp}/corpus-$([[ $QUICK = 1 ]] && echo quick || echo full)"
mkdir -p "$OUT"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/cairn-serve-bench.XXXXXX")"
JAVA_OPTS="-Xmx256m"
SERVER_PIDS=()   # every cairn serve we started (the launcher execs java, so $! is the JVM)
NGINX_PIDFILE="$WORK/nginx/nginx.pid"

log() { echo "serve-bench: $*" >&2; }
die() { log "$*"; exit 1; }

stop_pid() {  # stop_pid PID: SIGTERM, wait at most 30 s, then SIGKILL
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "pid $pid did not stop after 30 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$? p f
  if [[ $rc != 0 ]]; then  # show what the servers said
    for f in "$WORK"/serve.*.out; do [[ -e $f ]] && { echo "--- $f"; grep -v -e ' INFO' -e '^INFO:' -e '^[A-Z][a-z][a-z] [0-9]*, ' "$f" "$f.err" | tail -20; } >&2; done
  fi
  for p in "${SERVER_PIDS[@]}"; do stop_pid "$p"; done
  if [[ -s "$NGINX_PIDFILE" ]]; then stop_pid "$(cat "$NGINX_PIDFILE")"; fi
  if [[ ${KEEP_WORK:-0} = 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need=()
command -v nginx >/dev/null || need+=(nginx-light)
command -v rsync >/dev/null || need+=(rsync)
command -v restic >/dev/null || need+=(restic)
command -v bc >/dev/null || need+=(bc)
command -v curl >/dev/null || need+=(curl)
if [[ ${#need[@]} -gt 0 ]]; then
  log "installing ${need[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v python3 >/dev/null || die "python3 is needed"

"$ROOT/bench/make-corpus.sh" $([[ $QUICK = 1 ]] && echo --quick) "$CORPUS" >&2
BASE="$CORPUS/base.img"; USER_IMG="$CORPUS/user.img"; APP="$CORPUS/app.img"
SIZE=$(stat -c %s "$BASE")
ALLOC=$(( $(stat -c %b "$BASE") * 512 ))
APP_SIZE=$(stat -c %s "$APP"); APP_ALLOC=$(( $(stat -c %b "$APP") * 512 ))
"$ROOT/cairn" --version >/dev/null  # build before timing anything
export CAIRN_SKIP_BUILD=1
export RESTIC_PASSWORD=bench

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
spread() { sort -g | awk 'NR==1{min=$1} {max=$1} END {printf "%.2f-%.2f", min, max}'; }
calc() { echo "$1" | bc -l | awk '{printf "%.6f\n", $1}'; }  # awk: bc prints .5, which JSON rejects
jget() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
stat_get() { curl -sf "$1/v1/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rss_kb() { local k v _; while read -r k v _; do [[ $k == "$2:" ]] && { echo "$v"; return; }; done < "/proc/$1/status"; echo 0; }

# start_server DATADIR: starts `cairn serve` on a free loopback port; sets SPID and URL
start_server() {
  local data="$1" out="$WORK/serve.$RANDOM.out" i
  CAIRN_JAVA_OPTS="$JAVA_OPTS" "$ROOT/cairn" serve --data "$data" --bind 127.0.0.1 --port 0 >"$out" 2>"$out.err" &
  SPID=$!; SERVER_PIDS+=("$SPID"); URL=""
  for ((i = 0; i < 600; i++)); do
    URL=$(sed -n 's|^cairn: serving store .* on \(http://127\.0\.0\.1:[0-9]*\)$|\1|p' "$out")
    [[ -n "$URL" ]] && break
    kill -0 "$SPID" 2>/dev/null || { cat "$out" "$out.err" >&2; die "cairn serve exited"; }
    sleep 0.1
  done
  [[ -n "$URL" ]] || die "cairn serve printed no URL within 60 s"
  [[ "$(cat /proc/$SPID/comm)" == java ]] || die "server pid $SPID is not the JVM"
}
stop_server() {  # stops SPID and forgets it, so cleanup never signals a reused pid
  local keep=() p
  stop_pid "$SPID"
  for p in "${SERVER_PIDS[@]}"; do [[ $p == "$SPID" ]] || keep+=("$p"); done
  SERVER_PIDS=("${keep[@]}")
}

start_nginx() {
  local p="$WORK/nginx" t opts=""
  mkdir -p "$p/tmp"
  NPORT=$(free_port)
  # Temp paths in our prefix, for the modules this nginx was built with.
  for t in client_body proxy fastcgi uwsgi scgi; do
    if nginx -V 2>&1 | grep -q -- "--http-${t/_/-}-temp-path"; then opts+="  ${t}_temp_path $p/tmp/$t;"$'\n'; fi
  done
  cat > "$p/nginx.conf" <<EOF
daemon on;
worker_processes auto;
pid $NGINX_PIDFILE;
error_log $p/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  default_type application/octet-stream;
$opts  server {
    listen 127.0.0.1:$NPORT;
    root $CORPUS;
    location / { }
  }
}
EOF
  nginx -e "$p/error.log" -p "$p" -c "$p/nginx.conf" || { cat "$p/error.log" >&2; die "nginx did not start"; }
  NGINX="http://127.0.0.1:$NPORT"
  local i
  for ((i = 0; i < 100; i++)); do curl -sf -o /dev/null -r 0-0 "$NGINX/base.img" && return 0; sleep 0.1; done
  die "nginx does not answer on $NGINX"
}

# measure NAME SETUP CMD: times CMD (after SETUP, untimed) RUNS times; CMD's output goes to WORK/NAME.log
declare -A T SP
measure() {
  local name="$1" setup="$2" cmd="$3" times=() r t0
  for ((r = 0; r < RUNS; r++)); do
    eval "$setup"
    sync; t0=$(now)
    eval "$cmd" >"$WORK/$name.log" 2>"$WORK/$name.err" || { echo "serve-bench: $name failed:"; cat "$WORK/$name.log" "$WORK/$name.err"; exit 1; } >&2
    times+=("$(calc "$(now) - $t0")")
    eval "${AFTER:-:}"
  done
  T[$name]=$(printf '%s\n' "${times[@]}" | median)
  SP[$name]=$(printf '%s\n' "${times[@]}" | spread)
  printf 'serve-bench: %-14s %8.2f s (%s)\n' "$name" "${T[$name]}" "${SP[$name]}" >&2
}
# getc ARGS: curl that prints "HTTP_CODE BYTES" for curl_ok
getc() { curl -s -w '%{http_code} %{size_download}' "$@"; }
# curl_ok FILE EXPECTEDBYTES: checks a curl -w '%{http_code} %{size_download}' record
curl_ok() { local code="" got=""; read -r code got < "$1" || true; [[ ( $code == 200 || $code == 206 ) && $got == "$2" ]] || die "download got HTTP $code, $got bytes, expected $2 ($1)"; }

cat "$BASE" "$USER_IMG" "$APP" > /dev/null  # page cache warm: every tool reads from memory

# ---- reference: non-zero 4 KiB blocks of user.img that occur nowhere in base.img ----
log "counting user.img blocks absent from base.img"
read -r CHANGED_BLOCKS CHANGED_DISTINCT USER_NONZERO < <(python3 - "$BASE" "$USER_IMG" <<'EOF'
import hashlib, sys
B = 4096; zero = bytes(B)
def blocks(path):
    with open(path, 'rb') as f:
        while True:
            b = f.read(B)
            if not b: return
            if b != zero[:len(b)]: yield hashlib.sha256(b).digest()
base = set(blocks(sys.argv[1]))
changed = 0; distinct = set(); nonzero = 0
for d in blocks(sys.argv[2]):
    nonzero += 1
    if d not in base: changed += 1; distinct.add(d)
print(changed, len(distinct), nonzero)
EOF
)
CHANGED_BYTES=$(( CHANGED_BLOCKS * 4096 ))
log "user.img: $CHANGED_BLOCKS of $USER_NONZERO non-zero blocks not in base.img ($CHANGED_DISTINCT distinct)"

# ---- store with base and user; server S1 ----
log "importing base.img and user.img"
S1="$WORK/store1"
"$ROOT/cairn" import "$BASE" --name bench/base:v1 --data "$S1" --json > "$WORK/import-base.json"
"$ROOT/cairn" import "$USER_IMG" --name bench/user:v1 --data "$S1" --json > "$WORK/import-user.json"
start_server "$S1"; S1PID=$SPID; S1URL=$URL
start_nginx
log "cairn at $S1URL (pid $S1PID), nginx at $NGINX"
DISK="$S1URL/v1/images/bench/base:v1/disk"

# ---- 1. raw GET ----
# Untimed: check the bytes once, and warm both servers (JIT, page cache).
curl -sf "$DISK" | cmp - "$BASE" || die "GET $DISK differs from base.img"
curl -sf "$NGINX/base.img" | cmp - "$BASE" || die "nginx's base.img differs"
AFTER='curl_ok "$WORK/$name.log" $SIZE'
measure get-cairn "" 'getc -o /dev/null "$DISK"'
measure get-nginx "" 'getc -o /dev/null "$NGINX/base.img"'

# ---- 2. pulls ----
# Cold pull (fresh cache each run) and, after it, a warm pull from the same cache.
AFTER=""
PULLED="$WORK/pulled.img"
measure pull-cold 'rm -rf "$WORK/cache" "$PULLED"' \
  '"$ROOT/cairn" pull bench/base:v1 "$PULLED" --server "$S1URL" --cache "$WORK/cache" --json'
cp "$WORK/pull-cold.log" "$WORK/pull-cold.json"
cmp "$PULLED" "$BASE" || die "pulled base differs from base.img"
measure pull-warm 'rm -f "$PULLED"' \
  '"$ROOT/cairn" pull bench/base:v1 "$PULLED" --server "$S1URL" --cache "$WORK/cache" --json'
cp "$WORK/pull-warm.log" "$WORK/pull-warm.json"
measure pull-nosync 'rm -rf "$WORK/cache" "$PULLED"' \
  '"$ROOT/cairn" pull bench/base:v1 "$PULLED" --server "$S1URL" --cache "$WORK/cache" --json --no-sync'
AFTER='curl_ok "$WORK/$name.log" $SIZE'
measure curl-fsync 'rm -f "$PULLED"' 'getc -o "$PULLED" "$NGINX/base.img" && sync "$PULLED"'
measure curl 'rm -f "$PULLED"' 'getc -o "$PULLED" "$NGINX/base.img"'
AFTER=""
rm -f "$PULLED"

# Delta pull: user.img from the server, base.img as seed, fresh cache each run.
sb0=$(stat_get "$S1URL" bytesServed); bb0=$(stat_get "$S1URL" blockBytesServed)
measure pull-delta 'rm -rf "$WORK/cache2" "$PULLED"' \
  '"$ROOT/cairn" pull bench/user:v1 "$PULLED" --server "$S1URL" --cache "$WORK/cache2" --seed "$BASE" --json'
sb1=$(stat_get "$S1URL" bytesServed); bb1=$(stat_get "$S1URL" blockBytesServed)
cp "$WORK/pull-delta.log" "$WORK/pull-delta.json"
cmp "$PULLED" "$USER_IMG" || die "delta-pulled user differs from user.img"
rm -f "$PULLED"
DELTA_FETCHED=$(jget "$WORK/pull-delta.json" bytesFetched)
DELTA_SERVED=$(( (sb1 - sb0) / RUNS )); DELTA_BLOCKSERVED=$(( (bb1 - bb0) / RUNS ))
S1_HWM=$(rss_kb "$S1PID" VmHWM)

# rsync as the delta peer: the batch file holds what rsync would send to update a copy of base.img.
cp --sparse=always "$BASE" "$WORK/basecopy.img"
measure rsync-batch 'rm -f "$WORK/rsync.batch" "$WORK/rsync.batch.sh"' \
  'rsync --no-whole-file -I --only-write-batch="$WORK/rsync.batch" "$USER_IMG" "$WORK/basecopy.img"'
RSYNC_BATCH=$(stat -c %s "$WORK/rsync.batch")
rm -f "$WORK/basecopy.img" "$WORK/rsync.batch"
stop_server

# ---- 3. push ----
# user.img to a server that holds only base.img (a copy of one template store per run).
"$ROOT/cairn" import "$BASE" --name bench/base:v1 --data "$WORK/store-base" --json > /dev/null
PUSH_SETUP='rm -rf "$WORK/store2" "$WORK/pcache"; cp -a "$WORK/store-base" "$WORK/store2"; start_server "$WORK/store2"; pr0=$(stat_get "$URL" blockBytesReceived)'
AFTER='pr1=$(stat_get "$URL" blockBytesReceived); stop_server'
measure push-delta "$PUSH_SETUP" \
  '"$ROOT/cairn" push "$USER_IMG" bench/user2:v1 --server "$URL" --cache "$WORK/pcache" --json'
cp "$WORK/push-delta.log" "$WORK/push-delta.json"
PUSH_SENT=$(jget "$WORK/push-delta.json" bytesSent); PUSH_RECEIVED=$(( pr1 - pr0 ))
rm -rf "$WORK/store2" "$WORK/store-base"
# Cold push of app.img to an empty server vs restic backup into a fresh repository.
measure push-cold 'rm -rf "$WORK/store3" "$WORK/pcache"; start_server "$WORK/store3"' \
  '"$ROOT/cairn" push "$APP" bench/app:v1 --server "$URL" --cache "$WORK/pcache" --json'
AFTER=""
cp "$WORK/push-cold.log" "$WORK/push-cold.json"
COLD_SENT=$(jget "$WORK/push-cold.json" bytesSent)
rm -rf "$WORK/store3" "$WORK/pcache"
measure restic 'rm -rf "$WORK/restic"; restic init --repo "$WORK/restic" >/dev/null' \
  'restic backup --repo "$WORK/restic" "$APP"'
RESTIC_STORED=$(du -sb "$WORK/restic" | cut -f1)
rm -rf "$WORK/restic"

# ---- 4. RSS under 64 concurrent downloads (fresh server on store1) ----
start_server "$S1"; DISK="$URL/v1/images/bench/base:v1/disk"
curl -sf -o /dev/null "$DISK"  # one warm-up download
RSS_BEFORE=$(rss_kb "$SPID" VmRSS)
QUARTER=$(( SIZE / 4 / 4096 * 4096 )); STEP=$(( SIZE / 64 / 4096 * 4096 ))
cpids=(); EXPECTED=0
for ((i = 0; i < 64; i++)); do
  if (( i % 8 == 0 )); then range=(); len=$SIZE       # every 8th: the whole disk
  else start=$(( (i % 48) * STEP )); len=$QUARTER; range=(-r "$start-$(( start + len - 1 ))"); fi
  EXPECTED=$(( EXPECTED + len ))
  echo "$len" > "$WORK/c$i.len"
  curl -s --max-time 600 -o /dev/null -w '%{http_code} %{size_download}' "${range[@]}" "$DISK" > "$WORK/c$i.out" 2>&1 &
  cpids+=($!)
done
t0=$(now); RSS_PEAK=0; samples=0
for ((s = 0; s < 6500; s++)); do  # at most ~11 min; curl's --max-time ends them before
  r=$(rss_kb "$SPID" VmRSS); (( r > RSS_PEAK )) && RSS_PEAK=$r; samples=$((samples + 1))
  alive=0; for p in "${cpids[@]}"; do kill -0 "$p" 2>/dev/null && { alive=1; break; }; done
  (( alive )) || break
  sleep 0.1
done
CONC_SECONDS=$(calc "$(now) - $t0")
for p in "${cpids[@]}"; do wait "$p" || true; done
CONC_FAILED=0
for ((i = 0; i < 64; i++)); do
  read -r code got < "$WORK/c$i.out" || true
  [[ ( $code == 200 || $code == 206 ) && $got == "$(cat "$WORK/c$i.len")" ]] || { CONC_FAILED=$((CONC_FAILED + 1)); log "download $i: $(cat "$WORK/c$i.out")"; }
done
RSS_HWM=$(rss_kb "$SPID" VmHWM)
log "64 downloads: $((EXPECTED >> 20)) MiB in $(printf '%.1f' "$CONC_SECONDS") s, $CONC_FAILED failed; RSS peak sampled $((RSS_PEAK >> 10)) MiB, VmHWM $((RSS_HWM >> 10)) MiB"
stop_server

# ---- report ----
inner() { printf '%.2f s' "$(jget "$WORK/$1.json" seconds)"; }
mbps() { calc "$1 / $2 / 1000000"; }
ratio() { calc "$1 / $2"; }
met() { awk -v a="$1" -v op="$2" -v b="$3" 'BEGIN{ok = (op == ">=") ? a >= b : (op == "<=") ? a <= b : a < b; print ok ? "met" : "not met"}'; }
GET_RATIO=$(ratio "${T[get-nginx]}" "${T[get-cairn]}")
PULL_RATIO=$(ratio "${T[curl-fsync]}" "${T[pull-cold]}")
PULL_RATIO_NOSYNC=$(ratio "${T[curl]}" "${T[pull-nosync]}")
DELTA_RATIO=$(ratio "$DELTA_FETCHED" "$CHANGED_BYTES")
RSS_MB=$(( RSS_HWM / 1024 ))
MiB() { printf '%.1f' "$(calc "$1 / 1048576")"; }
row() {  # row LABEL NAME BYTES_APPARENT BYTES_ALLOC VS
  printf '| %s | %.2f (%s) | %.0f | %.0f | %s |\n' "$1" "${T[$2]}" "${SP[$2]}" "$(mbps "$3" "${T[$2]}")" "$(mbps "$4" "${T[$2]}")" "$5"
}
{
  echo "# Serve benchmark"
  echo
  echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r), nginx $(nginx -v 2>&1 | sed 's|.*/||'), $(rsync --version | head -1 | awk '{print $1, $3}'), $(restic version | awk '{print $1, $2}');"
  echo "corpus: $(basename "$CORPUS"), base.img apparent $((SIZE >> 20)) MiB, allocated $((ALLOC >> 20)) MiB; app.img allocated $((APP_ALLOC >> 20)) MiB;"
  echo "loopback only; page cache warm; median of $RUNS run(s) (spread in brackets); every \`cairn serve\` ran with CAIRN_JAVA_OPTS=$JAVA_OPTS."
  echo
  echo "## Downloads of base.img"
  echo
  echo "| what | time s (spread) | MB/s apparent | MB/s non-zero data | Cairn speed vs it |"
  echo "|---|---|---|---|---|"
  row "GET /v1/images/…/disk from cairn serve (curl to /dev/null)" get-cairn "$SIZE" "$ALLOC" "1.00x"
  row "GET base.img from nginx, sendfile on (curl to /dev/null)" get-nginx "$SIZE" "$ALLOC" "$(printf '%.2fx' "$GET_RATIO")"
  row "cairn pull, cold cache (fsync, default)" pull-cold "$SIZE" "$ALLOC" "1.00x"
  row "curl -o from nginx, then fsync (\`sync FILE\`)" curl-fsync "$SIZE" "$ALLOC" "$(printf '%.2fx' "$PULL_RATIO")"
  row "cairn pull --no-sync, cold cache" pull-nosync "$SIZE" "$ALLOC" "1.00x"
  row "curl -o from nginx, no fsync" curl "$SIZE" "$ALLOC" "$(printf '%.2fx' "$PULL_RATIO_NOSYNC")"
  row "cairn pull, warm cache (same cache again)" pull-warm "$SIZE" "$ALLOC" "-"
  echo
  echo "\"Cairn speed vs it\" above 1 means Cairn is faster. Cold pull fetched $(MiB "$(jget "$WORK/pull-cold.json" bytesFetched)") MiB,"
  echo "warm pull $(MiB "$(jget "$WORK/pull-warm.json" bytesFetched)") MiB (bytesFetched). curl -o writes every byte of the file, zeros included; cairn pull writes a sparse file."
  echo
  echo "## Deltas: user.img (base.img already there)"
  echo
  echo "Reference: $CHANGED_BLOCKS of user.img's $USER_NONZERO non-zero 4 KiB blocks occur nowhere in base.img ($CHANGED_DISTINCT distinct) = $(MiB "$CHANGED_BYTES") MiB."
  echo
  echo "| what | time s (spread) | bytes moved | MiB | vs changed blocks |"
  echo "|---|---|---|---|---|"
  printf '| cairn pull --seed base.img: bytesFetched (client JSON) | %.2f (%s) | %s | %s | %.2fx |\n' "${T[pull-delta]}" "${SP[pull-delta]}" "$DELTA_FETCHED" "$(MiB "$DELTA_FETCHED")" "$DELTA_RATIO"
  printf '| same pull: server bytesServed (body bytes, incl. pages) | | %s | %s | %.2fx |\n' "$DELTA_SERVED" "$(MiB "$DELTA_SERVED")" "$(ratio "$DELTA_SERVED" "$CHANGED_BYTES")"
  printf '| same pull: server blockBytesServed | | %s | %s | %.2fx |\n' "$DELTA_BLOCKSERVED" "$(MiB "$DELTA_BLOCKSERVED")" "$(ratio "$DELTA_BLOCKSERVED" "$CHANGED_BYTES")"
  printf '| rsync --no-whole-file --only-write-batch (batch size) | %.2f (%s) | %s | %s | %.2fx |\n' "${T[rsync-batch]}" "${SP[rsync-batch]}" "$RSYNC_BATCH" "$(MiB "$RSYNC_BATCH")" "$(ratio "$RSYNC_BATCH" "$CHANGED_BYTES")"
  printf '| cairn push user.img to a server holding base: bytesSent | %.2f (%s) | %s | %s | %.2fx |\n' "${T[push-delta]}" "${SP[push-delta]}" "$PUSH_SENT" "$(MiB "$PUSH_SENT")" "$(ratio "$PUSH_SENT" "$CHANGED_BYTES")"
  printf '| same push: server blockBytesReceived | | %s | %s | %.2fx |\n' "$PUSH_RECEIVED" "$(MiB "$PUSH_RECEIVED")" "$(ratio "$PUSH_RECEIVED" "$CHANGED_BYTES")"
  echo
  echo "Server counters are per pull/push (delta over all runs divided by $RUNS). rsync's batch is uncompressed (no -z) and uses rsync's default block size."
  echo
  echo "## Cold push of app.img"
  echo
  echo "| what | time s (spread) | MB/s apparent | MB/s non-zero data | Cairn speed vs it |"
  echo "|---|---|---|---|---|"
  row "cairn push to an empty server (fresh cache)" push-cold "$APP_SIZE" "$APP_ALLOC" "1.00x"
  row "restic backup into a fresh local repository" restic "$APP_SIZE" "$APP_ALLOC" "$(printf '%.2fx' "$(ratio "${T[restic]}" "${T[push-cold]}")")"
  echo
  echo "cairn push sent $(MiB "$COLD_SENT") MiB; the restic repository holds $(MiB "$RESTIC_STORED") MiB."
  echo
  echo "Cairn's own clock (JSON \"seconds\", without JVM start; last run): pull cold $(inner pull-cold), warm $(inner pull-warm), delta $(inner pull-delta);"
  echo "push of user.img $(inner push-delta), cold push of app.img $(inner push-cold)."
  echo
  echo "## Server memory"
  echo
  echo "64 concurrent curl downloads of the disk (8 whole, 56 ranges of a quarter at different offsets; $((EXPECTED >> 20)) MiB in all)"
  echo "from a fresh server (CAIRN_JAVA_OPTS=$JAVA_OPTS): $(printf '%.1f' "$CONC_SECONDS") s, $CONC_FAILED failed or short."
  echo "RSS before $((RSS_BEFORE >> 10)) MiB; peak of $samples samples (every 0.1 s) $((RSS_PEAK >> 10)) MiB; VmHWM after $RSS_MB MiB."
  echo "The server used for the GETs and pulls above reached VmHWM $((S1_HWM >> 10)) MiB."
  echo
  echo "## Targets"
  echo
  echo "- raw GET >= 0.8x nginx on non-zero data: $(printf '%.2fx' "$GET_RATIO") ($(met "$GET_RATIO" ">=" 0.8))"
  echo "- cold pull >= curl from nginx (both fsync): $(printf '%.2fx' "$PULL_RATIO") ($(met "$PULL_RATIO" ">=" 1)); without fsync: $(printf '%.2fx' "$PULL_RATIO_NOSYNC") ($(met "$PULL_RATIO_NOSYNC" ">=" 1))"
  echo "- delta pull <= 1.1x changed blocks' bytes: $(printf '%.2fx' "$DELTA_RATIO") ($(met "$DELTA_RATIO" "<=" 1.1))"
  echo "- server RSS < 512 MiB under 64 concurrent downloads (VmHWM, -Xmx256m): $RSS_MB MiB ($(met "$RSS_HWM" "<" $((512 * 1024))))$( (( CONC_FAILED > 0 )) && echo "; $CONC_FAILED downloads failed")"
} > "$OUT/serve.md"
{
  printf '{"corpus": "%s", "runs": %s, "javaOpts": "%s", "baseApparentBytes": %s, "baseAllocatedBytes": %s, "appAllocatedBytes": %s,\n' \
    "$(basename "$CORPUS")" "$RUNS" "$JAVA_OPTS" "$SIZE" "$ALLOC" "$APP_ALLOC"
  printf ' "seconds": {'; sep=""
  for n in get-cairn get-nginx pull-cold curl-fsync pull-nosync curl pull-warm pull-delta rsync-batch push-delta push-cold restic; do
    printf '%s"%s": %s' "$sep" "$n" "${T[$n]}"; sep=", "
  done
  printf '},\n "delta": {"changedBlocks": %s, "changedDistinctBlocks": %s, "userNonZeroBlocks": %s, "changedBytes": %s, "pullBytesFetched": %s, "pullServerBytesServed": %s, "pullServerBlockBytesServed": %s, "rsyncBatchBytes": %s, "pushBytesSent": %s, "pushServerBlockBytesReceived": %s},\n' \
    "$CHANGED_BLOCKS" "$CHANGED_DISTINCT" "$USER_NONZERO" "$CHANGED_BYTES" "$DELTA_FETCHED" "$DELTA_SERVED" "$DELTA_BLOCKSERVED" "$RSYNC_BATCH" "$PUSH_SENT" "$PUSH_RECEIVED"
  printf ' "pullColdBytesFetched": %s, "pullWarmBytesFetched": %s, "pushColdBytesSent": %s, "resticStoredBytes": %s,\n' \
    "$(jget "$WORK/pull-cold.json" bytesFetched)" "$(jget "$WORK/pull-warm.json" bytesFetched)" "$COLD_SENT" "$RESTIC_STORED"
  printf ' "rss": {"downloads": 64, "bytesRequested": %s, "seconds": %s, "failed": %s, "beforeKiB": %s, "peakSampledKiB": %s, "hwmKiB": %s, "getPullServerHwmKiB": %s},\n' \
    "$EXPECTED" "$CONC_SECONDS" "$CONC_FAILED" "$RSS_BEFORE" "$RSS_PEAK" "$RSS_HWM" "$S1_HWM"
  printf ' "ratios": {"getVsNginx": %s, "pullVsCurlFsync": %s, "pullVsCurlNoSync": %s, "deltaPullVsChanged": %s}}\n' \
    "$GET_RATIO" "$PULL_RATIO" "$PULL_RATIO_NOSYNC" "$DELTA_RATIO"
} > "$OUT/serve.json"
python3 -m json.tool "$OUT/serve.json" > /dev/null || die "serve.json is not valid JSON"
cat "$OUT/serve.md"
