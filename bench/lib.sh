# lib.sh -- helpers shared by the benchmark scripts in bench/. Source it; it does nothing on its own.
#
# Every measurement is printed as one JSON line to $JSONL (see io.cairn.bench.Results for the format):
#   emit ID UNIT VALUE...   one sample, or several at once
#   note KEY TEXT           a fact about the run (tool version, load average, ...)
# The report generator (bench module, io.cairn.bench.BenchReport) turns the lines into results.json,
# report.md and charts.

export LC_ALL=C
BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERVER_JAVA_OPTS="${SERVER_JAVA_OPTS:--Xmx256m}"
SERVER_PIDS=()      # every cairn serve we started (the launcher execs java, so $! is the JVM)
FAILED=()           # ids of measurements that failed
declare -A TOKENS   # data dir -> admin token; `cairn serve` prints it on a store's first start only

log() { echo "${BENCH_NAME:-bench}: $*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s.%N; }
calc() { echo "$1" | bc -l | awk '{printf "%.6f\n", $1}'; }  # awk: bc prints .5, which JSON rejects
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

json_str() {
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//$'\n'/\\n}; s=${s//$'\t'/\\t}; s=${s//$'\r'/}
  printf '"%s"' "$s"
}
# emit ID UNIT VALUE...: one sample per call, or an array of samples; an empty value becomes null,
# which the report counts as a failed measurement rather than a zero.
emit() {
  local id=$1 unit=$2 v; shift 2
  if (( $# == 1 )); then v=${1:-null}; else v="[$(IFS=,; echo "$*")]"; fi
  printf '{"m": "%s", "unit": "%s", "v": %s}\n' "$id" "$unit" "$v" >> "$JSONL"
}
note() { printf '{"info": "%s", "v": %s}\n' "$1" "$(json_str "$2")" >> "$JSONL"; }

# measure ID RUNS SETUP CMD: runs SETUP (untimed) then CMD, RUNS times, and emits each run's seconds as ID.
# AFTER (a command string, optional) runs after each timed run. A failing run is logged and recorded in
# FAILED; the remaining runs are skipped, and the script goes on with the next measurement.
measure() {
  local id=$1 runs=$2 setup=$3 cmd=$4 r t0 t
  for ((r = 0; r < runs; r++)); do
    eval "$setup"
    sync; t0=$(now)
    if ! eval "$cmd" >"$WORK/$id.log" 2>"$WORK/$id.err"; then
      log "$id failed:"; tail -n 20 "$WORK/$id.log" "$WORK/$id.err" >&2
      FAILED+=("$id"); return 0
    fi
    t=$(calc "$(now) - $t0")
    if [[ -n "${AFTER:-}" ]] && ! eval "$AFTER"; then
      log "$id: check after the run failed"; FAILED+=("$id"); return 0
    fi
    emit "$id" s "$t"
    printf '%s: %-22s %8.2f s  (run %d/%d)\n' "${BENCH_NAME:-bench}" "$id" "$t" $((r + 1)) "$runs" >&2
  done
}

# jget FILE KEY: a top-level field of a JSON file, or nothing if the file or field is missing
jget() { python3 -c 'import json,sys
try: print(json.load(open(sys.argv[1]))[sys.argv[2]])
except Exception: pass' "$1" "$2"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rss_kb() { local k v _; while read -r k v _; do [[ $k == "$2:" ]] && { echo "$v"; return; }; done < "/proc/$1/status"; echo 0; }
apparent() { stat -c %s "$1"; }
allocated() { echo $(( $(stat -c %b "$1") * 512 )); }

# install_peers CMD:PACKAGE...: installs the Debian packages of the commands that are missing
install_peers() {
  local need=() p
  for p in "$@"; do command -v "${p%%:*}" >/dev/null || need+=("${p#*:}"); done
  if [[ ${#need[@]} -gt 0 ]]; then
    log "installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

# bench_setup NAME "$@": parses the options every script takes, creates WORK, and sets QUICK, CORPUS, OUT,
# JSONL, RUNS, STANDALONE. Unknown options are left in EXTRA_ARGS for the script.
bench_setup() {
  BENCH_NAME=$1; shift
  QUICK=0; CORPUS=""; OUT="$BENCH_ROOT/bench-out"; JSONL=""; RUNS=""; EXTRA_ARGS=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --quick) QUICK=1 ;;
      --corpus) CORPUS="$2"; shift ;;
      --out) OUT="$2"; shift ;;
      --jsonl) JSONL="$2"; shift ;;
      --runs) RUNS="$2"; shift ;;
      *) EXTRA_ARGS+=("$1") ;;
    esac
    shift
  done
  [[ -n "$RUNS" ]] || RUNS=$(( QUICK ? 1 : 3 ))
  [[ "$RUNS" =~ ^[1-9][0-9]?$ ]] || die "--runs must be 1..99"
  [[ -n "$CORPUS" ]] || CORPUS="${TMPDIR:-/tmp}/corpus-$([[ $QUICK = 1 ]] && echo quick || echo full)"
  mkdir -p "$OUT"; OUT="$(cd "$OUT" && pwd)"
  # Without --jsonl a script runs on its own: it writes OUT/measurements.jsonl and the report itself.
  STANDALONE=0
  if [[ -z "$JSONL" ]]; then STANDALONE=1; JSONL="$OUT/measurements.jsonl"; : > "$JSONL"; fi
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/cairn-$BENCH_NAME.XXXXXX")"
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

# build_cairn: builds the CLI and the report generator once, before anything is timed
build_cairn() {
  if [[ "${CAIRN_SKIP_BUILD:-0}" != 1 ]]; then
    CAIRN_BUILD_BENCH=1 "$BENCH_ROOT/cairn" --version >/dev/null || die "build failed"
  fi
  export CAIRN_SKIP_BUILD=1  # no timed run includes a build check
}

make_corpus() {
  "$BENCH_ROOT/bench/make-corpus.sh" $([[ $QUICK = 1 ]] && echo --quick) "$CORPUS" >&2 || die "make-corpus failed"
  BASE="$CORPUS/base.img"; USER_IMG="$CORPUS/user.img"; APP="$CORPUS/app.img"
}

# note_machine: what the report says about the machine and how busy it was at the start
note_machine() {
  note run.date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  note run.mode "$([[ $QUICK = 1 ]] && echo quick || echo full)"
  note run.runs "$RUNS"
  note run.commit "$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null)$(git -C "$BENCH_ROOT" diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
  note machine.nproc "$(nproc)"
  note machine.cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  note machine.memory "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  note machine.kernel "$(uname -r)"
  note machine.free "$(free -g)"
  note machine.otherJvms "$(pgrep -c -x java || true)"
  note java.version "$(java -version 2>&1 | head -1 | sed 's/"//g')"
  note server.javaOpts "CAIRN_JAVA_OPTS=$SERVER_JAVA_OPTS"
  note load.start "$(loadavg)"
}

# note_corpus: sizes of the images, and the reference for deltas: user.img's non-zero 4 KiB blocks
# that occur nowhere in base.img
note_corpus() {
  local f n changed distinct nonzero
  note corpus.mode "$(cut -d' ' -f2- "$CORPUS/.corpus-ok" 2>/dev/null)"
  note corpus.dir "$CORPUS"
  for n in base app user; do
    f="$CORPUS/$n.img"
    emit "corpus.$n.apparentBytes" B "$(apparent "$f")"
    emit "corpus.$n.allocatedBytes" B "$(allocated "$f")"
  done
  # Counting takes a while on the full corpus; the answer is kept next to the corpus, keyed by its stamp
  # and the images' modification times, so a rebuilt corpus is counted again.
  local key cache="$CORPUS/.bench-changed-blocks"
  key="$(cat "$CORPUS/.corpus-ok" 2>/dev/null) $(stat -c %Y "$BASE" "$USER_IMG" | tr '\n' ' ')"
  if [[ -f "$cache" && "$(head -1 "$cache")" == "$key" ]]; then
    read -r changed distinct nonzero < <(sed -n 2p "$cache")
  else
    log "counting user.img blocks absent from base.img"
    read -r changed distinct nonzero < <(python3 - "$BASE" "$USER_IMG" <<'EOF'
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
    printf '%s\n%s %s %s\n' "$key" "$changed" "$distinct" "$nonzero" > "$cache" 2>/dev/null || true
  fi
  emit corpus.changedBlocks blocks "$changed"
  emit corpus.changedBytes B "$(( changed * 4096 ))"
  emit corpus.userNonZeroBlocks blocks "$nonzero"
  log "user.img: $changed of $nonzero non-zero blocks not in base.img ($distinct distinct)"
}

# ---- cairn serve --------------------------------------------------------------------------------
stop_pid() {  # stop_pid PID: SIGTERM, wait at most 30 s, then SIGKILL
  local pid="$1" i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 300; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "pid $pid did not stop after 30 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
}

# start_server DATADIR [ARGS...]: `cairn serve` on a free loopback port; sets SPID, URL, TOKEN and AUTH
# (curl arguments that send the admin token)
start_server() {
  local data="$1" out i t; shift
  SERVER_SEQ=$(( ${SERVER_SEQ:-0} + 1 )); out="$WORK/serve.$SERVER_SEQ.out"
  : > "$out"  # before the server's shell opens it: the sed below must not race the background redirect
  CAIRN_JAVA_OPTS="$SERVER_JAVA_OPTS" "$BENCH_ROOT/cairn" serve --data "$data" --bind 127.0.0.1 --port 0 "$@" \
    >"$out" 2>"$out.err" &
  SPID=$!; SERVER_PIDS+=("$SPID"); URL=""
  for ((i = 0; i < 600; i++)); do
    URL=$(sed -n 's|^cairn: serving store .* on \(http://127\.0\.0\.1:[0-9]*\)$|\1|p' "$out")
    [[ -n "$URL" ]] && break
    kill -0 "$SPID" 2>/dev/null || { cat "$out" "$out.err" >&2; die "cairn serve exited"; }
    sleep 0.1
  done
  [[ -n "$URL" ]] || die "cairn serve printed no URL within 60 s"
  [[ "$(cat "/proc/$SPID/comm")" == java ]] || die "server pid $SPID is not the JVM"
  t=$(sed -n 's/^.*export CAIRN_TOKEN=\([^ ]*\)$/\1/p' "$out")
  [[ -n "$t" ]] && TOKENS[$data]=$t
  # A store served before (by another script) prints no token: issue admin a new one.
  [[ -n "${TOKENS[$data]:-}" ]] || TOKENS[$data]=$("$BENCH_ROOT/cairn" user token admin --data "$data" 2>/dev/null || true)
  TOKEN=${TOKENS[$data]:-}
  [[ -n "$TOKEN" ]] || die "no admin token for $data: cairn serve printed none and cairn user token failed"
  AUTH=(-H "Authorization: Bearer $TOKEN")
  for ((i = 0; i < 300; i++)); do curl -sf -o /dev/null "$URL/v1/health" && return 0; sleep 0.1; done
  die "cairn serve at $URL is not healthy after 30 s"
}
stop_server() {  # stops SPID and forgets it, so the cleanup never signals a reused pid
  local keep=() p
  stop_pid "$SPID"
  for p in "${SERVER_PIDS[@]}"; do [[ $p == "$SPID" ]] || keep+=("$p"); done
  SERVER_PIDS=("${keep[@]}")
}
# stat_get KEY: a value of the server's /v1/stats; KEY may be a dotted path (diskCache.hits)
stat_get() {
  curl -sf "${AUTH[@]}" "$URL/v1/stats" | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[k]
print(v)' "$1"
}
# cairn_client CMD ARGS...: a client command against the running server, as admin
cairn_client() { CAIRN_TOKEN="$TOKEN" "$BENCH_ROOT/cairn" "$@"; }

# ---- nginx --------------------------------------------------------------------------------------
# start_nginx ROOTDIR: nginx (sendfile on) serving ROOTDIR on a free loopback port; sets NGINX
start_nginx() {
  local p="$WORK/nginx" t opts="" i
  mkdir -p "$p/tmp"
  NGINX_PIDFILE="$p/nginx.pid"
  local port; port=$(free_port)
  for t in client_body proxy fastcgi uwsgi scgi; do  # temp paths in our prefix, for the modules nginx has
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
    listen 127.0.0.1:$port;
    root $1;
    location / { }
  }
}
EOF
  nginx -e "$p/error.log" -p "$p" -c "$p/nginx.conf" || { cat "$p/error.log" >&2; die "nginx did not start"; }
  NGINX="http://127.0.0.1:$port"
  for ((i = 0; i < 100; i++)); do curl -sf -o /dev/null -r 0-0 "$NGINX/base.img" && return 0; sleep 0.1; done
  die "nginx does not answer on $NGINX"
}

# ---- end of a script ----------------------------------------------------------------------------
bench_cleanup() {
  local rc=$? p f
  if [[ $rc != 0 ]]; then  # show what the servers said
    for f in "$WORK"/serve.*.out; do
      [[ -e $f ]] && { echo "--- $f"; grep -v -e ' INFO' -e '^INFO:' -e 'CAIRN_TOKEN' "$f" "$f.err" | tail -20; } >&2
    done
  fi
  for p in "${SERVER_PIDS[@]}"; do stop_pid "$p"; done
  if [[ -n "${NGINX_PIDFILE:-}" && -s "$NGINX_PIDFILE" ]]; then stop_pid "$(cat "$NGINX_PIDFILE")"; fi
  if [[ -n "${CLEANUP_EXTRA:-}" ]]; then eval "$CLEANUP_EXTRA" || true; fi
  if [[ ${KEEP_WORK:-0} = 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}

# bench_report: results.json, report.md and charts from $JSONL into $OUT
bench_report() {
  local jar cp
  jar=$(ls "$BENCH_ROOT"/bench/target/bench-*.jar 2>/dev/null | grep -v -e sources -e tests | head -1)
  [[ -n "$jar" && -f "$BENCH_ROOT/bench/target/classpath.txt" ]] || die "report generator not built (bench/target); run without CAIRN_SKIP_BUILD=1"
  cp="$jar:$(cat "$BENCH_ROOT/bench/target/classpath.txt")"
  java -Djava.awt.headless=true -Dsun.stdout.encoding=UTF-8 -cp "$cp" io.cairn.bench.BenchReport --jsonl "$JSONL" --out "$OUT" >&2
}

# bench_finish: a script run on its own writes its report; any run says which measurements failed
bench_finish() {
  if [[ $STANDALONE = 1 ]]; then
    note load.end "$(loadavg)"
    bench_report
  fi
  if [[ ${#FAILED[@]} -gt 0 ]]; then
    log "FAILED: ${FAILED[*]}"
    return 1
  fi
}

# standalone_notes: a script run on its own notes the machine and the corpus itself (the driver does it once)
standalone_notes() {
  if [[ $STANDALONE = 1 ]]; then note_machine; note_corpus; fi
}
