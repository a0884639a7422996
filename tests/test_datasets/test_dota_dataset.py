"""DOTA labelTxt parsing and DOTADataset: round trip, strict file:line errors per malformed kind,
lenient counted skips, difficulty -> ignore_flag, class versions, empty images, image-only mode."""
import os.path as osp

import cv2
import numpy as np
import pytest

from rotated_ld.datasets import DOTA_V1_0, DOTA_V1_5, DOTA_V2_0, DOTADataset, DOTAFormatError, parse_dota_txt
from rotated_ld.datasets.dota_txt import format_dota_line
from rotated_ld.registry import DATASETS

GOOD = ['imagesource:GoogleEarth', 'gsd:0.146343590398',
        '10 10 50 10 50 30 10 30 plane 0',
        '100.5 100.25 140 100 140 130 100 130 small-vehicle 1',
        '200 200 260 200 260 230 200 230 ship']  # difficulty missing -> 0 (as mmrotate)

BAD = {
    'field_count': '1 2 3 4 5 6 7 8',
    'non_numeric': '1 2 3 4 x 6 7 8 plane 0',
    'unknown_class': '1 1 9 1 9 9 1 9 spaceship 0',
    'degenerate': '5 5 5 5 5 5 5 5 plane 0',
}


def _write_split(root, files: dict, img_size=(64, 64)):
    for sub in ('images', 'annfiles'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (root / 'annfiles' / f'{name}.txt').write_text('\n'.join(lines) + ('\n' if lines else ''))
        cv2.imwrite(str(root / 'images' / f'{name}.png'), np.zeros(img_size + (3,), np.uint8))
    return root


def _dataset(root, **kw):
    return DOTADataset(data_root=str(root), ann_file='annfiles/', data_prefix=dict(img_path='images/'), **kw)


def test_parse_header_and_objects(tmp_path):
    p = tmp_path / 'a.txt'
    p.write_text('\n'.join(GOOD) + '\n\n')
    ann = parse_dota_txt(str(p), classes=DOTA_V1_0)
    assert ann.imagesource == 'GoogleEarth' and ann.gsd == pytest.approx(0.146343590398)
    assert ann.labels == ['plane', 'small-vehicle', 'ship']
    assert ann.difficulties.tolist() == [0, 1, 0]
    np.testing.assert_array_equal(ann.polys[1], [100.5, 100.25, 140, 100, 140, 130, 100, 130])


def test_labeltxt_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    polys = rng.uniform(-5, 3000, (50, 8)).round(3)
    polys[:, 2:4] = polys[:, :2] + (40.125, 0)  # keep every polygon non-degenerate
    polys[:, 4:6] = polys[:, :2] + (40.125, 17.5)
    polys[:, 6:8] = polys[:, :2] + (0, 17.5)
    labels = [DOTA_V1_0[i] for i in rng.integers(0, 15, 50)]
    diffs = rng.integers(0, 3, 50)
    p = tmp_path / 'rt.txt'
    p.write_text('imagesource:x\ngsd:null\n' + ''.join(format_dota_line(q, c, d) + '\n'
                                                        for q, c, d in zip(polys, labels, diffs)))
    ann = parse_dota_txt(str(p), classes=DOTA_V1_0)
    assert ann.gsd is None
    np.testing.assert_allclose(ann.polys, polys, rtol=0, atol=1e-9)
    assert ann.labels == labels and ann.difficulties.tolist() == diffs.tolist()


@pytest.mark.parametrize('kind', sorted(BAD))
def test_strict_error_names_file_line_and_text(tmp_path, kind):
    root = _write_split(tmp_path, {'P0001': GOOD + [BAD[kind]] + GOOD[2:]})
    with pytest.raises(DOTAFormatError) as e:
        _dataset(root)
    path = osp.join(str(root), 'annfiles', 'P0001.txt')
    msg = str(e.value)
    assert msg.startswith(f'{path}:6: {kind}:'), msg
    assert repr(BAD[kind]) in msg
    assert e.value.lineno == 6 and e.value.kind == kind


def test_lenient_counts_and_logs(tmp_path, monkeypatch):
    logged = []
    monkeypatch.setattr('rotated_ld.datasets.dota.print_log', lambda msg, **kw: logged.append(msg))
    root = _write_split(tmp_path, {'P0001': GOOD + list(BAD.values()) + [BAD['non_numeric']],
                                   'P0002': [BAD['degenerate']] + GOOD[2:3]})
    ds = _dataset(root, lenient=True)
    assert dict(ds.skipped_lines) == {'field_count': 1, 'non_numeric': 2, 'unknown_class': 1, 'degenerate': 2}
    assert [len(ds[i]['instances']) for i in range(len(ds))] == [3, 1]
    summary = [m for m in logged if 'lenient' in m]
    assert summary and 'skipped 6 malformed lines' in summary[0] and 'non_numeric: 2' in summary[0]


def test_data_info_layout_and_ignore(tmp_path):
    root = _write_split(tmp_path, {'P0001': GOOD + ['1 1 30 1 30 20 1 20 harbor 2']})
    ds = _dataset(root, diff_thr=0)
    info = ds[0]
    assert info['img_id'] == 'P0001' and info['file_name'] == 'P0001.png'
    assert info['img_path'] == osp.join(str(root), 'images', 'P0001.png')
    inst = info['instances']
    assert [i['bbox_label'] for i in inst] == [0, 4, 6, 12]
    assert [i['ignore_flag'] for i in inst] == [0, 1, 0, 1]
    assert inst[0]['bbox'] == [10, 10, 50, 10, 50, 30, 10, 30]
    assert [i['ignore_flag'] for i in _dataset(root)[0]['instances']] == [0, 0, 0, 0]  # default 100
    assert [i['ignore_flag'] for i in _dataset(root, diff_thr=1)[0]['instances']] == [0, 0, 0, 1]


def test_versions_and_custom_classes(tmp_path):
    root = _write_split(tmp_path, {'P0001': ['1 1 30 1 30 20 1 20 container-crane 0',
                                             '1 1 30 1 30 20 1 20 helipad 0']})
    with pytest.raises(DOTAFormatError, match='unknown_class'):
        _dataset(root)
    with pytest.raises(DOTAFormatError, match="'helipad'"):
        _dataset(root, version='v1.5')
    ds = _dataset(root, version='v2.0')
    assert ds.metainfo['classes'] == DOTA_V2_0 and len(ds.metainfo['palette']) == 18
    assert [i['bbox_label'] for i in ds[0]['instances']] == [15, 17]
    assert len(DOTA_V1_0) == 15 and DOTA_V1_5[-1] == 'container-crane' and DOTA_V2_0[-2:] == ('airport', 'helipad')
    ds = _dataset(root, metainfo=dict(classes=('helipad', 'container-crane')))
    assert [i['bbox_label'] for i in ds[0]['instances']] == [1, 0]
    with pytest.raises(ValueError, match='version'):
        _dataset(root, version='v3')


def test_empty_images_kept_for_test_filtered_for_train(tmp_path):
    root = _write_split(tmp_path, {'P0001': GOOD, 'P0002': ['imagesource:x', 'gsd:0.5'], 'P0003': []})
    assert len(_dataset(root, test_mode=True, filter_cfg=dict(filter_empty_gt=True))) == 3
    assert len(_dataset(root)) == 3
    ds = _dataset(root, filter_cfg=dict(filter_empty_gt=True))
    assert [d['img_id'] for d in (ds[i] for i in range(len(ds)))] == ['P0001']


def test_image_only_mode_and_lazy_registry(tmp_path):
    root = _write_split(tmp_path, {'P0001': GOOD, 'P0002': []})
    ds = DATASETS.build(dict(type='DOTADataset', data_root=str(root), ann_file='',
                             data_prefix=dict(img_path='images/'), test_mode=True, lazy_init=True))
    assert not ds._fully_initialized
    assert len(ds) == 2 and ds[1]['instances'] == [] and ds[1]['img_id'] == 'P0002'
    with pytest.raises(FileNotFoundError, match='no .txt annotation'):
        DOTADataset(data_root=str(root), ann_file='images/', data_prefix=dict(img_path='images/'))


def test_label_files_without_images_strict_error_lenient_counted(tmp_path):
    """Regression: the DOTA_devkit example folder (7 labels, 2 images) built a dataset of every
    object and training crashed after iteration 1 with FileNotFoundError. Checked at build time now."""
    names = [f'P{i:04d}' for i in range(7)]
    root = _write_split(tmp_path, {n: GOOD for n in names})
    for n in names[2:]:
        (root / 'images' / f'{n}.png').unlink()
    with pytest.raises(FileNotFoundError) as e:
        _dataset(root)
    msg = str(e.value)
    assert '5 of 7 label files have no image' in msg and 'P0002.png' in msg and 'lenient=True' in msg
    ds = _dataset(root, lenient=True)
    per_image = len(parse_dota_txt(str(root / 'annfiles' / 'P0000.txt'), classes=DOTA_V1_0).labels)
    assert len(ds) == 2 and len(ds.missing_images) == 5
    assert sum(len(ds.get_data_info(i)['instances']) for i in range(len(ds))) == 2 * per_image
    assert all(osp.isfile(ds.get_data_info(i)['img_path']) for i in range(len(ds)))
