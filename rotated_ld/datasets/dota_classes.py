"""DOTA class lists (official order) and the palette, without torch (the data tools import them).

:mod:`rotated_ld.datasets.dota` re-exports them next to :class:`DOTADataset`.
"""
from __future__ import annotations

import colorsys

DOTA_V1_0 = ('plane', 'baseball-diamond', 'bridge', 'ground-track-field', 'small-vehicle',
             'large-vehicle', 'ship', 'tennis-court', 'basketball-court', 'storage-tank',
             'soccer-ball-field', 'roundabout', 'harbor', 'swimming-pool', 'helicopter')
DOTA_V1_5 = DOTA_V1_0 + ('container-crane',)
DOTA_V2_0 = DOTA_V1_5 + ('airport', 'helipad')

DOTA_PALETTE = [(165, 42, 42), (189, 183, 107), (0, 255, 0), (255, 0, 0), (138, 43, 226),
                (255, 128, 0), (255, 0, 255), (0, 255, 255), (255, 193, 193), (0, 51, 153),
                (255, 250, 205), (0, 139, 139), (255, 255, 0), (147, 116, 116), (0, 0, 255),
                (220, 20, 60), (119, 11, 32), (0, 0, 142)]

DOTA_CLASSES = {'v1.0': DOTA_V1_0, 'v1.5': DOTA_V1_5, 'v2.0': DOTA_V2_0}


def make_palette(n: int, base=DOTA_PALETTE) -> list[tuple[int, int, int]]:
    """``n`` RGB colours: ``base`` first, then deterministic well-spread hues."""
    out = list(base[:n])
    for i in range(len(out), n):
        r, g, b = colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.75, 0.95)
        out.append((int(r * 255), int(g * 255), int(b * 255)))
    return out
