"""The HTML report rendered by a real headless browser (Chromium), when one is installed.

``test_report.py`` checks the page's structure and that every embedded image decodes; this test
checks what a user sees: Chromium (``apt-get install chromium``; not a dependency) renders the page
offline to a screenshot, and the screenshot must show the plots. matplotlib draws the report's
curves in its default colour cycle, whose first colour (#1f77b4) appears nowhere in the page's own
CSS, so many pixels of that colour can only come from the embedded PNGs having been decoded and
drawn. The same page with its images removed is the control: it must show none of them.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'analysis_tools'))
sys.path.insert(0, str(Path(__file__).parent))

BROWSER = next((b for b in ('chromium', 'chromium-browser', 'google-chrome') if shutil.which(b)), None)
MPL_BLUE_BGR = np.array([180, 119, 31])  # matplotlib 'C0' = #1f77b4, as OpenCV reads it


def _screenshot(html: Path, png: Path) -> np.ndarray:
    cmd = [BROWSER, '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars',
           '--window-size=1400,6000', f'--screenshot={png}', html.as_uri()]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert png.exists(), f'{BROWSER} wrote no screenshot (rc {r.returncode}): {r.stderr[-1500:]}'
    img = cv2.imread(str(png), cv2.IMREAD_COLOR)
    assert img is not None and img.shape[:2] == (6000, 1400)
    return img


def _plot_pixels(img: np.ndarray) -> int:
    return int((np.abs(img.astype(int) - MPL_BLUE_BGR).max(axis=2) <= 12).sum())


@pytest.mark.skipif(BROWSER is None, reason='no Chromium on PATH (optional: apt-get install chromium)')
def test_report_renders_in_headless_chromium(tmp_path):
    import report as tool
    from test_compare_models_tool import CLASSES, D, _dataset, _dump

    objs = _dataset(tmp_path)
    res = _dump(tmp_path, objs, 'model', shift=1.0, turn=2 * D, drop_first=True)
    page = tmp_path / 'report.html'
    assert tool.main([str(res), '--gt', str(tmp_path / 'labelTxt'), '--classes', ','.join(CLASSES),
                      '--img-dir', str(tmp_path / 'images'), '--out', str(page), '--samples', '3']) == 0
    text = page.read_text(encoding='utf-8')
    bare = tmp_path / 'bare.html'
    bare.write_text(re.sub(r'<img [^>]*>', '', text), encoding='utf-8')

    shown = _screenshot(page, tmp_path / 'page.png')
    control = _screenshot(bare, tmp_path / 'bare.png')
    # the page's text and tables render in both; the plots only where the images are
    assert (control < 250).any(), 'the page without images rendered blank'
    assert _plot_pixels(control) == 0
    assert _plot_pixels(shown) > 2000, _plot_pixels(shown)
