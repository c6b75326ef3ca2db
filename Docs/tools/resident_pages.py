#!/usr/bin/env python3
"""Resident pages of one mapped file of a running process, by module (Swift mangling) or symbol.

Usage (root, for /proc/PID/pagemap): resident_pages.py PID /path/to/binary
Prints KB resident per module of the executable segments, as in Docs/PERFORMANCE.md "Idle memory".
"""
pid = int(sys.argv[1]); path = sys.argv[2]
maps = [l.split() for l in open(f'/proc/{pid}/maps')]
segs = [m for m in maps if len(m) >= 6 and m[5] == path]
# symbols: address -> name (file offsets == vaddr for PIE text here since first segment offset 0)
nm = subprocess.run(['nm', '-n', '--defined-only', path], capture_output=True, text=True).stdout.split('\n')
addrs=[]; names=[]
for l in nm:
    p = l.split(' ', 2)
    if len(p) == 3 and p[1] in 'tTwW':
        addrs.append(int(p[0],16)); names.append(p[2])
def module(n):
    if n.startswith('CCryptoBoringSSL') or 'BoringSSL' in n: return 'BoringSSL'
    m = re.match(r'\$s(\d+)', n)
    if m:
        k=int(m.group(1)); return n[2+len(m.group(1)):2+len(m.group(1))+k]
    return 'other:' + n[:20]
pm = open(f'/proc/{pid}/pagemap','rb')
base = int(segs[0][0].split('-')[0],16)
tot = collections.Counter()
for m in segs:
    lo, hi = [int(x,16) for x in m[0].split('-')]; off = int(m[2],16)
    if 'x' not in m[1]: continue
    for va in range(lo, hi, 4096):
        pm.seek(va//4096*8); e = struct.unpack('Q', pm.read(8))[0]
        if e >> 63:
            fo = va - lo + off
            i = bisect.bisect_right(addrs, fo) - 1
            tot[module(names[i]) if i >= 0 else '?'] += 4
for k,v in tot.most_common(25): print(v, 'KB', k)
print(sum(tot.values()), 'KB total')
