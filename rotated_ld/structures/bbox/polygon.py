"""Polygon measures on flat vertex lists ``(..., 2n)`` = ``(x1, y1, ..., xn, yn)`` (tensor or array).

Image coordinates (x right, y down). The signed shoelace sum ``sum(x_i y_{i+1} - x_{i+1} y_i) / 2``
is **negative** for vertices that run counter-clockwise on screen (the order of
:func:`.converters.rbox2poly`) and positive for clockwise-on-screen vertices (the order DOTA's
labelTxt files use).
"""
from typing import Any

from .array_backend import array_module, as_float


def poly_signed_area(polys: Any) -> Any:
    """Signed shoelace area ``(...)`` of polygons ``(..., 2n)`` (sign: see the module docstring)."""
    polys = as_float(polys)
    xp = array_module(polys)
    x, y = polys[..., 0::2], polys[..., 1::2]
    return (x * xp.roll(y, -1, -1) - xp.roll(x, -1, -1) * y).sum(-1) / 2


def poly_area(polys: Any) -> Any:
    """Absolute shoelace area ``(...)`` of polygons ``(..., 2n)`` (exact for simple polygons)."""
    signed = poly_signed_area(polys)
    return array_module(signed).abs(signed)


__all__ = ['poly_signed_area', 'poly_area']
