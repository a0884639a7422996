"""tools/analysis_tools/confusion_matrix.py end to end on a hand-made DOTA set, and the
DumpDetResults file it reads (numpy only; loads without unpickling code)."""
import json
import pickle
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from rotated_ld.evaluation.functional import rbox2poly_np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'analysis_tools'))
BASE = ROOT / 'configs/_base_/datasets/synthetic_dota.py'  # the tool needs the datasets only
# (cx, cy, w, h, t), class, difficulty
OBJECTS = {'a': [((40, 40, 30, 12, 0.3), 'plane', 0), ((100, 60, 20, 20, -0.7), 'ship', 0),
                 ((60, 110, 24, 10, 1.2), 'ship', 1)],
           'b': [((50, 50, 40, 16, -0.2), 'harbor', 0)]}


def _dataset(root: Path) -> Path:
    for split_dir in ('images', 'annfiles'):
        (root / 'val' / split_dir).mkdir(parents=True)
    for name, objs in OBJECTS.items():
        cv2.imwrite(str(root / 'val' / 'images' / f'{name}.png'), np.zeros((150, 150, 3), np.uint8))
        lines = [' '.join(f'{v:.2f}' for v in rbox2poly_np(np.array([rb]))[0]) + f' {c} {d}' for rb, c, d in objs]
        (root / 'val' / 'annfiles' / f'{name}.txt').write_text('\n'.join(lines) + '\n')
    cfg = root / 'cfg.py'
    cfg.write_text(f"_base_ = '{BASE}'\n"
                   f"val_dataloader = dict(dataset=dict(data_root='{root}/', ann_file='val/annfiles/', "
                   "data_prefix=dict(img_path='val/images/')))\n"
                   f"test_dataloader = dict(dataset=dict(data_root='{root}/', ann_file='', "
                   "data_prefix=dict(img_path='val/images/')))\n")
    return cfg


def _results(root: Path, relabel_ship_as=None, extra=False) -> Path:
    from rotated_ld.datasets import DOTA_V1_0 as CLASSES  # noqa: N811
    from rotated_ld.evaluation.metrics import DumpDetResults

    dump = DumpDetResults(out_file_path=str(root / 'res.pkl'))
    for name, objs in OBJECTS.items():
        boxes = [list(rb) for rb, _, _ in objs] + ([[130, 130, 10, 10, 0.0]] if extra and name == 'b' else [])
        labels = [CLASSES.index(c) for _, c, _ in objs] + ([0] if extra and name == 'b' else [])
        if relabel_ship_as and name == 'a':
            labels[1] = CLASSES.index(relabel_ship_as)
        pred = dict(bboxes=torch.tensor(boxes), scores=torch.full((len(boxes),), 0.9),
                    labels=torch.tensor(labels))
        dump.process(None, [dict(img_id=name, img_path=str(root / 'val' / 'images' / f'{name}.png'),
                                 pred_instances=pred)])
    dump.compute_metrics(dump.results)
    return root / 'res.pkl'


def test_dump_is_numpy_and_safe_to_load(tmp_path):
    from rotated_ld.utils.checkpoint import UnsafeCheckpointError, safe_pickle_load

    _dataset(tmp_path)
    res = safe_pickle_load(str(_results(tmp_path)))
    assert len(res) == 2 and isinstance(res[0]['pred_instances']['bboxes'], np.ndarray)
    assert res[0]['pred_instances']['bboxes'].shape == (3, 5) and res[0]['img_id'] == 'a'
    with open(tmp_path / 'evil.pkl', 'wb') as f:
        pickle.dump({'t': torch.zeros(1)}, f)  # a torch object: a global outside the allow-list
    with pytest.raises(UnsafeCheckpointError, match='not on the allow-list'):
        safe_pickle_load(str(tmp_path / 'evil.pkl'))


def test_cli_known_answers(tmp_path, capsys):
    import confusion_matrix as tool

    from rotated_ld.datasets import DOTA_V1_0 as CLASSES  # noqa: N811

    cfg = _dataset(tmp_path)
    (P, S, H), BG = (CLASSES.index(c) for c in ('plane', 'ship', 'harbor')), len(CLASSES)
    # perfect predictions: diagonal = the non-difficult objects; the difficult ship is ignored
    assert tool.main([str(cfg), str(_results(tmp_path)), str(tmp_path / 'cm')]) == 0
    out = json.loads((tmp_path / 'cm' / 'confusion_matrix.json').read_text())
    cm = np.array(out['matrix'])
    expect = np.zeros_like(cm)
    expect[P, P] = expect[S, S] = expect[H, H] = 1
    np.testing.assert_array_equal(cm, expect)
    assert out['images'] == 2 and (tmp_path / 'cm' / 'confusion_matrix.png').stat().st_size > 1000
    # the ship called a harbor, plus a stray plane: confusion, a miss and a background false positive
    assert tool.main([str(cfg), str(_results(tmp_path, 'harbor', extra=True)), str(tmp_path / 'cm2')]) == 0
    text = capsys.readouterr().out
    cm = np.array(json.loads((tmp_path / 'cm2' / 'confusion_matrix.json').read_text())['matrix'])
    expect[S, S] = 0
    expect[S, H] = expect[S, BG] = expect[BG, P] = 1
    np.testing.assert_array_equal(cm, expect)
    assert 'background false positives: 1' in text and 'harbor (1)' in text


def test_cli_errors(tmp_path, capsys):
    import confusion_matrix as tool

    cfg = _dataset(tmp_path)
    assert tool.main([str(cfg), str(tmp_path / 'missing.pkl'), str(tmp_path / 'o')]) == 2
    (tmp_path / 'bad.pkl').write_bytes(b'not a pickle')
    assert tool.main([str(cfg), str(tmp_path / 'bad.pkl'), str(tmp_path / 'o')]) == 2
    with open(tmp_path / 'other.pkl', 'wb') as f:
        pickle.dump([{'pred_instances': {}, 'img_path': '/elsewhere/x.png'}], f)
    assert tool.main([str(cfg), str(tmp_path / 'other.pkl'), str(tmp_path / 'o')]) == 2
    err = capsys.readouterr().err
    assert err.count('confusion_matrix.py: error:') == 3 and 'none of the 1 result images' in err
