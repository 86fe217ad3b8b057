#!/usr/bin/env bash
# deploy-bench.sh -- deploying 100 VMs from one template: seconds and bytes of new metadata.
#
# Usage: bench/deploy-bench.sh [--quick] [--runs N] [--out DIR]      (or: ./cairn bench deploy)
#
# Imports a sparse 20 GiB template (16 MiB of data), serves it, registers 4 hosts and a profile whose
# disk is 32 GiB (so every VM's overlay is also resized), warms up with one deploy of 5 VMs, then per
# run (3; 1 with --quick):
#   deploy.100.s          POST /v1/deployments {"count": 100} with curl (the server's work, end to end)
#   deploy.100.metaBytes  growth of the store's files (du --apparent-size of rocksdb/) across that deploy
#   deploy.blocksAdded    stored blocks after minus before (/v1/stats "blocks"; must be 0: nothing copied)
# and once, deploy.cli.s: the same deploy through 'cairn deploy --count 100 --out DIR' (JVM start and
# 100 VMs' launch files written, seed ISOs included when genisoimage or xorriso is there).
# Between runs the VMs are undeployed with their disks (not timed). Targets: < 2 s and < 100 KiB.
# Writes OUT/measurements.jsonl and OUT/deploy-report.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
bench_setup deploy "$@"
[[ ${#EXTRA_ARGS[@]} -eq 0 ]] || { [[ "${EXTRA_ARGS[0]}" =~ ^(-h|--help)$ ]] && { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0; }; die "unknown argument ${EXTRA_ARGS[0]}"; }
BASE_SIZE=$(( 20 << 30 ))
COUNT=100

install_peers curl:curl
command -v python3 >/dev/null || die "python3 is needed"
build_cairn
[[ $STANDALONE = 1 ]] && note_machine
note load.before.deploy "$(loadavg)"

python3 - "$WORK/template.img" "$BASE_SIZE" <<'EOF'
import hashlib, sys
path, size = sys.argv[1], int(sys.argv[2])
with open(path, 'wb') as f:
    f.truncate(size)
    for i in range(16):
        f.seek((i * size // 16) // 4096 * 4096)
        f.write(hashlib.shake_256(b'cairn-deploy-template:%d' % i).digest(1 << 20))
EOF
"$BENCH_ROOT/cairn" import "$WORK/template.img" --name bench/debian:12 --data "$WORK/store" >/dev/null
rm -f "$WORK/template.img"
start_server "$WORK/store"

api() {  # api METHOD PATH [JSON]: the response body; fails on a non-2xx status
  local body
  if [[ $# -ge 3 ]]; then
    curl -sS --fail-with-body "${AUTH[@]}" -X "$1" -H 'Content-Type: application/json' --data-binary "$3" "$URL$2"
  else
    curl -sS --fail-with-body "${AUTH[@]}" -X "$1" "$URL$2"
  fi
}
for h in 1 2 3 4; do api PUT "/v1/hosts/kvm-$h" '{"cpus": 128, "memoryBytes": 549755813888}' >/dev/null; done
api PUT /v1/profiles/bench "{\"template\": \"bench/debian:12\", \"cpus\": 2, \"memoryBytes\": 2147483648,
  \"diskBytes\": $(( 32 << 30 )), \"network\": {\"bridge\": \"br0\", \"pool\": \"10.50.0.0/22\",
  \"gateway\": \"10.50.0.1\", \"dns\": [\"10.50.0.2\"]}, \"firmware\": \"uefi\",
  \"userData\": \"#cloud-config\\npackages: [nginx]\\n\"}" >/dev/null
undeploy_all() {
  local id
  for id in $(api GET /v1/deployments | python3 -c 'import json,sys; print(" ".join(d["id"] for d in json.load(sys.stdin)["deployments"]))'); do
    api DELETE "/v1/deployments/$id?deleteDisks=true" >/dev/null
  done
}
store_bytes() { du -sb --apparent-size "$WORK/store/rocksdb" | cut -f1; }

api POST /v1/deployments '{"profile": "bench", "count": 5, "namePrefix": "warm-"}' >/dev/null  # JIT, caches
undeploy_all

for ((r = 1; r <= RUNS; r++)); do
  blocks0=$(stat_get blocks); bytes0=$(store_bytes)
  sync; t0=$(now)
  api POST /v1/deployments "{\"profile\": \"bench\", \"count\": $COUNT}" > "$WORK/deploy.json"
  t=$(calc "$(now) - $t0")
  bytes1=$(store_bytes); blocks1=$(stat_get blocks)
  n=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len({v["ip"] for v in d["vms"]}))' "$WORK/deploy.json")
  [[ $n == "$COUNT" ]] || die "run $r: $n distinct IPs for $COUNT VMs"
  emit deploy.100.s s "$t"
  emit deploy.100.metaBytes B "$(( bytes1 - bytes0 ))"
  emit deploy.blocksAdded count "$(( blocks1 - blocks0 ))"
  [[ $blocks1 == "$blocks0" ]] || FAILED+=(deploy.blocksAdded)
  log "run $r: $COUNT VMs in $t s, store +$(( bytes1 - bytes0 )) bytes, blocks $blocks0 -> $blocks1"
  undeploy_all
done

t0=$(now)
cairn_client deploy bench --count "$COUNT" --server "$URL" --out "$WORK/launch" >/dev/null
tcli=$(calc "$(now) - $t0")
emit deploy.cli.s s "$tcli"
log "cairn deploy --count $COUNT --out DIR: $tcli s ($(ls "$WORK/launch" | wc -l) VM directories)"
undeploy_all
stop_server

python3 - "$JSONL" "$OUT/deploy-report.md" <<'EOF'
import json, statistics, sys
ms = {}
for line in open(sys.argv[1]):
    j = json.loads(line)
    if 'm' in j and j['m'].startswith('deploy.'):
        ms.setdefault(j['m'], []).append(j['v'])
med = lambda k: statistics.median(ms[k])
rows = [
    ('deploy 100 VMs (POST /v1/deployments)', f"{med('deploy.100.s'):.2f} s (runs: {', '.join(f'{v:.2f}' for v in ms['deploy.100.s'])})", '< 2 s', med('deploy.100.s') < 2),
    ('new metadata (store files, apparent)', f"{med('deploy.100.metaBytes') / 1024:.1f} KiB", '< 100 KiB', med('deploy.100.metaBytes') < 100 * 1024),
    ('blocks added', f"{max(ms['deploy.blocksAdded'])}", '0', max(ms['deploy.blocksAdded']) == 0),
    ('cairn deploy --count 100 --out DIR (CLI, incl. JVM start)', f"{ms['deploy.cli.s'][0]:.2f} s", '', True),
]
with open(sys.argv[2], 'w') as f:
    f.write('# Deploy benchmark\n\n| measurement | result | target | |\n|---|---|---|---|\n')
    for name, value, target, ok in rows:
        f.write(f"| {name} | {value} | {target} | {'met' if target and ok else ('MISSED' if target else '')} |\n")
print(open(sys.argv[2]).read())
EOF
note load.end "$(loadavg)"
if [[ ${#FAILED[@]} -gt 0 ]]; then log "FAILED: ${FAILED[*]}"; exit 1; fi
