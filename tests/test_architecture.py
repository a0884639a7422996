"""The package's layering (docs/architecture.md) holds: imports only look down, no import cycle,
torch-free modules stay torch-free, and nothing points outside the repository.

Read from the source with ``ast`` (nothing is imported), so the test is fast and independent of
what happens to be installed. Every import is checked, top-level and function-local alike: an
upward import hidden inside a function is still an upward arrow.
"""
from __future__ import annotations

import ast
import os
import os.path as osp
import subprocess

import pytest

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..'))
PKG = 'rotated_ld'

#: bottom to top; a module may import its own layer and the layers below it (docs/architecture.md)
LAYERS = (
    ('rotated_ld.version', 'rotated_ld._lazy', 'rotated_ld.registry', 'rotated_ld.structures'),
    ('rotated_ld.utils',),
    ('rotated_ld.ops',),
    ('rotated_ld.datasets',),
    ('rotated_ld.visualization',),
    ('rotated_ld.evaluation',),
    ('rotated_ld.models',),
    ('rotated_ld.engine', 'rotated_ld.deployment'),
    ('rotated_ld.apis',),
    ('rotated_ld',),
)

#: the only upward arrows, each with its reason (docs/architecture.md). MMEngine imports
#: ``<scope>.registry`` to activate the ``rotated_ld`` scope, so that import must also install the safe
#: checkpoint loader, the atomic checkpoint writer and the hub-name resolution; the three modules
#: import no registry, so no cycle comes of it (``test_no_import_cycle_between_modules``).
ALLOWED_UPWARD = {
    ('rotated_ld.registry', 'rotated_ld.engine.atomic_save'),
    ('rotated_ld.registry', 'rotated_ld.utils.checkpoint'),
    ('rotated_ld.registry', 'rotated_ld.utils.pretrained'),
}

#: modules that must not import torch (directly or through their top-level imports in the package)
TORCH_FREE = ('rotated_ld.structures.bbox',)


def _modules() -> dict[str, tuple[str, bool]]:
    """``module name -> (path, is_package)`` for every file of the package."""
    out = {}
    for dirpath, _, files in os.walk(osp.join(REPO, PKG)):
        for f in files:
            if f.endswith('.py'):
                path = osp.join(dirpath, f)
                name = osp.relpath(path, REPO)[:-3].replace(os.sep, '.')
                is_pkg = name.endswith('.__init__')
                out[name[:-len('.__init__')] if is_pkg else name] = (path, is_pkg)
    return out


MODULES = _modules()


def _imports(name: str) -> list[tuple[str, int, bool]]:
    """``(imported module, line, top_level)`` of one module; ``from x import y`` names ``x.y`` when
    that is a module of the package, else ``x``."""
    path, is_pkg = MODULES[name]
    tree = ast.parse(open(path, encoding='utf-8').read(), path)
    top = {id(n) for n in tree.body}
    for node in tree.body:  # `if TYPE_CHECKING:` / try blocks at module level still run at import
        if isinstance(node, (ast.If, ast.Try)):
            top |= {id(n) for n in ast.walk(node)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = name if is_pkg else name.rpartition('.')[0]
            if node.level:
                parts = base.split('.')
                base = '.'.join(parts[:len(parts) - node.level + 1])
                mod = f'{base}.{node.module}' if node.module else base
            else:
                mod = node.module
            for a in node.names:
                sub = f'{mod}.{a.name}'
                out.append((sub if sub in MODULES else mod, node.lineno, id(node) in top))
    return out


def _layer(module: str) -> int | None:
    best = None
    for i, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + '.')) and (best is None or len(p) > best[1]):
                best = (i, len(p))
    return None if best is None else best[0]


def test_every_package_has_a_layer():
    missing = sorted({m for m in MODULES if _layer(m) is None})
    assert not missing, f'modules outside the documented layers (add them to LAYERS and the docs): {missing}'


def test_imports_only_look_down():
    bad = []
    for m in MODULES:
        for target, line, _ in _imports(m):
            if target.split('.')[0] != PKG:
                continue
            lt = _layer(target)
            if lt is not None and lt > _layer(m) and (m, target) not in ALLOWED_UPWARD:
                bad.append(f'{MODULES[m][0]}:{line}: {m} imports {target} (a higher layer)')
    assert not bad, '\n'.join(bad)


def _cycle(graph: dict[str, set]) -> list[str] | None:
    """One cycle of ``graph`` (a list of nodes, first == last) or None (iterative DFS)."""
    colour = dict.fromkeys(graph, 0)
    for start in graph:
        if colour[start]:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        colour[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                colour[node] = 2
                stack.pop()
                path.pop()
            elif colour.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif colour.get(nxt) == 0:
                colour[nxt] = 1
                stack.append((nxt, iter(sorted(graph[nxt]))))
                path.append(nxt)
    return None


def test_no_import_cycle_between_modules():
    """Top-level imports between modules form no cycle (a package ``__init__`` re-exporting its own
    submodules is not an edge back from them)."""
    graph: dict[str, set] = {m: set() for m in MODULES}
    for m, (_, is_pkg) in MODULES.items():
        for target, _, top in _imports(m):
            if not top or target not in MODULES or target == m:
                continue
            if is_pkg and target.startswith(m + '.'):
                continue  # the package imports its own children: the normal direction
            graph[m].add(target)
    cycle = _cycle(graph)
    assert cycle is None, 'import cycle: ' + ' -> '.join(cycle)


def test_cycle_detector_finds_a_planted_cycle():
    assert _cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) == ['a', 'b', 'c', 'a']
    assert _cycle({'a': {'b'}, 'b': set()}) is None



