"""DOTA Task1 submission checker: zips from DOTAMetric(format_only=True) pass, broken ones are flagged
with file:line (patch names, missing class file, NaN, wrong field count, layout, image set). < 5 s CPU."""
import logging
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from mmengine.logging import MMLogger

from rotated_ld.datasets.dota import DOTA_V1_0, DOTA_V1_5
from rotated_ld.evaluation import DOTAMetric
from rotated_ld.evaluation.functional.submission_check import check_submission, read_image_list

from .test_merge import cut, make_scene
from .test_metrics import _sample

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tools' / 'data' / 'dota'))

ROW = 'P0001 0.900000 10.00 10.00 50.00 10.00 50.00 30.00 10.00 30.00\n'


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def log_records():
    logger = MMLogger.get_current_instance()
    h = _Capture()
    logger.addHandler(h)
    yield h.records
    logger.removeHandler(h)


def _samples(seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for image in ('P0007', 'P0008'):
        boxes, labels = make_scene(rng, size=900, n=20)
        names, results, _ = cut(boxes, labels, image=image, size=900, win=512, gap=128)
        out += [_sample(n, r['bboxes'], np.full(len(r['labels']), 0.8), r['labels']) for n, r in zip(names, results)]
    return out


def _run_metric(tmp_path, merge):
    m = DOTAMetric(merge_patches=merge, format_only=True, outfile_prefix=str(tmp_path / 'Task1'))
    m.dataset_meta = dict(classes=DOTA_V1_0)
    samples = _samples()
    m.process({}, samples)
    assert m.evaluate(len(samples)) == {}  # never crashes, whatever the verdict
    return tmp_path / 'Task1' / 'Task1.zip'


def _zip(path, files: dict):
    with zipfile.ZipFile(path, 'w') as z:
        for name, text in files.items():
            z.writestr(name, text)
    return str(path)


def _all_classes(classes=DOTA_V1_0, **override):
    files = {f'Task1_{c}.txt': '' for c in classes}
    files.update(override)
    return files


def test_format_only_merged_zip_passes(tmp_path, log_records):
    zpath = _run_metric(tmp_path, merge=True)
    report = check_submission(str(zpath), 'dota1.0', image_list=['P0007', 'P0008'])
    assert report.ok, str(report)
    assert report.num_files == 15 and report.images == {'P0007', 'P0008'} and report.num_detections > 0
    assert str(report).startswith('OK: ')
    msgs = [r.getMessage() for r in log_records]
    assert any('submission check OK' in m for m in msgs)
    assert not any(r.levelno >= logging.ERROR for r in log_records)


def test_patch_names_flagged(tmp_path, log_records):
    zpath = _run_metric(tmp_path, merge=False)  # patch-level results: not a valid submission
    report = check_submission(str(zpath), 'dota1.0')
    assert not report.ok and set(report.counts()) == {'patch_name'}
    p = report.problems[0]
    assert p.file.startswith('Task1_') and p.line >= 1 and '__' in p.message and 'merge_patches' in p.message
    errors = [r.getMessage() for r in log_records if r.levelno >= logging.ERROR]
    assert errors and 'FAILED' in errors[0] and 'patch_name' in errors[0]


def test_missing_class_nan_and_field_count(tmp_path):
    files = _all_classes(**{'Task1_plane.txt': ROW + 'P0001 nan 1 1 5 1 5 5 1 5\n' + 'P0002 0.5 1 1 5 1 5 5 1\n'
                            + '\n' + 'P0002 0.5 1 1 5 1 5 inf 1 5\n' + 'P0003 0.4 a 1 5 1 5 5 1 5\n'})
    del files['Task1_helicopter.txt']
    report = check_submission(_zip(tmp_path / 's.zip', files), 'dota1.0')
    got = {(p.kind, p.file, p.line) for p in report.problems}
    assert got == {('nan_inf', 'Task1_plane.txt', 2), ('field_count', 'Task1_plane.txt', 3),
                   ('nan_inf', 'Task1_plane.txt', 5), ('non_numeric', 'Task1_plane.txt', 6),
                   ('missing_class_file', 'Task1_helicopter.txt', None)}
    text = str(report)
    assert text.startswith('FAILED') and 'Task1_plane.txt:2: nan_inf: non-finite score' in text
    assert 'Task1_plane.txt:5: nan_inf: non-finite coordinate' in text
    assert 'Task1_plane.txt:3: field_count: 9 fields' in text


def test_layout_unknown_class_and_extra_files(tmp_path):
    files = {f'Task1/Task1_{c}.txt': '' for c in DOTA_V1_0[1:]}
    files['Task1_plane.txt'] = ROW
    files['Task1_small vehicle.txt'] = ''
    files['readme.txt'] = 'hi'
    files['Task2_plane.txt'] = ''
    report = check_submission(_zip(tmp_path / 's.zip', files), 'dota1.0')
    c = report.counts()
    assert c['layout'] == 14 and c['unexpected_file'] == 2 and c['unknown_class'] == 1
    assert "did you mean 'small-vehicle'" in str(report) and 'Task2 = horizontal' in str(report)


def test_image_list_missing_and_unknown(tmp_path):
    files = _all_classes(**{'Task1_plane.txt': ROW + ROW.replace('P0001', 'P0099')})
    zpath = _zip(tmp_path / 's.zip', files)
    lst = tmp_path / 'ids.txt'
    lst.write_text('P0001.png\nimages/P0002.png\n')
    report = check_submission(zpath, 'dota1.0', image_list=str(lst))
    got = {(p.kind, p.file, p.line) for p in report.problems}
    assert got == {('missing_image', '(image list)', None), ('unknown_image', 'Task1_plane.txt', 2)}
    soft = check_submission(zpath, 'dota1.0', image_list=['P0001', 'P0002', 'P0099'], allow_missing_images=True)
    assert soft.ok and len(soft.warnings) == 1 and 'P0002' in str(soft)


def test_class_sets_and_folder_input(tmp_path):
    d = tmp_path / 'dir'
    d.mkdir()
    for name, text in _all_classes(DOTA_V1_5, **{'Task1_plane.txt': ROW}).items():
        (d / name).write_text(text)
    assert check_submission(str(d), 'dota1.5').ok
    r = check_submission(str(d), 'dota1.0')  # container-crane is not a v1.0 class
    assert [p.kind for p in r.problems] == ['unknown_class']
    r = check_submission(str(d), 'dota2.0')
    assert sorted(p.file for p in r.problems) == ['Task1_airport.txt', 'Task1_helipad.txt']
    with pytest.raises(ValueError, match='dota1.0'):
        check_submission(str(d), 'dota3')
    bad = tmp_path / 'bad.zip'
    bad.write_text('not a zip')
    assert [p.kind for p in check_submission(str(bad)).problems] == ['unreadable']


def test_read_image_list_from_folder(tmp_path):
    (tmp_path / 'images').mkdir()
    for n in ('P0002.png', 'P0001.png'):
        (tmp_path / 'images' / n).write_bytes(b'')
    assert read_image_list(str(tmp_path / 'images')) == ['P0001', 'P0002']


def test_cli(tmp_path, capsys):
    import check_submission as cli

    ok = _zip(tmp_path / 'ok.zip', _all_classes(**{'Task1_plane.txt': ROW}))
    assert cli.main([ok, '--classes', 'dota1.0']) == 0
    assert capsys.readouterr().out.startswith('OK: ')
    bad = _zip(tmp_path / 'bad.zip', _all_classes(**{'Task1_plane.txt': ROW.replace('P0001', 'P0001__1024__0___824')}))
    assert cli.main([bad, '--classes', 'dota1.0']) == 2
    out = capsys.readouterr().out
    assert 'FAILED' in out and 'Task1_plane.txt:1: patch_name' in out
    assert cli.main([ok, '--classes', 'nope']) == 2


def test_empty_zip_and_empty_folder_fail(tmp_path):
    """Regression: an empty zip printed 'OK: 0 Task1 files'."""
    empty = tmp_path / 'empty.zip'
    zipfile.ZipFile(empty, 'w').close()
    rep = check_submission(str(empty), 'dota1.0')
    assert not rep.ok and rep.counts()['empty'] == 1 and rep.counts()['missing_class_file'] == 0
    assert 'FAILED' in str(rep) and 'expected one Task1_<class>.txt per class (15' in str(rep)
    (tmp_path / 'dir').mkdir()
    assert check_submission(str(tmp_path / 'dir'), 'dota1.0').counts()['empty'] == 1


def test_single_huge_line_is_streamed_and_named(tmp_path):
    """A member that is one 64 MB line (1 GiB in the issue: a TypeError and 2.9 GB) is named as
    line_too_long while memory stays near the line limit; the other files are still checked."""
    import tracemalloc

    path = tmp_path / 'huge.zip'
    files = _all_classes(**{'Task1_plane.txt': ROW, 'Task1_ship.txt': ROW.replace('0.900000', 'nan')})
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            if name != 'Task1_harbor.txt':
                z.writestr(name, text)
        with z.open('Task1_harbor.txt', 'w') as f:
            chunk = b'7' * (1 << 20)
            for _ in range(64):
                f.write(chunk)
    tracemalloc.start()
    rep = check_submission(str(path), 'dota1.0')
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * (1 << 20), f'peak {peak / 2 ** 20:.1f} MiB'
    assert rep.counts() == {'line_too_long': 1, 'nan_inf': 1}
    assert any(str(p).startswith('Task1_harbor.txt:1: line_too_long') for p in rep.problems)


def test_problem_kinds_list_every_kind_the_checker_reports():
    """``PROBLEM_KINDS`` (the vocabulary a CI filter can rely on) is exactly the set of kinds the checker
    emits, read from its ``SubmissionProblem(file, line, kind, message)`` calls."""
    import ast

    from rotated_ld.evaluation.functional import submission_check as sc

    emitted = set()
    for node in ast.walk(ast.parse(Path(sc.__file__).read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, 'id', None) == 'SubmissionProblem':
            kind = node.args[2] if len(node.args) > 2 else next(k.value for k in node.keywords if k.arg == 'kind')
            assert isinstance(kind, ast.Constant), f'line {node.lineno}: kind is not a literal'
            emitted.add(kind.value)
    assert len(emitted) > 5
    assert emitted == set(sc.PROBLEM_KINDS)
