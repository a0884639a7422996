"""browse_dataset.py: ground truth drawn after the train pipeline of a DOTA config (CPU, seconds)."""
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'analysis_tools'))


def _dota_dir(root: Path) -> None:
    (root / 'train' / 'images').mkdir(parents=True)
    (root / 'train' / 'annfiles').mkdir(parents=True)
    img = np.full((256, 256, 3), 60, np.uint8)
    cv2.fillPoly(img, [np.array([[40, 60], [120, 40], [130, 80], [50, 100]], np.int32)], (230, 230, 230))
    cv2.imwrite(str(root / 'train' / 'images' / 'P0001__256__0___0.png'), img)
    (root / 'train' / 'annfiles' / 'P0001__256__0___0.txt').write_text(
        '40 60 120 40 130 80 50 100 plane 0\n150 150 200 150 200 190 150 190 ship 1\n')


def test_browse_draws_gt(tmp_path, capsys):
    import browse_dataset

    _dota_dir(tmp_path / 'data')
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(f"_base_ = ['{ROOT}/configs/_base_/datasets/synthetic_dota.py', "
                   f"'{ROOT}/configs/_base_/default_runtime.py']\n"
                   f"train_dataloader = dict(dataset=dict(data_root='{tmp_path / 'data'}/', "
                   "filter_cfg=dict(filter_empty_gt=False), diff_thr=0))\n")
    out = tmp_path / 'vis'
    rc = browse_dataset.main([str(cfg), '--output-dir', str(out), '--max-images', '1'])
    assert rc == 0, capsys.readouterr().err
    png = cv2.imread(str(out / 'P0001__256__0___0.png'))
    assert png is not None and png.shape[:2] == (384, 384)  # the pipeline's resize is visible
    assert len(np.unique(png.reshape(-1, 3), axis=0)) > 5  # boxes + labels on top of a 2-colour image


def test_missing_config_one_line(tmp_path, capsys):
    import browse_dataset

    assert browse_dataset.main([str(tmp_path / 'none.py'), '--output-dir', str(tmp_path)]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'config file not found' in err[0]