def _unexplained_local_imports(source: str) -> list[int]:
    """Lines of function-local imports that no ``# local: <why>`` comment explains.

    The comment stands on the import line, or above it with only imports, comments and blank lines
    in between (one comment may explain a block of imports).
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    local, import_lines = [], set()
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    local.append(node.lineno)
                    import_lines.update(range(node.lineno, node.end_lineno + 1))
    bad = []
    for first in sorted(set(local)):
        i = first
        while i >= 1:
            text = lines[i - 1].strip()
            if '# local:' in text:
                break
            if i != first and text and not text.startswith('#') and i not in import_lines:
                i = 0  # reached code: no explanation
                break
            i -= 1
        if i < 1:
            bad.append(first)
    return bad


def test_function_local_imports_say_why():
    """A function-local import hides an edge; it is only there to break a real cycle or to keep torch
    (or a slow optional import) out of a module that must load without it, and says so in a
    ``# local: <why>`` comment. Everything else is imported at the top."""
    bad = []
    for path, _ in MODULES.values():
        bad += [f'{path}:{line}' for line in _unexplained_local_imports(open(path, encoding='utf-8').read())]
    assert not bad, 'function-local imports without a "# local: <why>" comment:\n' + '\n'.join(bad)


def test_local_import_check_finds_a_planted_one():
    src = ('import os\n\n\ndef f():\n    x = 1\n\n    import json\n    return x\n\n\n'
           'def g():\n    import torch  # local: torch-free module\n\n    from a import (b,\n        c)\n'
           '    import numpy\n\n\ndef h():\n    # local: a cycle\n    import re\n    y = 2\n    import sys\n')
    assert _unexplained_local_imports(src) == [7, 23]


@pytest.mark.parametrize('root', TORCH_FREE)
def test_torch_free_modules_import_no_torch(root):
    """Everything reachable from ``root`` through top-level imports stays off torch / MMEngine.

    The package root ``rotated_ld/__init__.py`` is left out: making it lazy is the torch-free
    tools' business (their own test imports the modules for real).
    """
    parts = root.split('.')
    todo = [m for m in MODULES if m == root or m.startswith(root + '.')]
    todo += ['.'.join(parts[:i]) for i in range(2, len(parts))]
    seen = set()
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        for target, line, top in _imports(m):
            if not top:
                continue
            head = target.split('.')[0]
            assert head not in ('torch', 'torchvision', 'mmengine'), \
                f'{MODULES[m][0]}:{line}: {m} imports {target} at import time (must stay torch-free)'
            if target in MODULES:
                todo.append(target)
                # importing a module runs its parent packages' __init__ too
                tparts = target.split('.')
                todo += ['.'.join(tparts[:i]) for i in range(2, len(tparts))]


def test_nothing_points_outside_the_repository():
    """Code, configs, tests and docs refer to docs/ in the repository, not to notes outside it."""
    pattern = '|'.join(['ld-' + 'method', r'\.\./' + 'shared', 'shared/' + 'notes', 'shared/' + 'design',
                        'cpu-training-' + 'from-scratch'])
    res = subprocess.run(['git', 'grep', '-n', '-E', pattern], cwd=REPO, capture_output=True, text=True)
    if res.returncode not in (0, 1):
        pytest.skip(f'not a git checkout: {res.stderr.strip()}')
    assert res.stdout == '', 'references to files outside the repository:\n' + res.stdout


def _test_files(top: str) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = [d for d in dirnames if d != '__pycache__']
        out += [osp.join(dirpath, f) for f in filenames if f.startswith('test_') and f.endswith('.py')]
    return out


def test_model_tests_mirror_the_package():
    """tests/test_models/ holds one folder per models/ subpackage (test_<name>) and no flat test file."""
    top = osp.join(REPO, 'tests', 'test_models')
    flat = sorted(f for f in os.listdir(top) if f.endswith('.py'))
    assert flat == [], f'put these into tests/test_models/test_<subpackage>/ (docs/architecture.md): {flat}'
    for name in sorted(os.listdir(top)):
        if name in ('pins', '__pycache__') or not osp.isdir(osp.join(top, name)):
            continue
        sub = name[len('test_'):] if name.startswith('test_') else None
        assert sub and osp.isdir(osp.join(REPO, PKG, 'models', sub)), \
            f'tests/test_models/{name}/ mirrors no rotated_ld/models/ subpackage'


def test_test_file_basenames_are_unique():
    """pytest imports test files by basename (prepend mode), so two test_x.py anywhere under tests/ clash."""
    seen: dict[str, list[str]] = {}
    for path in _test_files(osp.join(REPO, 'tests')):
        seen.setdefault(osp.basename(path), []).append(osp.relpath(path, REPO))
    clashes = {k: v for k, v in seen.items() if len(v) > 1}
    assert clashes == {}, f'test file basenames must be unique under tests/: {clashes}'


def test_test_folders_mirror_the_package():
    """tests/test_<name>/ tests rotated_ld/<name>/; the only other folders are the ones listed here."""
    not_packages = {'test_configs': 'configs/', 'test_tools': 'tools/', 'test_fuzz': 'broken input to readers/CLIs'}
    top = osp.join(REPO, 'tests')
    for name in sorted(os.listdir(top)):
        if not osp.isdir(osp.join(top, name)) or name in not_packages or name.startswith(('__', '.')):
            continue
        assert name.startswith('test_') and osp.isdir(osp.join(REPO, PKG, name[len('test_'):])), \
            f'tests/{name}/ mirrors no rotated_ld/ package (docs/architecture.md, "Where the tests live")'
