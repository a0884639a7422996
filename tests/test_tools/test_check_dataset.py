"""check_dataset.py on a synthetic DOTA folder with planted problems (each found at its file:line),
its statistics, the histogram PNG, config input and a clean set (exit 0). CPU, ~2 s."""
import json
import math
import os.path as osp
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'analysis_tools'))


def _rect(cx, cy, w, h, deg):
    t = math.radians(deg)
    c, s = math.cos(t), math.sin(t)
    pts = [(cx + c * dx - s * dy, cy + s * dx + c * dy)
           for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))]
    return ' '.join(f'{v:.3f}' for p in pts for v in p)


def _dataset(root: Path, planted=True) -> Path:
    (root / 'images').mkdir(parents=True)
    (root / 'labelTxt').mkdir()
    cv2.imwrite(str(root / 'images' / 'a.png'), np.zeros((100, 200, 3), np.uint8))   # W 200, H 100
    cv2.imwrite(str(root / 'images' / 'b.webp'), np.zeros((300, 300, 3), np.uint8))  # size read from webp
    a = ['imagesource:GoogleEarth', 'gsd:0.5',
         _rect(50, 50, 40, 20, 30) + ' plane 0']                          # line 3: good, 30 deg
    if planted:
        a += ['10 10 20 10 20 20 plane',                                    # 4 field_count
              '10 10 20 10 20 x 10 20 plane 0',                            # 5 non_numeric
              _rect(60, 60, 10, 10, 0) + ' boat 0',                        # 6 unknown_class
              '10 10 20 10 30 10 40 10 plane 0',                           # 7 zero_area (collinear)
              '10 10 40 30 40 10 10 20 ship 1',                            # 8 self_intersecting
              _rect(195, 50, 20, 10, 0) + ' ship 0',                       # 9 outside_image (x to 205)
              _rect(400, 400, 20, 10, 0) + ' ship 0']                      # 10 fully_outside
    (root / 'labelTxt' / 'a.txt').write_text('\n'.join(a) + '\n')
    (root / 'labelTxt' / 'b.txt').write_text(''.join(_rect(150, 150, 60, 30, d) + ' ship 0\n' for d in (-45, 10, 80)))
    if planted:
        (root / 'labelTxt' / 'c.txt').write_text('')                       # no image, empty
        cv2.imwrite(str(root / 'images' / 'd.webp'), np.zeros((10, 10, 3), np.uint8))  # no label file
    return root


def test_planted_problems_found(tmp_path, capsys):
    import check_dataset

    d = _dataset(tmp_path / 'train')
    out = tmp_path / 'out'
    rc = check_dataset.main([str(d), '--classes', 'plane,ship', '--out-dir', str(out)])
    text = capsys.readouterr().out
    assert rc == 2
    a = str(d / 'labelTxt' / 'a.txt')
    for n, kind in ((4, 'field_count'), (5, 'non_numeric'), (6, 'unknown_class'), (7, 'zero_area'),
                    (8, 'self_intersecting'), (9, 'outside_image'), (10, 'fully_outside')):
        block = text.split(f' {kind}: ')[1]
        assert block.splitlines()[1].strip().startswith(f'{a}:{n}: '), (kind, block[:200])
    assert 'error field_count: 1' in text and 'warning outside_image: 1' in text
    assert 'missing_image: 1' in text and 'unlabelled_image: 1' in text and '6 ERRORS' in text
    summary = json.loads((out / 'check_dataset.json').read_text())[0]
    assert summary['problems'] == {'field_count': 1, 'non_numeric': 1, 'unknown_class': 1, 'zero_area': 1,
                                   'self_intersecting': 1, 'outside_image': 1, 'fully_outside': 1,
                                   'missing_image': 1, 'unlabelled_image': 1}
    assert summary['files'] == 3 and summary['empty_files'] == 1 and summary['objects'] == 8
    assert summary['classes'] == {'plane': [2, 1], 'ship': [6, 2]}  # objects, images (parsed lines)
    assert summary['difficulty'] == {'0': 7, '1': 1}
    img = cv2.imread(str(out / 'check_dataset.png'))
    assert img is not None and img.shape[0] > 200 and img.std() > 0


