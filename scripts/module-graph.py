#!/usr/bin/env python3
"""The import graph of src/'s top-level modules, from their `crate::` paths.

Prints each module's imports (with how many times it names each), then any group of modules
that import each other, directly or round a longer loop. With --check it prints only the
loops and fails when there is one, or when pages (`app`) or the API (`api`) import the store:
`make test` runs it so that the layers stay a tree (pages and /v1 -> service -> domain and
store; `web` and `request` below pages and /v1).
"""
import os
import re
import sys
from collections import Counter, defaultdict

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def top_modules():
    names = set()
    for entry in os.listdir(ROOT):
        if entry in ("main.rs", "lib.rs"):
            continue
        names.add(entry[:-3] if entry.endswith(".rs") else entry)
    return names


def imports(tops):
    edges = defaultdict(Counter)
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(folder, name)
            top = os.path.relpath(path, ROOT).split(os.sep)[0].removesuffix(".rs")
            if top not in tops:
                continue
            text = open(path, encoding="utf-8").read()
            named = re.findall(r"crate::(\w+)", text)
            # `use crate::{a::x, b};` names a and b.
            for group in re.findall(r"crate::\{([^;]*?)\};", text, re.S):
                named += re.findall(r"(?:^|[,{\s])(\w+)(?=::|\s*[,}]|$)", group)
            for other in named:
                if other != top and other in tops:
                    edges[top][other] += 1
    return edges


def loops(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            visit(v)
    return found


def main():
    check = "--check" in sys.argv[1:]
    edges = imports(top_modules())
    if not check:
        for module in sorted(edges):
            print(f"{module} -> " + ", ".join(f"{m}({n})" for m, n in sorted(edges[module].items())))
    found = loops(edges)
    for component in found:
        print("modules that import each other: " + ", ".join(component))
    if not found and not check:
        print("no module imports another that imports it back, directly or round a loop")
    # Pages and the API go through the service layer.
    past_service = [m for m in ("app", "api") if edges.get(m, {}).get("store")]
    for module in past_service:
        print(f"{module} imports store directly; go through service")
    return 1 if check and (found or past_service) else 0


if __name__ == "__main__":
    sys.exit(main())
