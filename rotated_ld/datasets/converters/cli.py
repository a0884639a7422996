"""Shared command-line skeleton of ``tools/dataset_converters/*.py``.

Each tool builds its parser with :func:`converter_parser` (``src`` / ``out`` folders, help text
from the tool's docstring, optional ``--img-dir`` / ``--img-size``), adds its own options, and
runs :func:`run_conversion`: the report is printed, a bad input folder is one ``error:`` line on
stderr and exit code 2.
"""
from __future__ import annotations

import argparse
from typing import Callable

from rotated_ld.utils.cli import InputError

from .common import ConversionReport

__all__ = ['converter_parser', 'add_min_area', 'has_image_size', 'run_conversion']


def converter_parser(doc: str, src_help: str, out_help: str, image_size: bool = False) -> argparse.ArgumentParser:
    """Parser with ``src`` and ``out``; description / epilog are the first line / rest of ``doc``.

    ``image_size=True`` adds ``--img-dir`` and ``--img-size W H`` (checked by :func:`has_image_size`).
    """
    p = argparse.ArgumentParser(description=doc.split('\n')[0], epilog=doc.split('\n', 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('src', help=src_help)
    p.add_argument('out', help=out_help)
    if image_size:
        p.add_argument('--img-dir', help='images with the same stems (their size is read from the header)')
        p.add_argument('--img-size', type=int, nargs=2, metavar=('W', 'H'), help='size of images not in --img-dir')
    return p


def add_min_area(p: argparse.ArgumentParser, what: str) -> None:
    """``--min-area`` (px², default 1e-3): objects (``what``: 'boxes', 'shapes') below it are skipped."""
    p.add_argument('--min-area', type=float, default=1e-3, help=f'skip {what} smaller than this (px²)')


def has_image_size(args: argparse.Namespace) -> bool:
    """True, or :class:`~rotated_ld.utils.cli.InputError` when neither ``--img-dir`` nor ``--img-size`` is given."""
    if not args.img_dir and not args.img_size:
        raise InputError('give --img-dir (image sizes from headers) or --img-size W H')
    return True


def run_conversion(convert: Callable[[], ConversionReport], errors: tuple = (), footer: str = '') -> int:
    """Run ``convert()`` and print its report (and ``footer``); exit code 0. A bad input folder raises
    (``FileNotFoundError`` / ``ValueError`` naming it): the tools' entry wrapper
    (:mod:`rotated_ld.utils.cli`) prints one line and exits 2. ``errors`` is kept for compatibility."""
    report = convert()
    print(report)
    if footer:
        print(footer)
    return 0
