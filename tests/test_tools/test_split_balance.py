"""In = out through the pipeline on 3 synthetic scenes: split -> patch labels -> merge -> scorer.

* split: objects in the source labels = whole in some patch + partly in some patch (difficulty 2)
  + lost (IoF < iof_thr with every window), recounted here from the written files;
* merge: the patch labels, used as detections, map back to full images: detections in = kept +
  suppressed (NMS), and every source object that reached a patch comes back exactly once;
* scorer: ground truth read = scored + difficult; detections read = scored.
CPU: ~5 s. ``pytest -s`` prints the numbers.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

from rotated_ld.datasets.dota_txt import parse_dota_txt
from rotated_ld.datasets.split import SplitConfig, split_dataset
from rotated_ld.datasets.synthetic import make_dota_scenes
from rotated_ld.evaluation.functional import merge_results, write_task1

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize('size,gap', [(512, 128), (160, 20)])  # small windows: partial and lost objects
def test_split_merge_score_balance(size, gap, tmp_path, capsys):
    scenes = tmp_path / 'scenes'
    names = make_dota_scenes(str(scenes), num=3, size_range=(700, 1000), seed=0)
    cfg = SplitConfig(sizes=(size,), gaps=(gap,))
    st = split_dataset(str(scenes / 'images'), str(tmp_path / 'split'), str(scenes / 'labelTxt'), cfg,
                       progress=False, logger=None)

    # ---- split balance, recounted from the files
    src = {n: parse_dota_txt(str(scenes / 'labelTxt' / f'{n}.txt')) for n in names}
    n_in = sum(len(a.polys) for a in src.values())
    ann_dir = tmp_path / 'split' / 'annfiles'
    patch_names = sorted(f[:-4] for f in os.listdir(ann_dir))
    patches = {p: parse_dota_txt(str(ann_dir / f'{p}.txt')) for p in patch_names}
    n_lines = sum(len(a.polys) for a in patches.values())
    assert st.objects_in == n_in and st.objects_out == n_lines and st.patches == len(patch_names)
    assert st.balanced and st.objects_in == st.objects_whole + st.objects_partial + st.lost
    assert st.objects_out >= st.objects_whole + st.objects_partial  # overlap: one object, several patches
    assert st.truncated_out == sum(int((a.difficulties == 2).sum()) for a in patches.values())

    # ---- merge: patch labels as detections (per-class NMS), back onto the scenes
    classes = sorted({lb for a in src.values() for lb in a.labels})
    c2i = {c: i for i, c in enumerate(classes)}
    results = [dict(bboxes=patches[p].polys, scores=np.linspace(1.0, 0.5, len(patches[p].polys)),
                    labels=np.array([c2i[lb] for lb in patches[p].labels], np.int64)) for p in patch_names]
    merged, mstats = merge_results(patch_names, results, iou_thr=0.1)
    assert mstats['dets_in'] == n_lines == mstats['dets_out'] + mstats['suppressed']
    found = 0
    for n in names:
        out = merged.get(n, dict(bboxes=np.zeros((0, 8))))['bboxes']
        for poly in src[n].polys:
            found += int(len(out) and (np.abs(out - poly).max(1) < 1e-3).sum() == 1)
    reached = st.objects_whole + st.objects_partial
    assert found == reached == mstats['dets_out']  # each object that reached a patch: back exactly once

    # ---- scorer on the merged 'detections'
    write_task1(merged, classes, str(tmp_path / 'task1'))
    sys.path.insert(0, str(ROOT / 'tools' / 'analysis_tools'))
    import eval_dota

    rc = eval_dota.main(['--gt', str(scenes / 'labelTxt'), '--det', str(tmp_path / 'task1'), '--classes', 'dota1.0'])
    out = capsys.readouterr().out
    assert rc == 0
    bal = [ln for ln in out.splitlines() if ln.startswith('balance:')][0]
    n_diff = sum(int((a.difficulties != 0).sum()) for a in src.values())
    assert bal == (f'balance: ground truth read {n_in} = scored {n_in - n_diff} + difficult (ignored) {n_diff}; '
                   f'detections read {reached} = scored {reached}')
    with capsys.disabled():
        print(f'\nsplit balance on 3 synthetic scenes ({", ".join(names)}; {size}/{gap} windows): {st.summary()}'
              f'\nmerge: {mstats}; source objects recovered once: {found}/{reached}\nscorer {bal}')
