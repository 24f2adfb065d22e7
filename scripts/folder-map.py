#!/usr/bin/env python3
# References between the folders of src/Gatehouse (types and namespaces), and the cycles among them.
# Usage: python3 scripts/folder-map.py [-v]   (run from the repository root)
import os,re,sys,collections
root='src/Gatehouse'
folders=[d for d in os.listdir(root) if os.path.isdir(os.path.join(root,d)) and d not in('bin','obj')]
types={}  # type name -> folder
files={}
for f in folders:
    for dp,_,fs in os.walk(os.path.join(root,f)):
        for fn in fs:
            if fn.endswith('.cs'):
                p=os.path.join(dp,fn); t=open(p).read(); files[p]=(f,t)
                for m in re.finditer(r'\b(?:class|record|struct|interface|enum)\s+(?:struct\s+)?([A-Z]\w*)',t):
                    types.setdefault(m.group(1),set()).add(f)
# top-level files (Program.cs)
edges=collections.defaultdict(lambda: collections.defaultdict(set))
for p,(f,t) in files.items():
    body=re.sub(r'//.*','',t)
    body=re.sub(r'"(?:[^"\\]|\\.)*"','""',body)
    for m in re.finditer(r'(?:\bGatehouse\.|(?<![.\w]))('+'|'.join(folders)+r')\.[A-Z]',body):
        g=m.group(1)
        if g!=f: edges[f][g].add(os.path.basename(p)+':ns')
    body=re.sub(r'(?<=\.)[A-Z]\w*','',body)  # member names after a dot are not type references
    body=re.sub(r'(public|internal|private)\s+[\w<>?,\[\] ]+\s+[A-Z]\w*\s*\{\s*get','',body)  # property declarations
    body=re.sub(r'\b(?:string|bool|int|long)\??\s+[A-Z]\w*','',body)  # declarations of primitive-typed members
    body=re.sub(r'\b[A-Z]\w*(?=\s*=[^=>])','',body)  # assignments to members
    for w in set(re.findall(r'\b[A-Z]\w+\b',body)):
        for g in types.get(w,()):
            if g!=f and f not in types[w]:
                edges[f][g].add(os.path.basename(p)+':'+w)
verbose='-v' in sys.argv
for f in sorted(edges):
    for g in sorted(edges[f]):
        items=sorted(edges[f][g])
        print(f"{f} -> {g}: "+(', '.join(items) if verbose else str(len(items))+' refs'))
# cycles: SCCs
import itertools
G={f:set(edges[f]) for f in folders}
idx={};low={};st=[];on=set();out=[];c=[0]
def sc(v):
    idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
    for w in G[v]:
        if w not in idx: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        comp=[]
        while True:
            w=st.pop();on.discard(w);comp.append(w)
            if w==v:break
        out.append(comp)
for v in folders:
    if v not in idx: sc(v)
print('strongly connected groups (cycles):',[sorted(x) for x in out if len(x)>1])
