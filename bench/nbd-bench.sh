#!/usr/bin/env bash
# nbd-bench.sh -- cairn serve --nbd-port against qemu-nbd, both driven by fio's nbd engine (libnbd).
#
# Usage: ./cairn bench nbd [--quick] [--out DIR] [--jsonl FILE] [--runs N]
#
# Imports a template (random bytes, nothing deduplicates or compresses; 256 MiB, 128 MiB with --quick)
# into a fresh store and serves it over NBD; qemu-nbd serves the same raw file. Measured, each side
# once per run, with one fio job:
#   nbd.seqread.MBps      sequential 1 MiB reads of the whole image, iodepth 4, plain NBD
#   nbd.randread4k.iops   4 KiB random reads for 10 s (5 s with --quick), iodepth 16, plain NBD
#   nbd.writeseq.MBps     qemu-img convert -n: half the image's size of new random bytes into an overlay
#   nbd.writeseq.cpuSeconds  CPU time the server process (every thread) spent during that convert
#   nbd.write4k.iops      qemu-io: MIB*4 aio_writes of 4 KiB, 132 KiB apart (a new block each; each a
#                         repeated byte, 250 values, so Cairn stores few distinct blocks), then FLUSH
#   nbd.write4kseq.iops   qemu-io: MIB*8 aio_writes of 4 KiB back to back (a guest's journal), then FLUSH
# the peer's numbers are the same ids with .qemunbd. Writes: Cairn writes a user's overlay (TLS with a
# client certificate, every write logged before its reply, synced at FLUSH); qemu-nbd writes a qcow2 overlay of the raw
# file (TLS with the same certificates; writes reach the disk at FLUSH). Prints the ratios
# (Cairn / qemu-nbd; target >= 0.8) and writes OUT/nbd.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup nbd "$@"
[[ ${#EXTRA_ARGS[@]} -eq 0 ]] || { [[ "${EXTRA_ARGS[0]}" =~ ^(-h|--help)$ ]] && { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }; die "unknown argument ${EXTRA_ARGS[0]}"; }
if [[ $QUICK = 1 ]]; then MIB=128; SECS=5; else MIB=256; SECS=10; fi

install_peers fio:fio qemu-nbd:qemu-utils qemu-img:qemu-utils openssl:openssl curl:curl
fio --enghelp 2>/dev/null | grep -qw nbd || die "this fio has no nbd engine (Debian's fio has it)"
build_cairn
[[ $STANDALONE = 1 ]] && note_machine
note peer.nbd "qemu-nbd $(qemu-nbd --version | head -1 | awk '{print $2}'), same raw file; qcow2 overlay for writes"
note load.before.nbd "$(loadavg)"

# ---- certificates: a CA, the server's (for 127.0.0.1) and a client's with CN=bench, in qemu's layout
C="$WORK/certs"; mkdir -p "$C/qemu-server" "$C/client"
ssl() { (cd "$C" && openssl "$@") >/dev/null 2>&1 || die "openssl $*"; }
ssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca
issue() {  # issue NAME SUBJECT EXTENSIONS
  printf '%b' "$3" > "$C/$1.ext"
  ssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2"
  ssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile "$1.ext" -out "$1.pem"
}
issue server /CN=localhost 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'
issue bench /CN=bench 'extendedKeyUsage=clientAuth\n'
cp "$C/ca.pem" "$C/qemu-server/ca-cert.pem"; cp "$C/server.pem" "$C/qemu-server/server-cert.pem"
cp "$C/server.key" "$C/qemu-server/server-key.pem"
cp "$C/ca.pem" "$C/client/ca-cert.pem"; cp "$C/bench.pem" "$C/client/client-cert.pem"; cp "$C/bench.key" "$C/client/client-key.pem"

# ---- the template, Cairn and qemu-nbd
IMG="$WORK/template.raw"
head -c $((MIB << 20)) /dev/urandom > "$IMG"
"$BENCH_ROOT/cairn" import "$IMG" --name bench/nbd:1 --data "$WORK/store" >/dev/null
USER_TOKEN=$("$BENCH_ROOT/cairn" user add bench --role user --data "$WORK/store" --json | jget /dev/stdin token)
NBD_PORT=$(free_port)
# lib.sh's start_server speaks plain HTTP; this server has a certificate (NBD's STARTTLS needs it).
CAIRN_JAVA_OPTS="${SERVER_JAVA_OPTS:-}" "$BENCH_ROOT/cairn" serve --data "$WORK/store" --port 0 --anonymous-read \
  --nbd-port "$NBD_PORT" --tls-cert "$C/server.pem" --tls-key "$C/server.key" --nbd-client-ca "$C/ca.pem" \
  >"$WORK/serve.1.out" 2>"$WORK/serve.1.out.err" &
SPID=$!; SERVER_PIDS+=("$SPID"); URL=""
for ((i = 0; i < 600 && ${#URL} == 0; i++)); do
  URL=$(sed -n 's|^cairn: serving store .* on \(https://127\.0\.0\.1:[0-9]*\)$|\1|p' "$WORK/serve.1.out")
  kill -0 "$SPID" 2>/dev/null || { cat "$WORK/serve.1.out.err" >&2; die "cairn serve exited"; }
  sleep 0.1
done
[[ -n "$URL" ]] || die "cairn serve printed no URL within 60 s"
curl -sf --cacert "$C/ca.pem" -H "Authorization: Bearer $USER_TOKEN" -H 'Content-Type: application/json' \
  -d '{"name":"bw","base":"bench/nbd:1"}' "$URL/v1/overlays" >/dev/null || die "cannot create the overlay"

QPORT=$(free_port); QWPORT=$(free_port)
qemu-nbd -r -t -f raw -x raw -b 127.0.0.1 -p "$QPORT" "$IMG" & SERVER_PIDS+=($!)
qemu-img create -q -f qcow2 -F raw -b "$IMG" "$WORK/overlay.qcow2"
qemu-nbd -t -f qcow2 -x ov -b 127.0.0.1 -p "$QWPORT" --object "tls-creds-x509,id=tls0,endpoint=server,dir=$C/qemu-server" \
  --tls-creds tls0 "$WORK/overlay.qcow2" & SERVER_PIDS+=($!); QWPID=$!
sleep 1

# fio_run ID URI FIO-ARGS...: one fio job; prints "MB/s IOPS"
fio_run() {
  local id=$1 uri=$2; shift 2
  fio --name="$id" --ioengine=nbd --uri="$uri" --output-format=json --output="$WORK/$id.json" "$@" >/dev/null \
    2>"$WORK/$id.err" || { log "$id failed: $(tail -3 "$WORK/$id.err")"; FAILED+=("$id"); echo "0 0"; return; }
  python3 - "$WORK/$id.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))['jobs'][0]
side = j['read'] if j['read']['io_bytes'] > 0 else j['write']
print('%.1f %.0f' % (side['bw_bytes'] / 1e6, side['iops']))
EOF
}
# qwrite ID IMAGE-OPTS COUNT SIZE STEP: qemu-io over TLS with the client certificate, COUNT aio_writes of
# SIZE bytes STEP apart (qemu keeps at most 16 NBD requests in flight), then aio_flush and flush; prints
# MB/s over the whole run, connection and TLS handshake included. (fio's nbd engine cannot take TLS
# certificates: libnbd refuses tls-certificates in a URI; qemu-img bench cannot define a tls-creds object.)
qwrite() {
  local id=$1 opts=$2 count=$3 size=$4 step=$5 i t0 t
  for ((i = 0; i < count; i++)); do echo "aio_write -q -P $(((i + run * 37) % 250 + 1)) $((i * step)) $size"; done > "$WORK/$id.cmds"
  printf 'aio_flush\nflush\nquit\n' >> "$WORK/$id.cmds"
  t0=$(now)
  qemu-io --object "tls-creds-x509,id=tls0,endpoint=client,dir=$C/client" --image-opts "$opts" <"$WORK/$id.cmds" \
    >"$WORK/$id.log" 2>&1 || { log "$id failed: $(tail -3 "$WORK/$id.log")"; FAILED+=("$id"); echo 0; return; }
  t=$(calc "$(now) - $t0")
  if grep -q -i -e error -e fail "$WORK/$id.log"; then log "$id: $(grep -i -m3 -e error -e fail "$WORK/$id.log")"; FAILED+=("$id"); fi
  calc "$count * $size / $t / 1000000"
}
# cpu_seconds PID: user + system CPU time of a process so far (all its threads), in seconds
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f\n", ($14 + $15) / hz}' "/proc/$1/stat"; }
# qconvert ID IMAGE-OPTS: qemu-img convert -n of WORK/random.raw into the NBD disk over TLS; prints MB/s
qconvert() {
  local id=$1 opts=$2 t0 t
  t0=$(now)
  qemu-img convert -n -f raw --object "tls-creds-x509,id=tls0,endpoint=client,dir=$C/client" "$WORK/random.raw" \
    --target-image-opts "$opts" >"$WORK/$id.log" 2>&1 || { log "$id failed: $(tail -3 "$WORK/$id.log")"; FAILED+=("$id"); echo 0; return; }
  t=$(calc "$(now) - $t0")
  calc "$(stat -c %s "$WORK/random.raw") / $t / 1000000"
}
# An untimed pass of each reader first: Cairn's disk cache copies the template (as it does after a
# host's first read), and qemu-nbd's file is in the page cache.
fio_run c-warm "nbd://127.0.0.1:$NBD_PORT/image/bench/nbd:1" --rw=read --bs=1m --iodepth=4 >/dev/null
fio_run q-warm "nbd://127.0.0.1:$QPORT/raw" --rw=read --bs=1m --iodepth=4 >/dev/null
# And an untimed write of each writer: the JVM compiles its TLS decryption (AES-GCM) only after some
# 100 MiB of it (before that it runs 20-50x slower), which a server running for days has long done.
head -c $((MIB << 19)) /dev/urandom > "$WORK/random.raw"
qconvert c-wwarm "driver=nbd,server.type=inet,server.host=127.0.0.1,server.port=$NBD_PORT,export=overlay/bw,tls-creds=tls0" >/dev/null
qconvert q-wwarm "driver=nbd,server.type=inet,server.host=127.0.0.1,server.port=$QWPORT,export=ov,tls-creds=tls0" >/dev/null
sleep 2
ratios=()
row() {  # row ID UNIT CAIRN QEMU
  local r; r=$(calc "$3 / $4"); ratios+=("$(printf '| %-22s | %10s | %10s | %5.2fx |' "$1 ($2)" "$3" "$4" "$r")")
  emit "$1" "$2" "$3"; emit "$1.qemunbd" "$2" "$4"
}
for ((run = 1; run <= RUNS; run++)); do
  read -r c_bw _ < <(fio_run c-seq "nbd://127.0.0.1:$NBD_PORT/image/bench/nbd:1" --rw=read --bs=1m --iodepth=4)
  read -r q_bw _ < <(fio_run q-seq "nbd://127.0.0.1:$QPORT/raw" --rw=read --bs=1m --iodepth=4)
  row nbd.seqread.MBps MB/s "$c_bw" "$q_bw"
  read -r _ c_io < <(fio_run c-rr "nbd://127.0.0.1:$NBD_PORT/image/bench/nbd:1" --rw=randread --bs=4k --iodepth=16 \
    --time_based --runtime="$SECS" --randseed=7)
  read -r _ q_io < <(fio_run q-rr "nbd://127.0.0.1:$QPORT/raw" --rw=randread --bs=4k --iodepth=16 --time_based \
    --runtime="$SECS" --randseed=7)
  row nbd.randread4k.iops IOPS "$c_io" "$q_io"
  c_opts="driver=nbd,server.type=inet,server.host=127.0.0.1,server.port=$NBD_PORT,export=overlay/bw,tls-creds=tls0"
  q_opts="driver=nbd,server.type=inet,server.host=127.0.0.1,server.port=$QWPORT,export=ov,tls-creds=tls0"
  head -c $((MIB << 19)) /dev/urandom > "$WORK/random.raw"  # new bytes each run: nothing deduplicates
  c_cpu=$(cpu_seconds "$SPID"); c_bw=$(qconvert c-wseq "$c_opts"); c_cpu=$(calc "$(cpu_seconds "$SPID") - $c_cpu")
  q_cpu=$(cpu_seconds "$QWPID"); q_bw=$(qconvert q-wseq "$q_opts"); q_cpu=$(calc "$(cpu_seconds "$QWPID") - $q_cpu")
  row nbd.writeseq.MBps MB/s "$c_bw" "$q_bw"
  emit nbd.writeseq.cpuSeconds s "$c_cpu"; emit nbd.writeseq.cpuSeconds.qemunbd s "$q_cpu"
  n=$((MIB * 4))
  c_bw=$(qwrite c-w4k "$c_opts" "$n" 4096 $((132 * 1024)))
  q_bw=$(qwrite q-w4k "$q_opts" "$n" 4096 $((132 * 1024)))
  row nbd.write4k.iops IOPS "$(calc "$c_bw * 1000000 / 4096" | cut -d. -f1)" "$(calc "$q_bw * 1000000 / 4096" | cut -d. -f1)"
  n=$((MIB * 8))
  c_bw=$(qwrite c-w4kseq "$c_opts" "$n" 4096 4096)
  q_bw=$(qwrite q-w4kseq "$q_opts" "$n" 4096 4096)
  row nbd.write4kseq.iops IOPS "$(calc "$c_bw * 1000000 / 4096" | cut -d. -f1)" "$(calc "$q_bw * 1000000 / 4096" | cut -d. -f1)"
done

{
  echo "# NBD: cairn serve --nbd-port vs qemu-nbd ($MIB MiB template, fio nbd engine, $(date -u +%Y-%m-%d))"
  echo
  echo "| measurement            |      Cairn |   qemu-nbd | ratio |"
  echo "|---|---:|---:|---:|"
  printf '%s\n' "${ratios[@]}"
} | tee "$OUT/nbd.md" >&2
note load.after.nbd "$(loadavg)"
if [[ ${#FAILED[@]} -gt 0 ]]; then log "FAILED: ${FAILED[*]}"; exit 1; fi
