"""Fuzz-suite plumbing: the outcome tally, the clear-error check and a per-input time limit.

Every generated input ends in exactly one outcome, counted by :class:`Tally`:

* ``accepted``  read without complaint, and every object in is an object out;
* ``clear_error``  an exception whose message names the file (and ``:line`` where a line is
  concerned) and says what was expected — checked by :meth:`Tally.error`;
* ``counted_skip``  read, with the bad part skipped and counted (objects in = out + skipped);
* ``traceback``  a CLI whose stderr ends in a Python traceback (must stay 0);
* ``silent_success``  a CLI that exits 0 on a broken input without a word about it (must stay 0;
  ``test_cli_fuzz.py``).

The totals are written at the end of the session to ``<pytest basetemp>/fuzz_counts.json`` (and
to ``$FUZZ_COUNTS_JSON`` when set, which ``report_counts.py`` uses) and printed in the summary.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
from collections import Counter

import pytest

PER_INPUT_S = 20  # any single input taking longer is a hang
# exceptions that mean our code broke, whatever their message says
BUG_TYPES = (AssertionError, AttributeError, NameError, IndexError, TypeError, ZeroDivisionError,
             UnboundLocalError, OverflowError, UnicodeDecodeError, RecursionError)


class Tally:
    def __init__(self):
        self.counts = Counter()
        self.by_target = Counter()

    def _add(self, target: str, outcome: str) -> None:
        self.counts['inputs_tried'] += 1
        self.counts[outcome] += 1
        self.by_target[f'{target}:{outcome}'] += 1

    def record(self, target: str, outcome: str) -> None:
        """One outcome decided by the caller (the CLI fuzz classifies whole tool runs)."""
        assert outcome in ('accepted', 'clear_error', 'counted_skip', 'traceback', 'silent_success'), outcome
        self._add(target, outcome)

    def accepted(self, target: str) -> None:
        self._add(target, 'accepted')

    def skip(self, target: str, n: int = 1) -> None:
        """An input read with ``n`` (> 0) bad parts skipped and counted by the code under test."""
        assert n > 0
        self._add(target, 'counted_skip')

    def error(self, target: str, exc: BaseException, path=None, line: int | None = None,
              expect: tuple = ()) -> None:
        """Assert ``exc`` is a clear error: message names ``path`` (file name), ``:line`` and the
        expectation words (any of ``expect``, case-insensitive); count it."""
        check_clear_message(str(exc), path, line, expect)
        assert not isinstance(exc, BUG_TYPES), f'{type(exc).__name__} is a bug, not an answer: {exc}'
        self._add(target, 'clear_error')

    def cli(self, target: str, stderr: str, rc: int, path=None, expect: tuple = ()) -> None:
        """A CLI run that failed: stderr's last line is one clear message, not a traceback."""
        lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
        if 'Traceback (most recent call last)' in stderr:
            self._add(target, 'traceback')
            pytest.fail(f'{target}: traceback as the message:\n{stderr[-2000:]}')
        assert rc != 0 and lines, f'{target}: rc={rc}, stderr={stderr!r}'
        check_clear_message(lines[-1], path, None, expect)
        self._add(target, 'clear_error')


def check_clear_message(msg: str, path=None, line: int | None = None, expect: tuple = ()) -> None:
    """The message names the file, the line (``file:line``) and what was expected."""
    assert msg and '\n' not in msg.strip(), f'not one line: {msg!r}'
    if path is not None:
        name = os.path.basename(str(path).rstrip('/'))
        assert name in msg, f'message does not name {name!r}: {msg!r}'
        if line is not None:
            assert re.search(rf'{re.escape(name)}:{line}\b', msg), f'message does not name {name}:{line}: {msg!r}'
    if expect:
        low = msg.lower()
        assert any(w.lower() in low for w in expect), f'message lacks any of {expect}: {msg!r}'


@contextlib.contextmanager
def time_limit(seconds: int = PER_INPUT_S):
    """Fail (never hang) when the body runs longer than ``seconds`` (SIGALRM, main thread)."""
    def on_alarm(signum, frame):
        raise TimeoutError(f'input took more than {seconds} s (hang)')

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


_TALLY = Tally()


@pytest.fixture(scope='session')
def fuzz(tmp_path_factory):
    yield _TALLY
    data = dict(_TALLY.counts, by_target=dict(sorted(_TALLY.by_target.items())))
    for key in ('inputs_tried', 'accepted', 'clear_error', 'counted_skip', 'traceback', 'silent_success'):
        data.setdefault(key, 0)
    paths = [tmp_path_factory.getbasetemp() / 'fuzz_counts.json']
    if os.environ.get('FUZZ_COUNTS_JSON'):
        paths.append(os.environ['FUZZ_COUNTS_JSON'])
    for p in paths:
        with open(p, 'w') as f:
            json.dump(data, f, indent=1)


@pytest.fixture
def limit():
    return time_limit


def pytest_terminal_summary(terminalreporter):
    c = _TALLY.counts
    if c['inputs_tried']:
        terminalreporter.write_line(
            f"fuzz: inputs tried {c['inputs_tried']}, accepted {c['accepted']}, clear errors {c['clear_error']}, "
            f"counted skips {c['counted_skip']}, tracebacks-as-message {c['traceback']}, "
            f"silent successes {c['silent_success']}")
    cli = {k: n for k, n in _TALLY.by_target.items() if k.startswith('cli:')}
    if cli:
        tried = sum(cli.values())
        count = {o: sum(n for k, n in cli.items() if k.endswith(':' + o))
                 for o in ('clear_error', 'counted_skip', 'traceback', 'silent_success')}
        terminalreporter.write_line(
            f"fuzz CLIs: cases tried {tried}, clear errors {count['clear_error']}, counted skips "
            f"{count['counted_skip']}, tracebacks {count['traceback']}, silent successes {count['silent_success']}")