def test_statistics_and_clean_set(tmp_path, capsys):
    import check_dataset

    d = _dataset(tmp_path / 'clean', planted=False)
    res = check_dataset.check_source(check_dataset.source_from_dir(str(d), None, ('plane', 'ship')))
    assert res.num_errors == 0 and not res.problems
    # le90: 30 deg box; 60x30 boxes at -45, 10, 80 deg
    assert np.allclose(sorted(res.angles), [-45, 10, 30, 80], atol=1e-3)
    assert np.allclose(sorted(res.sizes), sorted([math.sqrt(800)] + [math.sqrt(1800)] * 3), atol=1e-3)
    assert check_dataset.main([str(d / 'labelTxt'), '--out-dir', str(tmp_path / 'o')]) == 0
    text = capsys.readouterr().out
    assert 'OK: no errors' in text and 'angle histogram' in text and 'images: ' + str(d / 'images') in text


def test_config_input(tmp_path, capsys):
    import check_dataset

    d = _dataset(tmp_path / 'data' / 'train')
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(
        "train_dataloader = dict(dataset=dict(type='RepeatDataset', times=2, dataset=dict(\n"
        f"    type='DOTADataset', data_root={str(d)!r}, ann_file='labelTxt/',\n"
        "    data_prefix=dict(img_path='images/'), metainfo=dict(classes=('plane', 'ship')))))\n"
        "val_dataloader = dict(dataset=dict(type='DOTADataset', data_root='x', ann_file=''))\n")
    sources = check_dataset.sources_from_config(str(cfg), ['train', 'val', 'test'])
    assert [(s.name, s.classes) for s in sources] == [('train', ('plane', 'ship'))]
    assert osp.normpath(sources[0].img_dir) == str(d / 'images')
    assert check_dataset.main([str(cfg), '--out-dir', str(tmp_path / 'o')]) == 2
    assert check_dataset.main([str(tmp_path / 'nothing'), '--out-dir', str(tmp_path / 'o')]) == 2


@pytest.mark.parametrize('case', ['latin1', 'bom', 'truncated_png'])
def test_ok_means_the_dataset_and_split_accept(case, tmp_path, capsys):
    """Regression: check_dataset said 'OK: no errors' on a latin-1 label file (inventing a class
    'plan\\ufffd'), a BOM before 'imagesource:' and a truncated PNG, which the dataset / split reject.
    Now each is an error, and a folder the checker passes is one the dataset and split accept."""
    import check_dataset

    from rotated_ld.datasets import DOTADataset
    from rotated_ld.datasets.split import SplitConfig, split_dataset

    root = tmp_path / 'd'
    (root / 'labelTxt').mkdir(parents=True)
    (root / 'images').mkdir()
    png = cv2.imencode('.png', np.full((64, 64, 3), 90, np.uint8))[1].tobytes()
    label = b'imagesource:GoogleEarth\ngsd:0.5\n10 10 40 10 40 30 10 30 plane 0\n'
    if case == 'latin1':
        label = label.replace(b'plane 0', 'plané 0'.encode('latin-1'))
    elif case == 'bom':
        label = b'\xef\xbb\xbf' + label
    elif case == 'truncated_png':
        png = png[:len(png) // 2]
    (root / 'labelTxt' / 'P0001.txt').write_bytes(label)
    (root / 'images' / 'P0001.png').write_bytes(png)
    rc = check_dataset.main([str(root), '--out-dir', str(tmp_path / 'o')])
    text = capsys.readouterr().out
    kind = dict(latin1='encoding', bom='field_count', truncated_png='unreadable_image')[case]
    assert rc == 2 and f'error {kind}: 1' in text and 'OK: no errors' not in text, text
    assert 'plan\ufffd' not in text
    with pytest.raises((ValueError, OSError)):  # what the checker vouches for, the tools agree with
        split_dataset([str(root / 'images')], str(tmp_path / 's'), [str(root / 'labelTxt')],
                      SplitConfig(sizes=(64,), gaps=(16,)), nproc=1, progress=False, logger=None)
    if case != 'truncated_png':
        with pytest.raises(ValueError):
            DOTADataset(data_root=str(root), ann_file='labelTxt/', data_prefix=dict(img_path='images/'),
                        metainfo=dict(classes=('plane',)))
