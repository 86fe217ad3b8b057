#!/usr/bin/env bash
# s3-bench.sh -- Cairn on an S3 object store (a real single-node Ceph RGW) against the embedded store,
# restic's S3 backend and curl of a raw object, in one run.
#
# Usage: bench/s3-bench.sh [--quick] [--corpus DIR] [--out DIR] [--runs N] [--jsonl FILE]
#
# Starts a Ceph cluster with ../shared/ceph/up.sh in the work directory (CEPH_SCRIPTS=DIR picks another
# copy of up.sh/down.sh; memstore, MEM_BYTES 6 GiB, 3 GiB with --quick) and stops it at the end. Then, on
# the corpus images of import-bench.sh (base, app, user; --quick: base, user), page cache warm:
#   1. publish   `cairn push` of the images, one after the other, to a fresh server on an empty embedded
#                store, and to a fresh `cairn serve --store s3://BUCKET/bench` on an empty bucket; peer:
#                `restic backup` of the same files into a fresh restic repository on the same gateway
#   2. requests  the gateway's own counters (perf dump of its admin socket: rgw.put, rgw.get, rgw.req)
#                around each publish and pull: PUTs per GiB of new blocks (the server's blockBytesReceived),
#                GETs per GiB of blocks pulled (the server's blockBytesServed)
#   3. pull      cold `cairn pull` of base.img (fsync, fresh client cache) through a fresh server on the
#                last run's bucket with an empty --data (nothing cached; its start, which rebuilds the
#                location index, is timed on its own), alternating with a cold pull from a fresh server on
#                the embedded store; reference: `curl --aws-sigv4 -o` of base.img stored as one object in
#                the same gateway, then fsync
# Without the Ceph packages (ceph-mon ceph-osd radosgw ceph-common) it notes why and measures nothing;
# the report then says "not available". Publishes and pulls run --runs times (default 3; 1 with --quick).
# Installs restic, bc, curl if missing. Without --jsonl it writes OUT/measurements.jsonl and OUT/report.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup s3 "$@"
set -- "${EXTRA_ARGS[@]+"${EXTRA_ARGS[@]}"}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1" ;;
  esac
  shift
done
CEPH_SCRIPTS="${CEPH_SCRIPTS:-$(cd "$BENCH_ROOT/.." && pwd)/shared/ceph}"

# Without Ceph there is nothing to measure: the report says why instead of counting failures.
s3_unavailable() {
  log "object-store rows skipped: $1"
  note s3.available false
  note s3.reason "$1"
  [[ $STANDALONE = 1 ]] && { note_machine; bench_report; }
  exit 0
}
[[ -x "$CEPH_SCRIPTS/up.sh" ]] || s3_unavailable "no $CEPH_SCRIPTS/up.sh"
for t in ceph-mon ceph-osd radosgw ceph radosgw-admin; do
  command -v "$t" >/dev/null || s3_unavailable "$t missing (apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw ceph-common)"
done
install_peers restic:restic bc:bc curl:curl
build_cairn
make_corpus
standalone_notes
note s3.available true
if [[ $QUICK = 1 ]]; then IMAGES=("$BASE" "$USER_IMG"); else IMAGES=("$BASE" "$APP" "$USER_IMG"); fi
note s3.images "$(for f in "${IMAGES[@]}"; do basename "$f"; done | paste -sd, | sed 's/,/, /g')"
total=0; for f in "${IMAGES[@]}"; do total=$(( total + $(apparent "$f") )); done; emit s3.publish.apparentBytes B "$total"
total=0; for f in "${IMAGES[@]}"; do total=$(( total + $(allocated "$f") )); done; emit s3.publish.allocatedBytes B "$total"
SIZE=$(apparent "$BASE")
note peer.restic "$(restic version | awk '{print $1, $2}')"
note peer.curl "$(curl --version | head -1 | awk '{print $1, $2}')"

