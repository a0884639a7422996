"""analyze_logs.py: MMEngine json log → PNG curves; clear errors (CPU, < 3 s)."""
import json
import subprocess
import sys
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / 'tools' / 'analysis_tools' / 'analyze_logs.py'


def _write_log(path: Path) -> None:
    lines = []
    for it in range(1, 41):
        lines.append(dict(lr=0.01, loss=2.0 / it, loss_cls=1.0 / it, loss_ld=0.5 / it, time=0.2,
                          epoch=1 + (it - 1) // 20, iter=it, step=it))
        if it % 20 == 0:
            lines.append({'dota/mAP': 0.1 * it / 20, 'data_time': 0.01, 'time': 0.1, 'step': it // 20})
    path.write_text(''.join(json.dumps(d) + '\n' for d in lines))


def _run(*args):
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_plot_curve_png(tmp_path):
    log = tmp_path / 'scalars.json'
    _write_log(log)
    out = tmp_path / 'x.png'
    r = _run('plot_curve', log, '--keys', 'loss', 'loss_ld', 'mAP', '--out', out)  # the real CLI
    assert r.returncode == 0, r.stderr
    img = cv2.imread(str(out))
    assert img is not None and img.shape[0] > 300 and img.std() > 5


def test_series_matches_suffix_and_axes(tmp_path):
    sys.path.insert(0, str(TOOL.parent))
    import analyze_logs

    log = tmp_path / 'scalars.json'
    _write_log(log)
    parsed = analyze_logs.load_json_log(str(log))
    name, xlabel, xs, ys = analyze_logs.series(parsed, 'mAP')
    assert name == 'dota/mAP' and xlabel == 'epoch' and list(xs) == [1, 2]
    name, xlabel, xs, ys = analyze_logs.series(parsed, 'loss_ld')
    assert xlabel == 'iter' and len(xs) == 40 and abs(ys[0] - 0.5) < 1e-9


def test_errors_are_one_line(tmp_path, capsys):
    sys.path.insert(0, str(TOOL.parent))
    import analyze_logs

    assert analyze_logs.main(['plot_curve', str(tmp_path / 'missing.json'), '--keys', 'loss']) != 0
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and 'not found' in err
    log = tmp_path / 'scalars.json'
    _write_log(log)
    assert analyze_logs.main(['plot_curve', str(log), '--keys', 'nope', '--out', str(tmp_path / 'y.png')]) != 0
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and 'logged keys' in err
