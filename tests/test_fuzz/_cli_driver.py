"""Run many command-line tool invocations in ONE Python process (a subprocess of the test).

    python tests/test_fuzz/_cli_driver.py cases.json results.json

``cases.json`` is a list of ``{"tool": "tools/test.py", "argv": [...]}``. Each tool module is
loaded from its file once and its (entry-wrapped) ``main(argv)`` is called with stdout / stderr
captured: the same code path as ``python tools/X.py ARGS`` except the interpreter start-up, which
costs several seconds with torch and would otherwise be paid per case. ``results.json`` gets, per
case, ``rc`` (the exit code; argparse's ``SystemExit`` included), ``stderr``, ``stdout`` (tails)
and ``escaped``: the traceback of an exception that got past the entry wrapper (must never happen).
"""
from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import sys
import traceback

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
_MODULES: dict = {}


def load_tool(path: str):
    if path not in _MODULES:
        full = os.path.join(ROOT, path)
        sys.path.insert(0, os.path.dirname(full))  # tools import their siblings (e.g. split configs)
        name = 'cli_' + os.path.splitext(path.replace('/', '_'))[0]
        spec = importlib.util.spec_from_file_location(name, full)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        _MODULES[path] = module
    return _MODULES[path]


def run_case(case: dict) -> dict:
    out, err = io.StringIO(), io.StringIO()
    escaped = None
    rc = None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            result = load_tool(case['tool']).main(list(case['argv']))
        rc = result if isinstance(result, int) else 0
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if isinstance(e.code, str):
            err.write(e.code + '\n')
    except BaseException:  # noqa: BLE001  (recorded: the test fails on it)
        escaped = traceback.format_exc()
        rc = 1
    return dict(rc=rc, stderr=err.getvalue()[-4000:], stdout=out.getvalue()[-4000:], escaped=escaped)


def main(cases_path: str, results_path: str) -> int:
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    with open(cases_path) as f:
        cases = json.load(f)
    results = []
    for case in cases:
        results.append(run_case(case))
        with open(results_path, 'w') as f:  # after every case: a hang still leaves the others
            json.dump(results, f)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2]))
