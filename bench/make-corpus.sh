#!/usr/bin/env bash
# make-corpus.sh -- build a deterministic benchmark corpus of VM-like ext4 disk images.
#
# Usage: bench/make-corpus.sh [--quick] [--seed N] [--checksums] OUTDIR
#
#   --quick      small corpus (512 MiB images, ~150 MB of file data); default is the
#                full corpus (2 GiB images, ~720 MiB of file data)
#   --seed N     integer seed for UUIDs, directory hash seeds and all user-side edits
#                (default 1)
#   --checksums  also write OUTDIR/SHA256SUMS (hashes every image; ~30 s in full mode)
#
# Produces in OUTDIR:
#   base.img          raw ext4 "template" built with mkfs.ext4 -d from a subset of /usr
#   app.img           second template: separate mkfs of the same tree plus extra /usr/lib subtrees
#   user.img          copy of base.img edited in place with debugfs (delete / rewrite /
#                     in-place block edits / new files), ~5 % of the data touched
#   base.qcow2        qemu-img convert -O qcow2 base.img
#   base-zstd.qcow2   same, compressed (-c -o compression_type=zstd)
#   corpus-info.txt   parameters, source-tree digest, what was changed in user.img
#   .corpus-ok        stamp written last; if it matches the requested parameters the
#                     script exits immediately (idempotent)
#
# See bench/README.md for details and for what makes the output bit-reproducible.

set -euo pipefail
umask 022
export LC_ALL=C TZ=UTC

VERSION=2
QUICK=0
SEED=1
CHECKSUMS=0
OUT=""

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; }
die() { echo "make-corpus: error: $*" >&2; exit 1; }
log() { printf '[%4ds] %s\n' "$SECONDS" "$*"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) QUICK=1; shift ;;
        --seed) [[ $# -ge 2 ]] || die "--seed needs a value"; SEED="$2"; shift 2 ;;
        --seed=*) SEED="${1#--seed=}"; shift ;;
        --checksums) CHECKSUMS=1; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) usage >&2; die "unknown option: $1" ;;
        *) [[ -z "$OUT" ]] || die "only one OUTDIR allowed"; OUT="$1"; shift ;;
    esac
