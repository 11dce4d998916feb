#!/usr/bin/env python3
"""The shape of `src/`, measured: import circles between files, imports that point up (a domain
or `http/` reaching into `ui/`, a domain into `http/`), the longest functions, and lines per
folder. Reads the source as text (`use crate::…`, `super::…` and inline `crate::…` paths).

    python3 scripts/structure.py [--top N]
"""

import os
import re
import sys
from collections import defaultdict

SRC = os.path.join(os.path.dirname(__file__), "..", "src")
# what may not import what: a module under the key must not reach a module under any value
UPWARD = {
    "http": ("ui", "server_fns"),
    "accounts": ("http", "ui", "server_fns"),
    "oauth": ("http", "ui", "server_fns"),
    "sso": ("http", "ui", "server_fns"),
    "payments": ("http", "ui", "server_fns", "stripe_simulator"),
    "stripe_simulator": ("http", "ui", "server_fns", "payments"),
    "db": ("http", "ui", "server_fns"),
}


def modules() -> dict[str, str]:
    """module path (a::b) → file"""
    found = {}
    for root, _, files in os.walk(SRC):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(root, f), SRC)[:-3].split(os.sep)
            if rel[-1] in ("mod", "lib", "main"):
                rel = rel[:-1]
            found["::".join(rel)] = os.path.join(root, f)
    return found


def strip(text: str) -> str:
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def expand_use(tree: str) -> list[str]:
    """`a::{b, c::{d, e}}` → [a::b, a::c::d, a::c::e]"""
    tree = re.sub(r"\s+", "", tree)
    m = re.match(r"^(.*?)\{(.*)\}$", tree)
    if not m:
        return [tree]
    prefix, inner = m.groups()
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    return [x for p in parts if p for x in expand_use(prefix + p)]


def imports(mod: str, text: str, known: set[str]) -> set[str]:
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        paths += expand_use(m.group(1))
    paths += re.findall(r"\b(?:crate|super)(?:::[A-Za-z_][A-Za-z0-9_]*)+", text)
    out = set()
    here = mod.split("::") if mod else []
    for p in paths:
        segs = p.split("::")
        if segs[0] == "crate":
            segs = segs[1:]
        elif segs[0] in ("super", "self"):
            base = list(here)
            while segs and segs[0] == "super":
                base = base[:-1] if base else base
                segs = segs[1:]
            if segs and segs[0] == "self":
                segs = segs[1:]
            segs = base + segs
        else:
            continue
        for n in range(len(segs), 0, -1):
            cand = "::".join(segs[:n])
            if cand in known:
                if cand != mod:
                    out.add(cand)
                break
    return out


def sccs(graph: dict[str, set[str]]) -> list[list[str]]:
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))
    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def functions(path: str) -> list[tuple[int, str, int]]:
    lines = open(path).read().split("\n")
    out = []
    for i, line in enumerate(lines):
        m = re.match(r"\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?(?:const\s+)?(?:unsafe\s+)?fn\s+(\w+)", line)
        if not m:
            continue
        depth, started = 0, False
        for j in range(i, len(lines)):
            code = strip(lines[j])
            if not started and ";" in code and "{" not in code:
                break
            depth += code.count("{") - code.count("}")
            started = started or "{" in code
            if started and depth <= 0:
                out.append((j - i + 1, m.group(1), i + 1))
                break
    return out


def main() -> None:
    top = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 10
    mods = modules()
    known = set(mods)
    graph = {m: imports(m, strip(open(f).read()), known) for m, f in mods.items()}
    # folder-level edges: a file in a folder imports a file in another folder
    circles = sccs(graph)
    print(f"files: {len(mods)}; import edges between files: {sum(len(v) for v in graph.values())}")
    print(f"import circles (strongly connected files): {len(circles)}")
    for c in sorted(circles, key=len, reverse=True):
        print(f"  {len(c)} files: {', '.join(c)}")
    upward = []
    for m, deps in graph.items():
        area = m.split("::")[0]
        for d in deps:
            if d.split("::")[0] in UPWARD.get(area, ()):
                upward.append(f"{m} → {d}")
    print(f"upward imports: {len(upward)}")
    for u in sorted(upward):
        print(f"  {u}")
    fns = [(n, name, os.path.relpath(f, os.path.join(SRC, "..")), line)
           for m, f in mods.items() for n, name, line in functions(f)]
    fns.sort(reverse=True)
    print(f"functions: {len(fns)}; over 50 lines: {sum(1 for f in fns if f[0] > 50)}; "
          f"longest {top}:")
    for n, name, f, line in fns[:top]:
        print(f"  {n:4} {name}  {f}:{line}")
    per = defaultdict(int)
    for m, f in mods.items():
        folder = os.path.relpath(os.path.dirname(f), SRC)
        per["src/" if folder == "." else folder.split(os.sep)[0] + "/"] += sum(1 for _ in open(f))
    print("lines per folder: " + ", ".join(f"{k} {v}" for k, v in sorted(per.items(), key=lambda x: -x[1])))


if __name__ == "__main__":
    main()
