"""Fuzz the DOTA labelTxt reader (parse_dota_txt) and DOTADataset, strict and lenient.

Each generated file holds valid object lines and one bad line of a known kind at a random place.
Strict: a DOTAFormatError naming ``file:line`` of the bad line and its kind. Lenient: the line
is skipped and counted under its kind; objects in = objects out + skipped. A hypothesis test
feeds arbitrary bytes. CPU: a few seconds.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rotated_ld.datasets import DOTA_V1_0, DOTADataset, DOTAFormatError, parse_dota_txt
from rotated_ld.datasets.dota_txt import MALFORMED_KINDS

from ._garbage import LINE_KINDS, dota_line, self_intersecting_line, truncate

N_VARIANTS = 25


def _write(path, lines: list[bytes], header: bool, crlf: bool) -> None:
    sep = b'\r\n' if crlf else b'\n'
    head = [b'imagesource:GoogleEarth', b'gsd:0.146'] if header else []
    path.write_bytes(sep.join(head + lines) + sep)


@pytest.mark.parametrize('kind', sorted(LINE_KINDS))
def test_one_bad_line(kind, tmp_path, fuzz, limit):
    expected = LINE_KINDS[kind]
    for seed in range(N_VARIANTS):
        rng = np.random.default_rng([1, seed, len(kind)])
        n = int(rng.integers(1, 8))
        lines = [dota_line(rng, 'valid') for _ in range(n)]
        pos = int(rng.integers(0, n + 1))
        lines.insert(pos, dota_line(rng, kind))
        header = bool(rng.random() < 0.5)
        p = tmp_path / f'{kind}_{seed}.txt'
        _write(p, lines, header, crlf=bool(rng.random() < 0.3))
        bad_lineno = pos + 1 + 2 * header
        with limit():
            if expected is None:
                ann = parse_dota_txt(str(p), classes=DOTA_V1_0)
                assert len(ann.polys) == n + 1 and not ann.skipped
                fuzz.accepted('dota_txt')
                continue
            with pytest.raises(DOTAFormatError) as e:
                parse_dota_txt(str(p), classes=DOTA_V1_0)
            assert e.value.kind == expected and e.value.lineno == bad_lineno
            fuzz.error('dota_txt', e.value, p, bad_lineno, expect=('expected', 'not', '<', 'beyond'))
            ann = parse_dota_txt(str(p), classes=DOTA_V1_0, strict=False)
            assert dict(ann.skipped) == {expected: 1} and len(ann.polys) == n  # in = out + skipped
            fuzz.skip('dota_txt', 1)


def _independent_verdicts(lines: list[bytes]) -> list[str | None]:
    """Per line: the skip kind the lenient reader gives it alone (None: object, 'blank': no object)."""
    out = []
    for raw in lines:
        if not raw.strip() or raw.strip().lower().startswith((b'imagesource:', b'gsd:')):
            out.append('blank')
            continue
        try:
            ann = parse_dota_txt('line', classes=DOTA_V1_0, strict=False, text=raw.decode('utf-8'))
        except UnicodeDecodeError:
            out.append('encoding')
            continue
        out.append(next(iter(ann.skipped)) if ann.skipped else None)
    return out


def test_truncated_files(tmp_path, fuzz, limit):
    """A valid file cut at a random byte: the cut line is read, skipped or named, never lost."""
    for seed in range(60):
        rng = np.random.default_rng([2, seed])
        data = b'\n'.join([b'imagesource:GoogleEarth'] + [dota_line(rng, 'valid') for _ in range(5)]) + b'\n'
        data = truncate(data, rng)
        p = tmp_path / f'trunc_{seed}.txt'
        p.write_bytes(data)
        lines = data.split(b'\n')
        verdicts = _independent_verdicts(lines)
        n_obj = sum(v is None for v in verdicts)
        bad = [i for i, v in enumerate(verdicts) if v not in (None, 'blank')]
        with limit():
            if not bad:
                assert len(parse_dota_txt(str(p), classes=DOTA_V1_0).polys) == n_obj
                fuzz.accepted('dota_txt')
                continue
            with pytest.raises(DOTAFormatError) as e:
                parse_dota_txt(str(p), classes=DOTA_V1_0)
            assert e.value.kind == verdicts[bad[0]]
            fuzz.error('dota_txt', e.value, p, bad[0] + 1, expect=('expected', 'not', '<'))
            ann = parse_dota_txt(str(p), classes=DOTA_V1_0, strict=False)
            assert len(ann.polys) == n_obj and sum(ann.skipped.values()) == len(bad)
            fuzz.skip('dota_txt', len(bad))


def test_self_intersecting_polygons(tmp_path, fuzz):
    """Bow-ties: kept when their shoelace area is >= min_area, else a 'degenerate' skip."""
    for seed in range(40):
        rng = np.random.default_rng([3, seed])
        line, area = self_intersecting_line(rng)
        p = tmp_path / f'bow_{seed}.txt'
        p.write_bytes(line + b'\n')
        ann = parse_dota_txt(str(p), classes=DOTA_V1_0, strict=False, min_area=1.0)
        if area >= 1.0:
            assert len(ann.polys) == 1
            fuzz.accepted('dota_txt')
        else:
            assert dict(ann.skipped) == {'degenerate': 1}
            fuzz.skip('dota_txt')


def test_empty_and_blank_files(tmp_path, fuzz):
    for i, data in enumerate([b'', b'\n\n', b'   \r\n', b'imagesource:GoogleEarth\ngsd:null\n', b'gsd:nan\n']):
        p = tmp_path / f'empty_{i}.txt'
        p.write_bytes(data)
        ann = parse_dota_txt(str(p), classes=DOTA_V1_0)
        assert len(ann.polys) == 0 and not ann.skipped and ann.gsd is None
        fuzz.accepted('dota_txt')


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300),
                      st.lists(st.sampled_from([b'1', b'2.5', b'-3', b'nan', b'1e400', b'plane', b'ship 1', b'\xff',
                                                b' ', b'\n', b'\t', b'\r\n', b'0 0 10 0 10 10 0 10']),
                               max_size=40).map(b''.join)))
def test_arbitrary_bytes(data, tmp_path, fuzz):
    p = tmp_path / 'any.txt'
    p.write_bytes(data)
    ann = parse_dota_txt(str(p), classes=DOTA_V1_0, strict=False)
    verdicts = _independent_verdicts(data.split(b'\n'))
    n_bad = sum(v not in (None, 'blank') for v in verdicts)
    assert len(ann.polys) == sum(v is None for v in verdicts)  # in = out + skipped, line by line
    assert sum(ann.skipped.values()) == n_bad and set(ann.skipped) <= set(MALFORMED_KINDS)
    if n_bad:
        with pytest.raises(DOTAFormatError) as e:
            parse_dota_txt(str(p), classes=DOTA_V1_0)
        first = next(i for i, v in enumerate(verdicts) if v not in (None, 'blank'))
        fuzz.error('dota_txt', e.value, p, first + 1)
    else:
        assert len(parse_dota_txt(str(p), classes=DOTA_V1_0).polys) == len(ann.polys)
        fuzz.accepted('dota_txt')


def _dota_folder(root, rng, n_files=6):
    """labelTxt folder with one bad line per file (random kinds); returns (objects in, bad kinds)."""
    ann_dir = root / 'annfiles'
    ann_dir.mkdir(parents=True)
    (root / 'images').mkdir()
    n_valid, kinds = 0, []
    bad_kinds = [k for k, v in LINE_KINDS.items() if v is not None]
    for i in range(n_files):
        k = str(rng.choice(bad_kinds))
        n = int(rng.integers(0, 5))
        lines = [dota_line(rng, 'valid') for _ in range(n)] + [dota_line(rng, k)]
        (ann_dir / f'P{i:04d}.txt').write_bytes(b'\n'.join(lines) + b'\n')
        (root / 'images' / f'P{i:04d}.png').write_bytes(b'')  # present (the dataset checks that at build time)
        n_valid += n
        kinds.append(LINE_KINDS[k])
    return ann_dir, n_valid, kinds


def test_dota_dataset_strict_and_lenient(tmp_path, fuzz, limit):
    for seed in range(4):
        rng = np.random.default_rng([4, seed])
        root = tmp_path / f's{seed}'
        ann_dir, n_valid, kinds = _dota_folder(root, rng)
        kw = dict(data_root=str(root), ann_file='annfiles/', data_prefix=dict(img_path='images/'), test_mode=True,
                  serialize_data=False)
        with limit():
            with pytest.raises(DOTAFormatError) as e:
                DOTADataset(**kw)
            fuzz.error('DOTADataset', e.value, ann_dir / 'P0000.txt', e.value.lineno, expect=(kinds[0],))
            ds = DOTADataset(lenient=True, **kw)
        n_out = sum(len(ds.get_data_info(i)['instances']) for i in range(len(ds)))
        assert n_out == n_valid and sum(ds.skipped_lines.values()) == len(kinds)  # in = out + skipped
        fuzz.skip('DOTADataset', len(kinds))


def test_dota_dataset_missing_image_and_empty_folder(tmp_path, fuzz):
    root = tmp_path / 'ds'
    (root / 'annfiles').mkdir(parents=True)
    (root / 'images').mkdir()
    ds = DOTADataset(data_root=str(root), ann_file='annfiles/', data_prefix=dict(img_path='images/'),
                     test_mode=True, lazy_init=True, serialize_data=False)
    with pytest.raises(FileNotFoundError) as e:  # no label files
        ds.full_init()
    fuzz.error('DOTADataset', e.value, root / 'annfiles', expect=('no .txt',))
    (root / 'annfiles' / 'P0001.txt').write_text('0 0 10 0 10 10 0 10 plane 0\n')
    with pytest.raises(FileNotFoundError) as e:  # label without its image: named when the dataset is built
        DOTADataset(data_root=str(root), ann_file='annfiles/', data_prefix=dict(img_path='images/'),
                    test_mode=True, pipeline=[dict(type='LoadImageFromFile')], serialize_data=False)
    fuzz.error('DOTADataset', e.value, 'P0001.png', expect=('have no image',))