done
[[ -n "$OUT" ]] || { usage >&2; exit 2; }
[[ "$SEED" =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer"
SEED=$((10#$SEED))
case "$OUT" in *'"'*|*'\'*) die "OUTDIR must not contain quotes or backslashes" ;; esac

if [[ $QUICK == 1 ]]; then MODE=quick; IMG_SIZE=512M; else MODE=full; IMG_SIZE=2G; fi
STAMP_TEXT="cairn-corpus version=$VERSION mode=$MODE seed=$SEED"
OUTPUTS=(base.img app.img user.img base.qcow2 base-zstd.qcow2)

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
WORK="$OUT/.work"

summary() {
    printf '\n%-18s %15s %15s\n' "file" "apparent(B)" "allocated(B)"
    local f app alloc
    for f in "${OUTPUTS[@]}"; do
        app=$(du -B1 --apparent-size "$OUT/$f" | cut -f1)
        alloc=$(du -B1 "$OUT/$f" | cut -f1)
        printf '%-18s %15s %15s   (%s / %s)\n' "$f" "$app" "$alloc" \
            "$(numfmt --to=iec-i --suffix=B "$app")" "$(numfmt --to=iec-i --suffix=B "$alloc")"
    done
}

# ---- idempotency -----------------------------------------------------------------------
complete() {
    [[ -f "$OUT/.corpus-ok" ]] && [[ "$(cat "$OUT/.corpus-ok")" == "$STAMP_TEXT" ]] || return 1
    local f; for f in "${OUTPUTS[@]}"; do [[ -s "$OUT/$f" ]] || return 1; done
    [[ $CHECKSUMS == 0 || -s "$OUT/SHA256SUMS" ]]
}
if complete; then
    echo "make-corpus: $OUT already holds a complete corpus ($STAMP_TEXT); nothing to do."
    summary
    exit 0
fi

for t in mkfs.ext4 debugfs dumpe2fs e2fsck qemu-img python3 sha256sum flock numfmt; do
    command -v "$t" >/dev/null 2>&1 || die "required tool not found: $t"
done

exec 9>"$OUT/.lock"
flock -n 9 || die "another make-corpus run holds $OUT/.lock"
# re-check under the lock (a concurrent run may just have finished)
if complete; then echo "make-corpus: $OUT already complete ($STAMP_TEXT)."; summary; exit 0; fi

NICE=(nice -n 10)
if command -v ionice >/dev/null 2>&1; then NICE=(nice -n 10 ionice -c 2 -n 7); fi

# Remove only files this script creates; never rm -rf OUTDIR itself.
rm -f "$OUT/.corpus-ok" "$OUT/SHA256SUMS" "$OUT/corpus-info.txt"
for f in "${OUTPUTS[@]}"; do rm -f "$OUT/$f"; done
rm -rf "$WORK"
mkdir -p "$WORK"
trap 'rc=$?; if [[ $rc != 0 ]]; then echo "make-corpus: FAILED (rc=$rc); partial output left in $OUT (no stamp written)" >&2; fi' EXIT

# ---- deterministic parameters -------------------------------------------------------------
hexof() { printf '%s' "cairn-corpus:$SEED:$1" | sha256sum | cut -c1-32; }
uuidof() { local h; h=$(hexof "$1"); echo "${h:0:8}-${h:8:4}-4${h:13:3}-a${h:17:3}-${h:20:12}"; }

T_BASE=1700000000                 # 2023-11-14 22:13:20 UTC: "template built"
T_APP=$((T_BASE + 7 * 86400))     # app template one week later
T_USER=$((T_BASE + 30 * 86400))   # user edits one month later

# Pin the mke2fs configuration so /etc/mke2fs.conf of the host does not matter
# (values are Debian 12 / e2fsprogs 1.47.0 defaults).
cat > "$WORK/mke2fs.conf" <<'EOF'
[defaults]
	base_features = sparse_super,large_file,filetype,resize_inode,dir_index,ext_attr
	default_mntopts = acl,user_xattr
	enable_periodic_fsck = 0
	blocksize = 4096
	inode_size = 256
	inode_ratio = 16384

[fs_types]
	ext3 = {
		features = has_journal
	}
	ext4 = {
		features = has_journal,extent,huge_file,flex_bg,metadata_csum,64bit,dir_nlink,extra_isize
	}
	small = {
		inode_ratio = 4096
	}
	floppy = {
		inode_ratio = 8192
	}
EOF
export MKE2FS_CONFIG="$WORK/mke2fs.conf"
export MKE2FS_SKIP_CHECK_MSG=1
unset MKE2FS_SYNC MKE2FS_DEVICE_SECTSIZE MKE2FS_DEVICE_PHYS_SECTSIZE MKE2FS_FIRST_META_BG E2FSPROGS_UNDO_DIR

# Source trees (absolute path : MB cap in full mode). Quick mode scales the caps by 0.19.
# Within a tree whose size exceeds its cap, files are picked in the order of
# sha256(relative path) until the cap is reached, so the pick is spread over the whole
# tree and does not depend on the seed.
BASE_TREES=(
    /usr/lib/x86_64-linux-gnu:330
    /usr/share/doc:100
    /usr/share/locale:80
    /usr/share/man:60
    /usr/lib/gcc:60
    /usr/lib/python3.11:54
    /usr/share/vim:40
    /usr/share/icons:37
    /usr/lib/git-core:23
    /usr/share/perl:21
    /usr/share/i18n:17
    /usr/share/zoneinfo:4
)
APP_TREES=(
    /usr/lib/jvm:250
    /usr/lib/llvm-14:100
)
SCALE=1.0; [[ $MODE == quick ]] && SCALE=0.19

# ---- python helper (staging, debugfs command generation, user edits): bench/corpus.py ----
py() { "${NICE[@]}" python3 "$(dirname "${BASH_SOURCE[0]}")/corpus.py" "$@"; }

# debugfs prints errors on stderr; treat any stderr output (besides the banner) as fatal.
run_debugfs() {  # run_debugfs CMDFILE IMAGE [-w]
    local cmdf="$1" img="$2" w="${3:-}" err
    err=$(cd "$WORK" && "${NICE[@]}" debugfs $w -f "$cmdf" "$img" 2>&1 >"$cmdf.out" | grep -v '^debugfs [0-9]' || true)
    [[ -z "$err" ]] || { echo "$err" | head -20 >&2; die "debugfs reported errors running $cmdf on $img"; }
}

make_fs() {  # make_fs IMAGE LABEL FAKETIME
    local img="$1" label="$2" t="$3"
    E2FSPROGS_FAKE_TIME=$t SOURCE_DATE_EPOCH=$t "${NICE[@]}" mkfs.ext4 -F -q -t ext4 -b 4096 \
        -L "$label" -U "$(uuidof "$label-uuid")" \
        -E "root_owner=0:0,hash_seed=$(uuidof "$label-hashseed"),no_copy_xattrs,lazy_itable_init=1,lazy_journal_init=1,discard" \
        -d "$WORK/stage" "$img" "$IMG_SIZE" >/dev/null
    log "  normalising inode times (debugfs sif)"
    dumpe2fs "$img" > "$WORK/dumpe2fs-$label.txt" 2>/dev/null
    py sifs "$WORK/dumpe2fs-$label.txt" "$WORK/fix-$label.cmds" "$t"
    E2FSPROGS_FAKE_TIME=$t run_debugfs "fix-$label.cmds" "$img" -w
}

fsck_img() {
    local out
    out=$(E2FSPROGS_FAKE_TIME=$T_USER "${NICE[@]}" e2fsck -fn "$1" 2>&1) || { echo "$out" >&2; die "e2fsck -fn failed on $1"; }
    log "  e2fsck ok: $(echo "$out" | tail -1)"
}

log "building $MODE corpus (seed $SEED) in $OUT"

# ---- 1. base.img -----------------------------------------------------------------------------
log "staging base tree"
: > "$WORK/base.list"
py stage "$WORK/stage" "$WORK/base.list" $((T_BASE - 86400)) "$SCALE" "${BASE_TREES[@]}"
log "mkfs base.img ($IMG_SIZE)"
make_fs "$OUT/base.img" cairn-base "$T_BASE"
fsck_img "$OUT/base.img"

# ---- 2. app.img --------------------------------------------------------------------------------
log "staging extra app trees"
cp "$WORK/base.list" "$WORK/app.list"
py stage "$WORK/stage" "$WORK/app.list" $((T_BASE - 86400)) "$SCALE" "${APP_TREES[@]}"
log "mkfs app.img ($IMG_SIZE)"
make_fs "$OUT/app.img" cairn-app "$T_APP"
fsck_img "$OUT/app.img"

# ---- 3. user.img ---------------------------------------------------------------------------------
log "user.img: copy of base.img + debugfs edits"
cp --sparse=always "$OUT/base.img" "$OUT/user.img"
py plan-user "$SEED" "$WORK/stage" "$WORK/base.list" "$WORK" "$T_USER"
E2FSPROGS_FAKE_TIME=$T_USER run_debugfs user.cmds "$OUT/user.img" -w
E2FSPROGS_FAKE_TIME=$T_USER run_debugfs extents.cmds "$OUT/user.img"
mv "$WORK/extents.cmds.out" "$WORK/extents.out"
py patch "$SEED" "$WORK" "$OUT/user.img" "$T_USER"
E2FSPROGS_FAKE_TIME=$T_USER run_debugfs patch.cmds "$OUT/user.img" -w
fsck_img "$OUT/user.img"

# ---- 4. qcow2 ------------------------------------------------------------------------------------
log "qemu-img convert -> base.qcow2"
"${NICE[@]}" qemu-img convert -f raw -O qcow2 "$OUT/base.img" "$OUT/base.qcow2"
log "qemu-img convert -c (zstd) -> base-zstd.qcow2"
"${NICE[@]}" qemu-img convert -f raw -O qcow2 -c -o compression_type=zstd "$OUT/base.img" "$OUT/base-zstd.qcow2"
for q in base.qcow2 base-zstd.qcow2; do
    "${NICE[@]}" qemu-img check -q "$OUT/$q" || die "qemu-img check failed on $q"
    "${NICE[@]}" qemu-img compare -q -f raw -F qcow2 "$OUT/base.img" "$OUT/$q" || die "$q differs from base.img"
done
log "  qcow2 images check ok and match base.img"

# ---- 5. info, stamp, summary ---------------------------------------------------------------------
{
    echo "$STAMP_TEXT"
    echo "image size: $IMG_SIZE; fake times: base=$T_BASE app=$T_APP user=$T_USER"
    echo "base uuid: $(uuidof cairn-base-uuid)  app uuid: $(uuidof cairn-app-uuid)"
    echo "source digest (sha256 of selected paths/sizes/modes/mtimes): base $(cat "$WORK/base.list.digest") app-extra $(cat "$WORK/app.list.digest")"
    echo "base trees (MiB caps before scaling by $SCALE): ${BASE_TREES[*]}"
    echo "app extra trees: ${APP_TREES[*]}"
    echo "user.img changes relative to base.img:"
    py report "$WORK" | sed 's/^/  /'
} > "$OUT/corpus-info.txt"
sed -n '/^user.img changes/,$p' "$OUT/corpus-info.txt"

[[ "${KEEP_WORK:-0}" == 1 ]] || rm -rf "$WORK"
if [[ $CHECKSUMS == 1 ]]; then
    log "sha256sum"
    (cd "$OUT" && "${NICE[@]}" sha256sum "${OUTPUTS[@]}" > SHA256SUMS)
fi
echo "$STAMP_TEXT" > "$OUT/.corpus-ok"
log "done"
summary
