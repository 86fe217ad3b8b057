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

# ---- python helper (staging, debugfs command generation, user edits) -----------------------
read -r -d '' PY <<'PYEOF' || true
import os, sys, re, stat, shutil, hashlib, random, json

BS = 4096
MAX_PER_DIR = 2000

def shake(key, n):
    return hashlib.shake_256(key.encode()).digest(n)

def safe_name(name):
    # names go into debugfs command files inside double quotes: keep them simple
    if '"' in name or '\\' in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return False
    try:
        name.encode('utf-8')
    except UnicodeEncodeError:
        return False
    return True

def q(p):
    return '"' + p + '"'

def walk_tree(root):
    """Yield (rel, kind, size, mode, mtime_ns) for every usable entry below root."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort(); filenames.sort()
        keep = []
        for d in dirnames:
            full = os.path.join(dirpath, d)
            if d == '__pycache__' or not safe_name(d):
                continue
            if os.path.islink(full):
                filenames.append(d)
                continue
            keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            if not safe_name(f) or f.endswith('.pyc'):
                continue
            full = os.path.join(dirpath, f)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            rel = os.path.relpath(full, root)
            if stat.S_ISLNK(st.st_mode):
                out.append((rel, 'l', 0, 0o777, st.st_mtime_ns))
            elif stat.S_ISREG(st.st_mode):
                if not os.access(full, os.R_OK):
                    continue
                out.append((rel, 'f', st.st_size, stat.S_IMODE(st.st_mode), st.st_mtime_ns))
    return out

def cmd_stage(stage, listfile, t_dir, scale, *specs):
    t_dir = int(t_dir); scale = float(scale)
    total_bytes = 0
    digest = hashlib.sha256()
    with open(listfile, 'a') as lf:
        for spec in specs:
            root, cap = spec.rsplit(':', 1)
            cap = int(float(cap) * scale * 1024 * 1024)
            if not os.path.isdir(root):
                print(f"  (skipping missing tree {root})", file=sys.stderr)
                continue
            entries = walk_tree(root)
            # at most MAX_PER_DIR entries from any one directory (/usr/share/man/man1 holds
            # ~17k gcloud pages here; mkfs -d and debugfs are quadratic in directory size)
            per_dir, kept = {}, []
            for e in sorted(entries, key=lambda e: hashlib.sha256((root + '/' + e[0]).encode()).digest()):
                d = os.path.dirname(e[0])
                if per_dir.get(d, 0) < MAX_PER_DIR:
                    per_dir[d] = per_dir.get(d, 0) + 1
                    kept.append(e)
            entries = sorted(kept)
            tot = sum(e[2] for e in entries)
            if tot > cap:
                order = sorted(entries, key=lambda e: hashlib.sha256((root + '/' + e[0]).encode()).digest())
                chosen, acc = [], 0
                for e in order:
                    if acc >= cap * 0.99:
                        break
                    if acc + e[2] > cap:
                        continue
                    chosen.append(e); acc += e[2]
                entries = sorted(chosen)
            got = 0
            for rel, kind, size, mode, mtime_ns in entries:
                src = os.path.join(root, rel)
                ipath = os.path.join(root, rel)            # path inside the image
                dst = stage + ipath
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                if kind == 'l':
                    os.symlink(os.readlink(src), dst)
                    os.utime(dst, ns=(mtime_ns, mtime_ns), follow_symlinks=False)
                else:
                    try:
                        shutil.copyfile(src, dst)
                    except OSError as ex:
                        print(f"  (skipping unreadable {src}: {ex})", file=sys.stderr)
                        continue
                    size = os.path.getsize(dst)
                    os.chmod(dst, mode & 0o1777)           # drop setuid/setgid bits
                    os.utime(dst, ns=(mtime_ns, mtime_ns))
                    got += size
                lf.write(f"{kind}\t{size}\t{mode & 0o1777:o}\t{ipath}\n")
                digest.update(f"{kind} {size} {mode:o} {mtime_ns} {ipath}\n".encode())
            print(f"  {root:32s} {got/1048576:8.1f} MiB  {len(entries):6d} entries")
            total_bytes += got
    # deterministic directory times (adding entries changed them)
    for dirpath, dirnames, _ in os.walk(stage, topdown=False):
        os.utime(dirpath, (t_dir, t_dir))
    print(f"  total staged: {total_bytes/1048576:.1f} MiB; source digest {digest.hexdigest()[:16]}")
    with open(listfile + '.digest', 'a') as d:
        d.write(digest.hexdigest() + '\n')

def cmd_sifs(dumpe2fs_out, outfile, t):
    """debugfs commands forcing atime/ctime of every used inode: mkfs -d copies them from
    the staging tree, where they depend on when the copy was made. Inodes are addressed by
    number (path lookups in big linear directories are slow); the used set is the
    complement of the 'Free inodes:' ranges that dumpe2fs prints per group."""
    count, free = None, set()
    for line in open(dumpe2fs_out):
        if line.startswith('Inode count:'):
            count = int(line.split(':')[1])
        m = re.match(r'^\s+Free inodes: (.*)$', line)
        if m:
            for r in m.group(1).split(','):
                r = r.strip()
                if not r:
                    continue
                a, _, b = r.partition('-')
                free.update(range(int(a), int(b or a) + 1))
    assert count, "could not parse dumpe2fs output"
    with open(outfile, 'w') as o:
        for ino in [2] + list(range(11, count + 1)):
            if ino not in free:
                o.write(f"sif <{ino}> atime @{t}\nsif <{ino}> ctime @{t}\n")

def cmd_plan_user(seed, stage, listfile, work, t_user):
    seed = int(seed); t_user = int(t_user)
    rng = random.Random(seed)
    files = []
    for line in open(listfile):
        kind, size, mode, path = line.rstrip('\n').split('\t', 3)
        if kind == 'f' and int(size) > 0:
            files.append((path, int(size), int(mode, 8)))
    files.sort()
    D = sum(f[1] for f in files)
    pool = files[:]
    rng.shuffle(pool)
    os.makedirs(os.path.join(work, 'mod'), exist_ok=True)
    cmds, stats = [], {'data_bytes': D}
    used = set()

    def take(target, lo, hi):
        out, acc = [], 0
        for f in pool:
            if acc >= target:
                break
            if f[0] in used or not (lo <= f[1] <= hi):
                continue
            used.add(f[0]); out.append(f); acc += f[1]
        return out, acc

    # 1. deleted files (~0.5 %)
    dels, acc = take(D * 0.005, 1, 64 << 20)
    for p, s, m in dels:
        cmds.append(f"rm {q(p)}")
    stats['deleted'] = {'files': len(dels), 'bytes': acc}

    # 2. rewritten files (rm + write modified version) (~1.5 %)
    rws, acc = take(D * 0.015, 1024, 16 << 20)
    newb = 0
    for i, (p, s, m) in enumerate(rws):
        data = bytearray(open(stage + p, 'rb').read())
        for j in range(rng.randint(1, 4)):
            kind = rng.choice(['replace', 'replace', 'insert', 'delete', 'append'])
            ln = max(1, min(rng.choice([16, 256, 1024, 4096, 16384]), len(data) // 4))
            off = rng.randrange(0, max(1, len(data) - ln))
            rnd = shake(f"{seed}:rw:{i}:{j}", ln)
            if kind == 'replace':
                data[off:off + ln] = rnd
            elif kind == 'insert':
                data[off:off] = rnd
            elif kind == 'delete':
                del data[off:off + ln]
            else:
                data += rnd
            newb += ln
        host = f"mod/rw{i:05d}"
        with open(os.path.join(work, host), 'wb') as f:
            f.write(data)
        os.chmod(os.path.join(work, host), m)
        cmds.append(f"rm {q(p)}")
        cmds.append(f"write {q(host)} {q(p)}")
        cmds.append(f"sif {q(p)} mode 0{0o100000 | m:o}")
    stats['rewritten'] = {'files': len(rws), 'bytes': acc, 'edited_bytes': newb}

    # 3. in-place block edits (~1 %): planned here, applied after debugfs by 'patch'
    plan, patched = [], 0
    for p, s, m in pool:
        if patched >= D * 0.01:
            break
        if p in used or s < 64 << 10:
            continue
        used.add(p)
        nblk = s // BS
        edits = []
        for j in range(rng.randint(1, 3)):
            ln = rng.choice([1, 1, 2, 4, 16])
            b = rng.randrange(0, max(1, nblk - ln))
            edits.append((b, min(ln, nblk - b)))
            patched += min(ln, nblk - b) * BS
        plan.append({'path': p, 'edits': edits})
    with open(os.path.join(work, 'inplace.json'), 'w') as f:
        json.dump(plan, f)
    with open(os.path.join(work, 'extents.cmds'), 'w') as f:
        for e in plan:
            f.write(f"ex -l {q(e['path'])}\n")

    # 4. new files in a home directory and /var/log
    mkd = ['/home', '/home/user', '/home/user/Downloads', '/home/user/data',
           '/home/user/.cache', '/home/user/notes', '/home/user/backup', '/var', '/var/log']
    for d in mkd:
        cmds.append(f"mkdir {q(d)}")
    # 4a. incompressible data (~1 %)
    acc, i = 0, 0
    while acc < D * 0.01:
        n = int(min(4 << 20, max(512, rng.lognormvariate(10.0, 1.5))))
        d = rng.choice(['/home/user/Downloads', '/home/user/data', '/home/user/.cache'])
        host = f"mod/new{i:05d}"
        with open(os.path.join(work, host), 'wb') as f:
            f.write(shake(f"{seed}:new:{i}", n))
        os.chmod(os.path.join(work, host), 0o644)
        cmds.append(f"write {q(host)} {q(f'{d}/file-{i:05d}.bin')}")
        acc += n; i += 1
    stats['new_random'] = {'files': i, 'bytes': acc}
    # 4b. compressible text (~0.5 %)
    vocab = [''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rng.randint(2, 10)))
             for _ in range(2000)]
    acc, i = 0, 0
    while acc < D * 0.005:
        nlines = rng.randint(20, 4000)
        lines = []
        for k in range(nlines):
            ts = t_user - rng.randrange(0, 30 * 86400)
            lines.append(f"{ts} host app[{rng.randint(100, 9999)}]: " +
                         ' '.join(rng.choices(vocab, k=rng.randint(3, 18))))
        data = ('\n'.join(lines) + '\n').encode()
        if i % 3 == 0:
            dst = f"/var/log/app-{i:04d}.log"
        else:
            dst = f"/home/user/notes/note-{i:04d}.txt"
        host = f"mod/txt{i:05d}"
        with open(os.path.join(work, host), 'wb') as f:
            f.write(data)
        os.chmod(os.path.join(work, host), 0o644)
        cmds.append(f"write {q(host)} {q(dst)}")
        acc += len(data); i += 1
    stats['new_text'] = {'files': i, 'bytes': acc}
    # 4c. duplicates of existing files (identical content at a new place, ~0.5 %)
    acc, i = 0, 0
    for p, s, m in pool:
        if acc >= D * 0.005:
            break
        if p in used or not (4096 <= s <= 8 << 20):
            continue
        host = "stage" + p
        cmds.append(f"write {q(host)} {q(f'/home/user/backup/{i:05d}-' + os.path.basename(p))}")
        acc += s; i += 1
    stats['duplicated'] = {'files': i, 'bytes': acc}

    with open(os.path.join(work, 'user.cmds'), 'w') as f:
        f.write('\n'.join(cmds) + '\n')
    with open(os.path.join(work, 'user-stats.json'), 'w') as f:
        json.dump(stats, f)

EXT_RE = re.compile(r'^\s*\d+/\s*\d+\s+\d+/\s*\d+\s+(\d+)\s*-\s*(\d+)\s+(\d+)\s*-\s*(\d+)\s+(\d+)\s*(.*)$')

def cmd_patch(seed, work, image, t_user):
    seed = int(seed)
    plan = json.load(open(os.path.join(work, 'inplace.json')))
    # parse 'ex -l' output: sections start with "debugfs: ex -l "path""
    extents, cur = {}, None
    for line in open(os.path.join(work, 'extents.out')):
        if line.startswith('debugfs: ex -l '):
            cur = line[len('debugfs: ex -l '):].strip().strip('"')
            extents[cur] = []
            continue
        m = EXT_RE.match(line)
        if m and cur is not None:
            lstart, lend, pstart, pend, length, flags = m.groups()
            if 'Uninit' in flags:
                continue
            extents[cur].append((int(lstart), int(lend), int(pstart)))
    patched, files = 0, 0
    sifs = []
    with open(image, 'r+b') as img:
        for k, e in enumerate(plan):
            ext = extents.get(e['path'], [])
            touched = False
            for j, (b0, n) in enumerate(e['edits']):
                for b in range(b0, b0 + n):
                    for ls, le, ps in ext:
                        if ls <= b <= le:
                            img.seek((ps + b - ls) * BS)
                            img.write(shake(f"{seed}:inplace:{k}:{j}:{b}", BS))
                            patched += BS; touched = True
                            break
            if touched:
                files += 1
                sifs.append(f"sif {q(e['path'])} mtime @{t_user}\nsif {q(e['path'])} ctime @{t_user}\n")
    with open(os.path.join(work, 'patch.cmds'), 'w') as f:
        f.write(''.join(sifs))
    st = json.load(open(os.path.join(work, 'user-stats.json')))
    st['inplace'] = {'files': files, 'bytes_patched': patched}
    json.dump(st, open(os.path.join(work, 'user-stats.json'), 'w'))

def cmd_report(work):
    st = json.load(open(os.path.join(work, 'user-stats.json')))
    D = st['data_bytes']
    mib = lambda b: f"{b/1048576:8.1f} MiB ({100.0*b/D:4.2f} %)"
    lines = [
        f"base data:             {D/1048576:8.1f} MiB",
        f"deleted:               {mib(st['deleted']['bytes'])} in {st['deleted']['files']} files",
        f"rewritten (rm+write):  {mib(st['rewritten']['bytes'])} in {st['rewritten']['files']} files "
        f"({st['rewritten']['edited_bytes']} bytes actually edited/inserted)",
        f"patched in place:      {mib(st['inplace']['bytes_patched'])} in {st['inplace']['files']} files",
        f"new random data:       {mib(st['new_random']['bytes'])} in {st['new_random']['files']} files",
        f"new text/log data:     {mib(st['new_text']['bytes'])} in {st['new_text']['files']} files",
        f"duplicated files:      {mib(st['duplicated']['bytes'])} in {st['duplicated']['files']} files",
    ]
    touched = (st['deleted']['bytes'] + st['rewritten']['bytes'] + st['inplace']['bytes_patched']
               + st['new_random']['bytes'] + st['new_text']['bytes'])
    lines.append(f"total changed:         {mib(touched)} (excluding duplicates)")
    print('\n'.join(lines))

cmd = sys.argv[1]
{'stage': cmd_stage, 'sifs': cmd_sifs, 'plan-user': cmd_plan_user,
 'patch': cmd_patch, 'report': cmd_report}[cmd](*sys.argv[2:])
PYEOF
py() { "${NICE[@]}" python3 -c "$PY" "$@"; }

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
