"""tools/analysis_tools/eval_dota.py: table + mAP, JSON output, one-line errors naming file:row (< 2 s CPU)."""
import json

import pytest

from tools.analysis_tools.eval_dota import main

GT = {
    'P0001': ['imagesource:GoogleEarth', 'gsd:0.1', '0 0 10 0 10 10 0 10 plane 0', '20 20 40 20 40 30 20 30 ship 0',
              '50 50 60 50 60 60 50 60 ship 1'],
    'P0002': ['100 100 120 100 120 120 100 120 plane 0'],
}


@pytest.fixture
def dirs(tmp_path):
    gt, det = tmp_path / 'gt', tmp_path / 'det'
    gt.mkdir()
    det.mkdir()
    for img, rows in GT.items():
        (gt / f'{img}.txt').write_text('\n'.join(rows) + '\n')
    (det / 'Task1_plane.txt').write_text('P0001 0.9 0 0 10 0 10 10 0 10\nP0002 0.8 100 100 120 100 120 120 100 120\n'
                                         'P0002 0.3 300 300 310 300 310 310 300 310\n')
    (det / 'Task1_ship.txt').write_text('P0001 0.7 20 20 40 20 40 30 20 30\nP0001 0.95 50 50 60 50 60 60 50 60\n')
    return gt, det


def test_scores_and_prints_table(dirs, tmp_path, capsys):
    gt, det = dirs
    assert main(['--gt', str(gt), '--det', str(det), '--out', str(tmp_path / 'r.json'), '--coco-thrs']) == 0
    out = capsys.readouterr().out
    assert 'mAP: 1.0000' in out and '| plane' in out and 'recall' in out and '1.0000' in out
    assert 'mAP@[.5:.95]' in out
    r = json.load(open(tmp_path / 'r.json'))
    assert r['classes']['ship']['gts'] == 1 and r['classes']['plane']['dets'] == 3
    assert main(['--gt', str(gt), '--det', str(det), '--metric', 'area', '--classes', 'dota2.0']) == 0
    assert 'mAP: 1.0000' in capsys.readouterr().out


@pytest.mark.parametrize('fname,text,msg', [
    ('Task1_plane.txt', 'P0099 0.9 0 0 10 0 10 10 0 10\n', "Task1_plane.txt:1: image 'P0099'"),
    ('Task1_car.txt', 'P0001 0.9 0 0 10 0 10 10 0 10\n', "Task1_car.txt: class 'car'"),
    ('Task1_plane.txt', 'P0001 0.9 0 0 10 0 10 10 0 10\nP0001 nan 0 0 10 0 10 10 0 10\n',
     "Task1_plane.txt:2: score is 'nan'"),
    ('Task1_plane.txt', 'P0001 0.9 0 0 10 0 10 10\n', 'Task1_plane.txt:1: malformed row'),
    ('Task1_plane.txt', 'P0001 high 0 0 10 0 10 10 0 10\n', 'Task1_plane.txt:1: malformed row'),
])
def test_clear_errors(dirs, capsys, fname, text, msg):
    gt, det = dirs
    (det / fname).write_text(text)
    assert main(['--gt', str(gt), '--det', str(det)]) == 2
    err = capsys.readouterr().err
    assert msg in err and err.count('\n') == 1


def test_unknown_gt_class_and_missing_dirs(dirs, tmp_path, capsys):
    gt, det = dirs
    (gt / 'P0003.txt').write_text('0 0 1 0 1 1 0 1 container-crane 0\n')
    assert main(['--gt', str(gt), '--det', str(det)]) == 2
    assert "P0003.txt:1: class 'container-crane'" in capsys.readouterr().err
    assert main(['--gt', str(gt), '--det', str(det), '--classes', 'dota1.5']) == 0
    assert main(['--gt', str(tmp_path / 'nope'), '--det', str(det)]) == 2
    assert 'does not exist' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(['--gt', str(gt), '--det', str(det), '--metric', 'coco'])
    assert main(['--gt', str(gt), '--det', str(det), '--classes', 'dota3']) == 2


def test_labeltxt_parsing_rules(tmp_path):
    from rotated_ld.evaluation.functional import load_labeltxt

    c2i = {'plane': 0, 'ship': 1}
    p = tmp_path / 'a.txt'
    p.write_text('imagesource:x\ngsd:null\n\n0 0 1 0 1 1 0 1 plane\n0 0 2 0 2 2 0 2 ship 1\n5 5 6 5 6 6 5 6 car 0\n')
    a = load_labeltxt(str(p), c2i, unknown='skip')
    assert a['labels'].tolist() == [0] and a['labels_ignore'].tolist() == [1] and a['skipped'] == 1
    p.write_text('0 0 1 0 1 x 0 1 plane 0\n')
    with pytest.raises(ValueError, match=r'a.txt:1: malformed labelTxt row'):
        load_labeltxt(str(p), c2i)
    p.write_text('0 0 1 0 1 1 0 1 plane 0\n0 0 1 0 nan 1 0 1 plane 0\n')
    with pytest.raises(ValueError, match=r'a.txt:2: non-finite coordinate'):
        load_labeltxt(str(p), c2i)


def test_missing_class_file_and_duplicates_are_named(dirs, tmp_path, capsys):
    """Regression: a missing (or Task2_-named) class file scored AP 0 with no word; duplicate
    rows were false positives with no word. Both are now warnings naming files and counts."""
    gt, det = dirs
    (det / 'Task1_plane.txt').rename(det / 'Task2_plane.txt')
    with open(det / 'Task1_ship.txt', 'a') as f:
        f.write('P0001 0.7 20 20 40 20 40 30 20 30\n')  # a copy of the first ship row
    assert main(['--gt', str(gt), '--det', str(det), '--out', str(tmp_path / 'r.json')]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(ln.startswith('eval_dota.py: warning: ') for ln in err)
    assert '14 of 15 class files missing' in err[0] and 'scored AP 0: Task1_plane.txt (2 objects)' in err[0]
    assert '1 files ignored (not Task1_<class>.txt): Task2_plane.txt' in err[1]
    assert 'Task1_ship.txt: 1 duplicate rows' in err[2] and 'false positive' in err[2]
    r = json.load(open(tmp_path / 'r.json'))
    assert r['duplicate_rows'] == {'Task1_ship.txt': 1} and r['ignored_files'] == ['Task2_plane.txt']
    assert 'Task1_plane.txt' in r['missing_class_files']
    # the devkit rule is kept: the copy is a false positive (ship: 1 TP then 1 FP; AP stays 1.0 at
    # VOC07 11 points since recall 1 is reached first, but dets counts both)
    assert r['classes']['ship']['dets'] == 3
