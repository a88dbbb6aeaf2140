#!/usr/bin/env python3
"""Module import graph of every workspace crate: reports import cycles between source files.

For each member of the root Cargo.toml's workspace, the files under its `src/` are linked
file -> file by the crate-relative paths they use (`use crate::…`, `use super::…`, `use self::…`,
and `crate::…` / `super::…` paths in code). A path names the file of the longest module prefix it
has; a name a module re-exports (`pub use`, `pub(crate) use`) resolves to where it comes from, so
`crate::Name` re-exported by lib.rs from `m` is an edge to m's file, not to lib.rs. Declaring a
module (`mod child;`) is no edge. Inside inline modules (`#[cfg(test)] mod tests { … }`) `super`
is the file's own module, so a test block importing its parent adds nothing.

Every strongly connected component of more than one file is a cycle: it is printed with the
edges inside it, and the exit status is 1. Usage: tools/modgraph.py [crate-dir …] (default: every
workspace member).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def workspace_members(root: Path) -> list[Path]:
    text = (root / "Cargo.toml").read_text()
    ws = re.search(r"^\[workspace\](.*?)(?=^\[|\Z)", text, re.S | re.M)
    if not ws:
        return [root]
    members = re.search(r"members\s*=\s*\[(.*?)\]", ws.group(1), re.S)
    if not members:
        return [root]
    return [(root / m).resolve() for m in re.findall(r'"([^"]+)"', members.group(1))]


def strip(src: str) -> str:
    """Source with comments, string and char literals blanked (offsets and newlines kept), and
    the paths of `pub(in path)` visibilities, which name a module without importing from it."""
    return re.sub(r"pub\s*\(\s*in\s+[^)]*\)", lambda m: "pub" + " " * (len(m.group(0)) - 3),
                  strip_literals(src))


def strip_literals(src: str) -> str:
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif (m := re.match(r'b?r(#*)"', src[i:])) and (i == 0 or not re.match(r"\w", src[i - 1])):
            end = '"' + m.group(1)
            j = src.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c == "'" and (m := re.match(r"'(\\.[^']*|[^\\'\n])'", src[i:])):
            out.append(" " * m.end())
            i += m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def matching_brace(text: str, open_at: int) -> int:
    depth = 0
    for j in range(open_at, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(text)


def expand_use(tree: str) -> list[tuple[list[str], str | None]]:
    """`a::{b, c::{d as e, self}}` -> [([a, b], None), ([a, c, d], "e"), ([a, c], None)]."""
    tree = re.sub(r"\s+as\s+(" + IDENT + r")", r"@\1", tree)
    tree = re.sub(r"\s+", "", tree)
    if tree.startswith("::"):
        tree = tree[2:]
    if not tree:
        return []
    brace = tree.find("{")
    if brace < 0:
        path, _, alias = tree.partition("@")
        return [([p for p in path.split("::") if p], alias or None)]
    prefix = [p for p in tree[:brace].split("::") if p]
    inner = tree[brace + 1 : tree.rfind("}")]
    items, depth, start = [], 0, 0
    for j, ch in enumerate(inner):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(inner[start:j])
            start = j + 1
    items.append(inner[start:])
    out = []
    for item in items:
        if not item:
            continue
        for sub, alias in expand_use(item):
            if sub == ["self"]:
                out.append((prefix, alias))
            else:
                out.append((prefix + sub, alias))
    return out


USE_RE = re.compile(r"\b(pub(?:\s*\([^)]*\))?\s+)?use\s+([^;]+);")
MOD_DECL_RE = re.compile(r"\bmod\s+(" + IDENT + r")\s*;")
INLINE_MOD_RE = re.compile(r"\bmod\s+(" + IDENT + r")\s*\{")
PATH_RE = re.compile(r"(?<![\w:])(" + IDENT + r"(?:\s*::\s*(?:" + IDENT + r"))+)")


class Crate:
    def __init__(self, src: Path, root_file: Path):
        self.src = src
        self.modules: dict[tuple[str, ...], Path] = {}
        self.texts: dict[Path, str] = {}
        self.file_mod: dict[Path, tuple[str, ...]] = {}
        self._load((), root_file, root_file.parent)

    def _load(self, path: tuple[str, ...], file: Path, child_dir: Path) -> None:
        if file in self.texts or not file.exists():
            return
        self.modules[path] = file
        self.file_mod[file] = path
        text = strip(file.read_text(encoding="utf-8", errors="replace"))
        # Inline module bodies are scanned as part of the file; their `mod x;` lines are rare.
        self.texts[file] = text
        for name in MOD_DECL_RE.findall(text):
            for cand in (child_dir / f"{name}.rs", child_dir / name / "mod.rs"):
                if cand.exists():
                    sub_dir = cand.parent if cand.name == "mod.rs" else child_dir / name
                    self._load(path + (name,), cand, sub_dir)
                    break

    def reexports(self, module: tuple[str, ...]) -> dict[str, list[str]]:
        """Names `module` re-exports, to the absolute paths they come from."""
        cache = getattr(self, "_rx", None)
        if cache is None:
            cache = self._rx = {}
        if module in cache:
            return cache[module]
        cache[module] = {}
        file = self.modules.get(module)
        if file is None:
            return cache[module]
        text = self.texts[file]
        out = {}
        for m in USE_RE.finditer(text):
            if not m.group(1):
                continue
            for parts, alias in expand_use(m.group(2)):
                absolute = self.absolute(module, parts)
                if absolute is None or not parts or parts[-1] == "*":
                    continue
                out[alias or parts[-1]] = absolute
        cache[module] = out
        return out

    def absolute(self, module: tuple[str, ...], parts: list[str]) -> list[str] | None:
        """`parts` as a path from the crate root, or None when it leaves the crate."""
        if not parts:
            return None
        cur = list(module)
        head = parts[0]
        if head == "crate":
            return parts[1:]
        if head in ("self", "super"):
            i = 0
            while i < len(parts) and parts[i] in ("self", "super"):
                if parts[i] == "super":
                    if not cur:
                        return None
                    cur.pop()
                i += 1
            return cur + parts[i:]
        # A bare first segment: a child module declared here (2018 paths), else another crate.
        if tuple(cur + [head]) in self.modules:
            return cur + parts
        return None

    def file_of(self, path: list[str], seen: int = 0) -> Path | None:
        """The file defining what `path` (from the crate root) names."""
        best = ()
        for k in range(len(path) + 1):
            if tuple(path[:k]) in self.modules:
                best = tuple(path[:k])
            else:
                break
        rest = path[len(best) :]
        if rest and seen < 16:
            target = self.reexports(best).get(rest[0])
            if target is not None and target != list(best) + [rest[0]]:
                return self.file_of(target + rest[1:], seen + 1)
        return self.modules.get(best)

    def edges(self) -> dict[Path, dict[Path, str]]:
        graph: dict[Path, dict[Path, str]] = {f: {} for f in self.texts}
        for file, text in self.texts.items():
            base = self.file_mod[file]
            spans = []
            for m in INLINE_MOD_RE.finditer(text):
                open_at = m.end() - 1
                spans.append((m.start(), matching_brace(text, open_at), m.group(1)))

            def module_at(pos: int) -> tuple[str, ...]:
                inner = [name for (s, e, name) in spans if s <= pos <= e]
                return base + tuple(inner)

            refs: list[tuple[int, list[str]]] = []
            use_spans = []
            for m in USE_RE.finditer(text):
                use_spans.append((m.start(), m.end()))
                for parts, _ in expand_use(m.group(2)):
                    refs.append((m.start(), [p for p in parts if p != "*"]))
            for m in PATH_RE.finditer(text):
                if any(s <= m.start() < e for s, e in use_spans):
                    continue
                parts = [p.strip() for p in m.group(1).split("::")]
                refs.append((m.start(), parts))
            for pos, parts in refs:
                absolute = self.absolute(module_at(pos), parts)
                if absolute is None:
                    continue
                target = self.file_of(absolute)
                if target is not None and target != file:
                    graph[file].setdefault(target, "::".join(parts))
        return graph


def sccs(graph: dict[Path, dict[Path, str]]) -> list[list[Path]]:
    index: dict[Path, int] = {}
    low: dict[Path, int] = {}
    stack: list[Path] = []
    on: set[Path] = set()
    out: list[list[Path]] = []
    counter = [0]

    def visit(v: Path) -> None:
        work = [(v, iter(sorted(graph.get(v, {}))))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        while work:
            node, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph.get(w, {})))))
                    advanced = True
                    break
                if w in on:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def check(crate_dir: Path) -> int:
    src = crate_dir / "src"
    roots = [src / n for n in ("lib.rs", "main.rs") if (src / n).exists()]
    roots += sorted((src / "bin").glob("*.rs")) if (src / "bin").exists() else []
    cycles = 0
    for root_file in roots:
        crate = Crate(src, root_file)
        graph = crate.edges()
        rel = lambda p: str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)
        for comp in sccs(graph):
            if len(comp) < 2:
                continue
            cycles += 1
            print(f"cycle in {rel(root_file)}: " + ", ".join(rel(f) for f in comp))
            members = set(comp)
            for f in comp:
                for t, via in sorted(graph[f].items()):
                    if t in members:
                        print(f"    {rel(f)} -> {rel(t)}  ({via})")
    return cycles


def main(argv: list[str]) -> int:
    dirs = [Path(a).resolve() for a in argv] or workspace_members(ROOT)
    total = 0
    for d in dirs:
        total += check(d)
    if total:
        print(f"{total} cycle(s)")
        return 1
    print(f"no cycles in {len(dirs)} crate(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
