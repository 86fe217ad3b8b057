#!/usr/bin/env python3
"""Helpers for bench/make-corpus.sh: staging trees, debugfs command generation, user edits, report.

Usage: corpus.py stage|sifs|plan-user|patch|report ARGS... (called by make-corpus.sh, not by hand)."""
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
