"""HTML report (tools/analysis_tools/report.py and tools/test.py --report): the page is parsed with
html.parser; every <img> must be a data: URI that decodes as PNG / JPEG, nothing may point outside
the file. What a browser shows is checked in test_report_browser.py (headless Chromium, when installed)."""
import base64
import os
import os.path as osp
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'analysis_tools'))
sys.path.insert(0, str(Path(__file__).parent))


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.imgs, self.links, self.tables, self.cells, self.tags = [], [], 0, [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == 'img':
            self.imgs.append(a.get('src', ''))
        for key in ('href', 'src'):
            if key in a and tag != 'img':
                self.links.append(a[key])
        self.tables += tag == 'table'

    def handle_data(self, data):
        if data.strip():
            self.cells.append(data.strip())


def check_self_contained(text: str) -> _Page:
    """Parse the page; assert every image is an embedded PNG/JPEG and nothing is fetched from elsewhere."""
    page = _Page()
    page.feed(text)
    page.close()
    assert page.tags[:2] == ['html', 'head'] and 'script' not in page.tags and 'link' not in page.tags
    assert not page.links
    for src in page.imgs:
        head, _, payload = src.partition(',')
        assert head in ('data:image/png;base64', 'data:image/jpeg;base64'), src[:40]
        raw = base64.b64decode(payload, validate=True)
        assert raw[:8] == b'\x89PNG\r\n\x1a\n' if head.endswith('png;base64') else raw[:3] == b'\xff\xd8\xff'
        assert cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR) is not None
    return page


def test_report_tool_on_a_dump(tmp_path):
    import report as tool
    from test_compare_models_tool import CLASSES, D, _dataset, _dump

    objs = _dataset(tmp_path)
    res = _dump(tmp_path, objs, 'model', shift=1.0, turn=2 * D, drop_first=True)
    out = tmp_path / 'r' / 'report.html'
    assert tool.main([str(res), '--gt', str(tmp_path / 'labelTxt'), '--classes', ','.join(CLASSES),
                      '--img-dir', str(tmp_path / 'images'), '--out', str(out), '--samples', '3']) == 0
    page = check_self_contained(out.read_text(encoding='utf-8'))
    # PR, confusion matrix, error bars, IoU CDF, angle CDF + 3 sample pictures
    assert len(page.imgs) == 8 and sum(s.startswith('data:image/jpeg') for s in page.imgs) == 3
    assert page.tables == 3
    # the 'all' row: 12 objects, 11 detections (one object dropped), AP50 = 11/12 recall at precision 1 (11 points)
    i = page.cells.index('all')
    assert page.cells[i + 1:i + 3] == ['12', '11']
    from rotated_ld.evaluation.functional import average_precision
    ap50 = average_precision(np.arange(1, 12) / 12, np.ones(11)) * 100
    assert page.cells[i + 3] == f'{ap50:.1f}'
    assert 'missed' in page.cells


def test_report_errors_are_one_line(tmp_path, capsys):
    import report as tool

    assert tool.main([str(tmp_path / 'none.pkl'), '--gt', str(tmp_path), '--classes', 'a', '--out',
                      str(tmp_path / 'x.html')]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('report: error: ')


@pytest.mark.slow
def test_test_py_report_flag(tmp_path):
    """tools/test.py --report on the slim GFL config (synthetic COCO), with a randomly initialised checkpoint."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from rotated_ld.datasets.synthetic import write_coco_set
    from rotated_ld.registry import MODELS

    config = osp.join(ROOT, 'configs/gfl/gfl_r18-slim_fpn_synthetic_coco.py')
    write_coco_set(str(tmp_path / 'coco'), {'train2017': 1, 'val2017': 3}, seed=3)
    init_default_scope('rotated_ld')
    model = MODELS.build(Config.fromfile(config).model)
    torch.save({'state_dict': model.state_dict()}, tmp_path / 'random.pth')
    opts = [f'test_dataloader.dataset.data_root={tmp_path}/coco/',
            f'test_evaluator.ann_file={tmp_path}/coco/annotations/instances_val2017.json',
            'model.test_cfg.score_thr=0.0']
    r = subprocess.run([sys.executable, 'tools/test.py', config, str(tmp_path / 'random.pth'), '--work-dir',
                        str(tmp_path / 'wd'), '--report', str(tmp_path / 'rep'), '--cfg-options', *opts], cwd=ROOT,
                       capture_output=True, text=True, timeout=600, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / 'rep' / 'results.pkl').exists()
    page = check_self_contained((tmp_path / 'rep' / 'report.html').read_text(encoding='utf-8'))
    assert len(page.imgs) >= 5 and 'hbox boxes' in ' '.join(page.cells)