# ---- the cluster ----
# Two free ports in a row for the monitor (v2, v1 = +1), one for the gateway.
MON_PORT=$(python3 -c '
import socket
for _ in range(100):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    try:
        b = socket.socket(); b.bind(("127.0.0.1", p + 1)); b.close(); a.close(); print(p); break
    except OSError:
        a.close()')
RGW_PORT=$(free_port)
CEPH_DIR="$WORK/ceph"
CLEANUP_EXTRA='"$CEPH_SCRIPTS/down.sh" "$CEPH_DIR" >/dev/null 2>&1'  # after the servers (bench_cleanup)
MEM=$(( QUICK == 1 ? 3 : 6 ))
t0=$(now)
UP=$(RGW_PORT=$RGW_PORT MON_PORT=$MON_PORT MEM_BYTES=$(( MEM << 30 )) "$CEPH_SCRIPTS/up.sh" "$CEPH_DIR" 2>"$WORK/ceph-up.err" | tail -1) \
  || { cat "$WORK/ceph-up.err" >&2; die "Ceph did not start"; }
eval "$UP"
[[ -n "${S3_ENDPOINT:-}" ]] || die "up.sh printed no endpoint: $UP"
emit s3.clusterStart.seconds s "$(calc "$(now) - $t0")"
note peer.ceph "$(ceph --version | awk '{print "ceph", $3, $5}') (RGW beast, memstore ${MEM} GiB, loopback)"
log "Ceph RGW at $S3_ENDPOINT (mon $MON_PORT)"
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY RESTIC_PASSWORD=bench
CEPH=(-c "$CEPH_DIR/ceph.conf")

s3curl() { curl -s --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"; }
mkbucket() { [[ "$(s3curl -o /dev/null -w '%{http_code}' -X PUT "$S3_ENDPOINT/$1")" == 200 ]] || die "cannot create bucket $1"; }
rmbucket() { radosgw-admin "${CEPH[@]}" bucket rm --bucket="$1" --purge-objects >/dev/null 2>&1 || log "could not delete bucket $1"; }
bucket_bytes() {  # the bucket's stored bytes as the gateway counts them (objects' sizes)
  radosgw-admin "${CEPH[@]}" bucket stats --bucket="$1" | python3 -c '
import json, sys
u = json.load(sys.stdin).get("usage", {})
print(sum(v.get("size", 0) for v in u.values()))'
}
# rgw_counts: "PUT GET REQ" from the gateway's perf counters (PUT/GET of objects; REQ every request,
# LIST and HEAD included)
rgw_counts() {
  ceph "${CEPH[@]}" --admin-daemon "$CEPH_DIR/run/client.rgw.a.asok" perf dump 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)["rgw"]
print(r["put"], r["get"], r["req"])'
}
counts_before() { read -r P0 G0 R0 < <(rgw_counts); }
# counts_after NAME: emits NAME.puts, NAME.gets and NAME.requests since counts_before
counts_after() {
  local p g q
  read -r p g q < <(rgw_counts)
  emit "$1.puts" count $(( p - P0 )); emit "$1.gets" count $(( g - G0 )); emit "$1.requests" count $(( q - R0 ))
}
rgw_counts > /dev/null || die "no perf counters from the gateway's admin socket $CEPH_DIR/run/client.rgw.a.asok"

cat "${IMAGES[@]}" > /dev/null  # page cache warm: every tool reads from memory
note load.before.s3 "$(loadavg)"
PCACHE="$WORK/pcache"

# push_all: the images one after the other to $URL, as bench/NAME:v1
push_all() {
  local f
  for f in "${IMAGES[@]}"; do
    cairn_client push "$f" "bench/$(basename "$f" .img):v1" --server "$URL" --cache "$PCACHE" --json || return 1
  done
}

stop_running() { [[ -z "${SPID:-}" ]] || { stop_server; SPID=""; }; }

# ---- 1. publish ----
# Embedded store: a fresh, empty store per run; the last one stays for the pulls.
EMB="$WORK/embedded"
measure s3.publish.embedded.seconds "$RUNS" 'stop_running; rm -rf "$EMB" "$PCACHE"; start_server "$EMB"' 'push_all'
stop_running
# The bucket store: a fresh bucket per run (the previous one deleted, memstore is memory), a fresh server
# with an empty --data; the gateway's counters around the pushes only (the server's start writes the
# format object and the first user).
S3RUN=0
s3_publish_setup() {
  stop_running
  (( S3RUN == 0 )) || rmbucket "cairn-$S3RUN"
  S3RUN=$(( S3RUN + 1 ))
  mkbucket "cairn-$S3RUN"
  rm -rf "$WORK/s3data" "$PCACHE"
  start_server "$WORK/s3data" --store "s3://cairn-$S3RUN/bench" --s3-endpoint "$S3_ENDPOINT"
  RECV0=$(stat_get blockBytesReceived)
  counts_before
}
s3_publish_after() {
  counts_after s3.publish
  emit s3.publish.newBytes B $(( $(stat_get blockBytesReceived) - RECV0 ))
  emit s3.publish.storedBytes B "$(bucket_bytes "cairn-$S3RUN")"
}
AFTER=s3_publish_after
measure s3.publish.s3.seconds "$RUNS" 's3_publish_setup' 'push_all'
AFTER=""
stop_running
S3STORE="s3://cairn-$S3RUN/bench"
# restic: a fresh repository in a fresh bucket per run
RRUN=0
restic_setup() {
  (( RRUN == 0 )) || rmbucket "restic-$RRUN"
  RRUN=$(( RRUN + 1 ))
  mkbucket "restic-$RRUN"
  restic init -r "s3:$S3_ENDPOINT/restic-$RRUN" > /dev/null
  counts_before
}
restic_after() {
  counts_after s3.restic
  emit s3.restic.storedBytes B "$(bucket_bytes "restic-$RRUN")"
}
AFTER=restic_after
measure s3.restic.seconds "$RUNS" 'restic_setup' 'restic backup -r "s3:$S3_ENDPOINT/restic-$RRUN" "${IMAGES[@]}"'
AFTER=""
rmbucket "restic-$RRUN"

# ---- 2. cold pulls of base.img ----
PULLED="$WORK/pulled.img"
pull_check() { cmp -s "$PULLED" "$BASE" || { log "pulled base.img differs"; return 1; }; }
# A fresh server with an empty --data on the bucket (its start, the location index rebuilt from the
# packs' tails, is emitted on its own), the gateway's counters around the pull only.
s3_pull_setup() {
  local t
  rm -rf "$WORK/s3data" "$WORK/cache" "$PULLED"
  t=$(now)
  start_server "$WORK/s3data" --store "$S3STORE" --s3-endpoint "$S3_ENDPOINT"
  emit s3.serverStart.seconds s "$(calc "$(now) - $t")"
  SERVED0=$(stat_get blockBytesServed)
  counts_before
}
s3_pull_after() {
  counts_after s3.pull
  emit s3.pull.blockBytes B $(( $(stat_get blockBytesServed) - SERVED0 ))
  emit s3.pull.fetchedBytes B "$(jget "$WORK/s3.pull.s3.seconds.log" bytesFetched)"
  stop_running
  pull_check
}
emb_pull_after() { stop_running; pull_check; }
# Alternating, one of each at a time, so that neither gets the quieter minutes.
for ((r = 0; r < RUNS; r++)); do
  AFTER=s3_pull_after
  measure s3.pull.s3.seconds 1 's3_pull_setup' \
    'cairn_client pull bench/base:v1 "$PULLED" --server "$URL" --cache "$WORK/cache" --json'
  AFTER=emb_pull_after
  measure s3.pull.embedded.seconds 1 'rm -rf "$WORK/cache" "$PULLED"; start_server "$EMB"' \
    'cairn_client pull bench/base:v1 "$PULLED" --server "$URL" --cache "$WORK/cache" --json'
done
AFTER=""
rm -rf "$EMB" "$WORK/cache"
# curl of the raw file from the gateway: base.img as one object (its upload timed once, for reference)
mkbucket raw
t0=$(now)
[[ "$(s3curl -o /dev/null -w '%{http_code}' -T "$BASE" "$S3_ENDPOINT/raw/base.img")" == 200 ]] || die "upload of base.img to the gateway failed"
emit s3.rawPut.seconds s "$(calc "$(now) - $t0")"
AFTER='read -r code got < "$WORK/$id.log"; [[ $code == 200 && $got == "$SIZE" ]] && pull_check'
measure s3.pull.curl.seconds "$RUNS" 'rm -f "$PULLED"' \
  's3curl -w "%{http_code} %{size_download}" -o "$PULLED" "$S3_ENDPOINT/raw/base.img" && sync "$PULLED"'
AFTER=""
rm -f "$PULLED"
bench_finish
