"""Who calls a hot leaf: python3 perfcallers.py FILE LEAF_REGEX [DEPTH] [TOP].

Counts the samples whose leaf frame (symbol and library) matches LEAF_REGEX by the DEPTH frames
above it, e.g. `perfcallers.py prof.txt _raw_spin_unlock_irqrestore 4`.
"""
import collections,re,sys
target=sys.argv[2]; depth=int(sys.argv[3]) if len(sys.argv)>3 else 4
samples=[];cur=None
for line in open(sys.argv[1],errors='replace'):
    line=line.rstrip('\n')
    if not line.strip():
        if cur is not None: samples.append(cur); cur=None
        continue
    if not line.startswith((' ','\t')):
        if cur is not None: samples.append(cur)
        cur=[];continue
    m=re.match(r"\s*([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$",line)
    if m and cur is not None: cur.append((m.group(2),m.group(3).split('/')[-1]))
c=collections.Counter();tot=0
for s in samples:
    if s and re.search(target, s[0][0]+' '+s[0][1]):
        tot+=1
        c[' < '.join(re.sub(r'\[[^\]]*\]|System\.|Gatehouse\.|instance |valuetype |class ','',x[0])[:60] for x in s[1:1+depth])]+=1
print('total',tot,len(samples))
for k,v in c.most_common(int(sys.argv[4]) if len(sys.argv)>4 else 20): print(v,k)
