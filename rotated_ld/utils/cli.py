"""One entry wrapper for every command-line tool: one line per error, documented exit codes.

Every ``tools/*.py`` ``main(argv)`` is decorated with :func:`cli_main`. A known error (bad file,
malformed data, config or checkpoint problem) ends the tool with **one line** on stderr,
``<tool>: error: <message>``, where the message names the file and what was expected; an
unexpected one (a bug, out of memory, a CUDA failure) with one line that names the exception type.
``--debug`` (any tool) or the environment variable ``ROTATED_LD_DEBUG=1`` prints the traceback
before that line.

Exit codes (the same in every tool, see docs/tools.md):

====  ========================================================================================
0     success
1     runtime failure: an unexpected exception (a bug, out of memory, a device error)
2     bad input or usage: a missing / unreadable / malformed file, a config error, a checkpoint
      that is corrupt, refused or does not fit, a checker (check_dataset, check_submission)
      that found errors; argparse usage errors
3     training stopped on a non-finite loss
130   interrupted (Ctrl-C)
====  ========================================================================================

An exception class may set ``exit_code`` (e.g. ``exit_code = 2`` on a ``RuntimeError`` subclass
that means bad input). This module imports nothing heavy (no torch, no mmengine) so that the
tools that need neither start fast.
"""
from __future__ import annotations

import errno
import functools
import os
import sys
import traceback
from typing import Callable, Optional, Sequence

__all__ = ['EXIT_OK', 'EXIT_FAILURE', 'EXIT_BAD_INPUT', 'EXIT_NON_FINITE', 'EXIT_INTERRUPTED', 'InputError',
           'cli_main', 'exit_code_for', 'one_line', 'add_debug_flag', 'DEBUG_ENV']

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
EXIT_NON_FINITE = 3
EXIT_INTERRUPTED = 130
DEBUG_ENV = 'ROTATED_LD_DEBUG'
MAX_MESSAGE_CHARS = 2000

# OSErrors that say the machine, not the input, is the problem
_RUNTIME_ERRNOS = {errno.ENOSPC, errno.ENOMEM, errno.EIO, errno.EDQUOT if hasattr(errno, 'EDQUOT') else errno.ENOSPC}


class InputError(Exception):
    """A user-input problem (bad file, flag or value); the message names the file and the expectation."""

    exit_code = EXIT_BAD_INPUT


def _is_registry_key_error(exc: BaseException) -> bool:
    return isinstance(exc, KeyError) and 'registry' in str(exc)


def exit_code_for(exc: BaseException) -> int:
    """The documented exit code of an exception (see the module docstring)."""
    code = getattr(type(exc), 'exit_code', None)
    if isinstance(code, int):
        return code
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, UnicodeError):  # reading user text without handling its encoding: our bug
        return EXIT_FAILURE
    if isinstance(exc, OSError):
        return EXIT_FAILURE if exc.errno in _RUNTIME_ERRNOS else EXIT_BAD_INPUT
    if isinstance(exc, (ValueError, SyntaxError, EOFError, KeyError)):
        return EXIT_BAD_INPUT
    return EXIT_FAILURE


def one_line(exc: BaseException) -> str:
    """The exception's message on one line (``KeyError`` quotes removed, lines joined)."""
    if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str):
        text = exc.args[0]
    elif isinstance(exc, SyntaxError) and exc.filename:
        text = f'{exc.filename}:{exc.lineno}: invalid Python syntax ({exc.msg})'
    else:
        text = str(exc)
    text = ' '.join(part.strip() for part in text.strip().splitlines() if part.strip())
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS] + ' ...'
    return text or type(exc).__name__


def _registry_hint(exc: BaseException) -> Optional[str]:
    if not _is_registry_key_error(exc) or 'mmengine' not in sys.modules:
        return None
    try:
        # local: only after MMEngine is loaded; keeps mmengine.config out of the data tools' start-up
        from rotated_ld.utils.setup_env import did_you_mean

        return did_you_mean(exc)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001  (the hint is optional; the plain message still goes out)
        return None


def format_error(prog: str, exc: BaseException, code: int) -> str:
    """``<prog>: error: <message>``; unexpected errors also name the exception type."""
    msg = _registry_hint(exc) or one_line(exc)
    if code == EXIT_FAILURE:
        msg = f'{type(exc).__name__}: {msg} (unexpected; run with --debug or {DEBUG_ENV}=1 for the traceback)'
    return f'{prog}: error: {msg}'


def _debug_requested(argv: Sequence[str]) -> bool:
    return '--debug' in argv or os.environ.get(DEBUG_ENV, '').lower() not in ('', '0', 'false', 'no')


def add_debug_flag(parser) -> None:
    """Add ``--debug`` to an argparse parser (the wrapper reads it before parsing; this lists it in help)."""
    parser.add_argument('--debug', action='store_true',
                        help=f'print the full traceback on errors (or set {DEBUG_ENV}=1)')


def cli_main(prog: str) -> Callable:
    """Decorate a tool's ``main(argv=None) -> int``: errors become one line and an exit code.

    ``main`` returns its exit code (None = 0; a non-int result, e.g. split statistics, is passed through
    for in-process callers and means success).

    ``--debug`` is removed from ``argv`` before ``main`` parses it (tools need not declare it, but
    :func:`add_debug_flag` shows it in ``--help``). ``SystemExit`` (argparse, ``sys.exit``) passes
    through unchanged.
    """
    def decorate(main: Callable) -> Callable:
        @functools.wraps(main)
        def wrapper(argv: Optional[Sequence[str]] = None) -> int:
            args = list(sys.argv[1:] if argv is None else argv)
            debug = _debug_requested(args)
            args = [a for a in args if a != '--debug']
            try:
                code = main(args)
            except KeyboardInterrupt:
                if debug:
                    traceback.print_exc()
                print(f'{prog}: interrupted', file=sys.stderr)
                return EXIT_INTERRUPTED
            except SystemExit:
                raise
            except BaseException as exc:  # noqa: BLE001  (one clear line instead of a traceback wall)
                code = exit_code_for(exc)
                if debug:
                    traceback.print_exc()
                sys.stdout.flush()
                print(format_error(prog, exc, code), file=sys.stderr)
                return code
            return EXIT_OK if code is None else code  # tools may return a result to in-process callers

        return wrapper

    return decorate
