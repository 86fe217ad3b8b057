#!/usr/bin/env bash
# qemu-curl-stall.sh -- does `qemu-img convert` from an http URL stall, and is it qemu's lost completion?
#
# Usage: bench/qemu-curl-stall.sh URL [RUNS] [PARALLEL]
#
# Runs `qemu-img convert -m PARALLEL -f raw -O raw` (default 8 coroutines, qemu's default) of the raw
# disk at URL RUNS times (default 20), each with a 20 s timeout, and counts the runs that stalled.
# Each run preloads a small shim (built here with gcc) that logs libcurl's curl_multi_socket_action()
# and curl_multi_info_read() calls. For every stalled run it prints the last calls. qemu's bug
# (docs/http-api.md, "qemu-img and parallel reads") looks like this: the last socket_action returns
# running=0, the info_read after it returns DONE with left>=1, and nothing calls info_read again.
# Works for any server (run it against nginx to compare). Loopback or LAN URLs only: it re-reads the
# whole disk RUNS times.
set -euo pipefail
URL="${1:?usage: qemu-curl-stall.sh URL [RUNS] [PARALLEL]}"
RUNS="${2:-20}"
PAR="${3:-8}"
for t in qemu-img gcc timeout; do command -v "$t" >/dev/null || { echo "qemu-curl-stall: $t is needed" >&2; exit 2; }; done
WORK="$(mktemp -d "${TMPDIR:-/tmp}/qemu-curl-stall.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# block-curl.so is dlopen()ed, so RTLD_NEXT does not see libcurl; look it up by name instead.
cat > "$WORK/shim.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>
typedef struct { int msg; void *easy; union { void *p; int result; } data; } Msg; /* CURLMsg */
static void *curl(const char *sym) {
  static const char *names[] = { "libcurl-gnutls.so.4", "libcurl.so.4", "libcurl-nss.so.4" };
  for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
    void *h = dlopen(names[i], RTLD_NOLOAD | RTLD_LAZY);
    if (h && dlsym(h, sym)) return dlsym(h, sym);
  }
  return NULL;
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
Msg *curl_multi_info_read(void *m, int *left) {
  static Msg *(*real)(void *, int *);
  if (!real) real = curl("curl_multi_info_read");
  Msg *r = real(m, left);
  fprintf(stderr, "%.6f info_read -> %s left=%d\n", now(), r ? (r->msg == 1 ? "DONE" : "other") : "none", *left);
  return r;
}
int curl_multi_socket_action(void *m, int fd, int ev, int *running) {
  static int (*real)(void *, int, int, int *);
  if (!real) real = curl("curl_multi_socket_action");
  int r = real(m, fd, ev, running);
  fprintf(stderr, "%.6f socket_action fd=%d -> running=%d\n", now(), fd, *running);
  return r;
}
EOF
gcc -shared -fPIC -O2 -o "$WORK/shim.so" "$WORK/shim.c" -ldl

ok=0; stalled=0; failed=0
for ((i = 1; i <= RUNS; i++)); do
  rm -f "$WORK/out.raw"
  rc=0
  LD_PRELOAD="$WORK/shim.so" timeout 20 qemu-img convert -m "$PAR" -f raw -O raw \
      "json:{\"file.driver\":\"http\",\"file.url\":\"$URL\"}" "$WORK/out.raw" 2>"$WORK/trace" >/dev/null || rc=$?
  if [[ $rc == 0 ]]; then
    ok=$((ok + 1))
  elif [[ $rc == 124 ]]; then
    stalled=$((stalled + 1))
    echo "--- run $i stalled; its last libcurl calls:"
    grep -E 'socket_action|info_read' "$WORK/trace" | tail -6
  else
    failed=$((failed + 1))
    echo "--- run $i failed ($rc):"; grep -v -E 'socket_action|info_read' "$WORK/trace" | tail -5
  fi
done
echo "qemu-img convert -m $PAR of $URL: runs=$RUNS ok=$ok stalled=$stalled failed=$failed"
