#!/usr/bin/env bash
# overlay-bench.sh -- overlay create latency and overlay write throughput over HTTP, against a local file.
#
# Usage: bench/overlay-bench.sh [--quick] [--out DIR] [--jsonl FILE]
#
# Imports a sparse 20 GiB image (16 MiB of data in 16 places) into a fresh store, serves it, and from one
# Python http.client keep-alive connection, one request at a time, after a warm-up:
#   overlay.create.ms   POST /v1/overlays on that base (300 creates; 100 with --quick)
#   overlay.write4k.ms  PUT /v1/overlays/NAME/disk of 4 KiB at random 4 KiB-aligned offsets (500; 150)
#   overlay.write1m.ms  PUT of 1 MiB, sequential from offset 0 (128; 32)
# and, as the peer, the same write patterns on a local sparse 20 GiB file in the same file system with
# pwrite + fdatasync per write (overlay.local4k.ms, overlay.local1m.ms). Every written byte is random, so
# nothing deduplicates. Without --jsonl it writes OUT/measurements.jsonl and OUT/report.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup overlay "$@"
[[ ${#EXTRA_ARGS[@]} -eq 0 ]] || { [[ "${EXTRA_ARGS[0]}" =~ ^(-h|--help)$ ]] && { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }; die "unknown argument ${EXTRA_ARGS[0]}"; }
if [[ $QUICK = 1 ]]; then CREATES=100; W4K=150; W1M=32; else CREATES=300; W4K=500; W1M=128; fi
BASE_SIZE=$(( 20 << 30 ))

install_peers curl:curl
command -v python3 >/dev/null || die "python3 is needed"
build_cairn
[[ $STANDALONE = 1 ]] && note_machine
note peer.localfile "local file on $(df --output=fstype "${TMPDIR:-/tmp}" | tail -1), pwrite + fdatasync"
note load.before.overlay "$(loadavg)"

# A sparse 20 GiB base with a few real blocks, like a template whose disk is mostly empty.
python3 - "$WORK/sparse20g.img" "$BASE_SIZE" <<'EOF'
import hashlib, sys
path, size = sys.argv[1], int(sys.argv[2])
with open(path, 'wb') as f:
    f.truncate(size)
    for i in range(16):
        f.seek((i * size // 16) // 4096 * 4096)
        f.write(hashlib.shake_256(b'cairn-overlay-base:%d' % i).digest(1 << 20))
EOF
emit overlay.base.apparentBytes B "$(apparent "$WORK/sparse20g.img")"
t0=$(now)
"$BENCH_ROOT/cairn" import "$WORK/sparse20g.img" --name bench/sparse20g:v1 --data "$WORK/store" --json > "$WORK/import.json"
emit overlay.base.importSeconds s "$(calc "$(now) - $t0")"
rm -f "$WORK/sparse20g.img"
start_server "$WORK/store"

# One client process, one connection, requests one at a time; each latency is request sent to response read.
python3 - "$URL" "$TOKEN" "$WORK" "$CREATES" "$W4K" "$W1M" "$BASE_SIZE" > "$WORK/latencies.txt" <<'EOF'
import http.client, json, os, random, sys, time, urllib.parse
url, token, work = sys.argv[1], sys.argv[2], sys.argv[3]
creates, w4k, w1m, size = (int(x) for x in sys.argv[4:8])
u = urllib.parse.urlparse(url)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
auth = {'Authorization': 'Bearer ' + token}
rng = random.Random(8)

def call(method, path, body=None, headers=None, expect=(200, 201)):
    h = dict(auth); h.update(headers or {})
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse(); data = r.read()
    ms = (time.perf_counter() - t0) * 1000
    if r.status not in expect:
        sys.exit(f'{method} {path}: HTTP {r.status}: {data[:300]!r}')
    return ms

def create(name):
    return call('POST', '/v1/overlays', json.dumps({'base': 'bench/sparse20g:v1', 'name': name}),
                {'Content-Type': 'application/json'}, expect=(201,))

def write(name, offset, data):
    return call('PUT', f'/v1/overlays/{name}/disk', data,
                {'Content-Type': 'application/octet-stream',
                 'Content-Range': f'bytes {offset}-{offset + len(data) - 1}/*'})

for i in range(20):                                   # warm-up: JIT, connection, RocksDB
    create(f'warm-{i}')
print('create', ' '.join(f'{create(f"vm-{i}"):.4f}' for i in range(creates)))
for i in range(20):
    write('warm-0', rng.randrange(size // 4096) * 4096, os.urandom(4096))
offs4k = [rng.randrange(size // 4096) * 4096 for _ in range(w4k)]
print('write4k', ' '.join(f'{write("vm-0", o, os.urandom(4096)):.4f}' for o in offs4k))
print('write1m', ' '.join(f'{write("vm-1", i << 20, os.urandom(1 << 20)):.4f}' for i in range(w1m)))

# The peer: the same patterns on a local sparse file, each write made durable like the server's.
path = os.path.join(work, 'local.img')
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
os.ftruncate(fd, size)
def pwrite(offset, data):
    t0 = time.perf_counter()
    os.pwrite(fd, data, offset); os.fdatasync(fd)
    return (time.perf_counter() - t0) * 1000
print('local4k', ' '.join(f'{pwrite(o, os.urandom(4096)):.4f}' for o in offs4k))
print('local1m', ' '.join(f'{pwrite(i << 20, os.urandom(1 << 20)):.4f}' for i in range(w1m)))
os.close(fd); os.unlink(path)
EOF
while read -r what values; do
  read -ra v <<< "$values"
  emit "overlay.$what.ms" ms "${v[@]}"
  python3 -c 'import sys, statistics as s; v = sorted(map(float, sys.argv[2:])); print(f"overlay: {sys.argv[1]:8s} {len(v)} requests, median {s.median(v):.2f} ms, p99 {v[max(0, -(-99 * len(v) // 100) - 1)]:.2f} ms")' "$what" "${v[@]}" >&2
done < "$WORK/latencies.txt"
stop_server
bench_finish
