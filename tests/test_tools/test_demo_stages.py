"""tools/demo.py stages are keyed by what made them (stage.json): a stage made with other parameters
is rebuilt (one line says so), never reused or resumed; ``--quick`` has its own work dir.

The first test runs the real data stage twice (quick, then the default budget) in one work dir;
the others use small fakes for the training subprocess so that no model is trained.
"""
import os
import os.path as osp
import subprocess
import sys
import types

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools'))

import demo  # noqa: E402


def _scenes(work, split='train'):
    return sorted(os.listdir(osp.join(work, 'data', 'scenes', split, 'images')))


def test_quick_data_then_default_data_in_one_work_dir(tmp_path, capsys):
    """The must-show case: ``--quick --stages data`` then ``--stages data`` in the same work dir; the
    second run rebuilds the data with the default number of train scenes and says why."""
    work = str(tmp_path / 'demo')
    one_val = ['--val-scenes', '1']  # the same on both runs, to save time: the train scenes are the point
    assert demo.main(['--quick', '--stages', 'data', '--work-dir', work, *one_val]) == 0
    assert len(_scenes(work)) == demo.QUICK['train_scenes']
    capsys.readouterr()
    assert demo.main(['--stages', 'data', '--work-dir', work, *one_val]) == 0
    out = capsys.readouterr().out
    assert len(_scenes(work)) == demo.DEFAULTS['train_scenes'] == 24
    assert len(_scenes(work, 'val')) == 1
    lines = [ln for ln in out.splitlines() if 'made otherwise' in ln]
    assert len(lines) == 1 and 'train_scenes 4 → 24' in lines[0] and 'val_scenes' not in lines[0], out
    assert 'rebuilding' in lines[0]
    rec = demo.read_record(osp.join(work, 'data'))
    assert rec['complete'] and rec['train_scenes'] == 24 and rec['val_scenes'] == 1
    # every train patch comes from one of the 24 scenes, none is left from the quick run's split
    patches = os.listdir(osp.join(work, 'data', 'split', 'train', 'images'))
    assert patches and {p.split('__')[0] for p in patches} == {osp.splitext(s)[0] for s in _scenes(work)}
    # a third run with the same request reuses the data
    assert demo.main(['--stages', 'data', '--work-dir', work, *one_val]) == 0
    assert 'data: reusing' in capsys.readouterr().out


def test_quick_has_its_own_work_dir():
    assert demo.parse_args(['--quick']).work_dir == 'work_dirs/demo_quick'
    assert demo.parse_args([]).work_dir == 'work_dirs/demo'
    a = demo.parse_args(['--quick', '--train-scenes', '7', '--work-dir', 'x'])
    assert (a.work_dir, a.train_scenes, a.val_scenes, a.teacher_iters) == ('x', 7, 2, 40)


def test_prepare_reuse_resume_rebuild(tmp_path, capsys):
    folder = str(tmp_path / 'stage')
    rec = dict(stage='teacher', iters=40)
    assert demo.prepare('teacher', folder, rec) == 'build'
    demo.write_record(folder, rec, complete=False)
    assert demo.prepare('teacher', folder, rec) == 'resume'
    demo.write_record(folder, rec, complete=True)
    open(osp.join(folder, 'iter_40.pth'), 'w').close()
    assert demo.prepare('teacher', folder, rec) == 'reuse'
    assert capsys.readouterr().out == ''
    assert demo.prepare('teacher', folder, dict(rec, iters=260)) == 'build'
    out = capsys.readouterr().out
    assert out.count('\n') == 1 and 'iters 40 → 260' in out
    assert not osp.exists(folder)  # nothing of the other run is left to resume from
    os.makedirs(folder)
    open(osp.join(folder, 'iter_40.pth'), 'w').close()  # an older demo's stage without a record
    assert demo.prepare('teacher', folder, rec) == 'build' and not osp.exists(folder)
    assert 'no record of what made it' in capsys.readouterr().out


def _fake_data(args):
    data_dir = osp.join(args.work_dir, 'data')
    demo.write_record(data_dir, demo.data_record(args), complete=True)
    return data_dir


def _fake_train(calls):
    """Stands in for the tools/train.py subprocess: records the command, writes the final checkpoint."""
    def run(cmd, **kwargs):
        calls.append(cmd)
        work = cmd[cmd.index('--work-dir') + 1]
        iters = next(o for o in cmd if o.startswith('train_cfg.max_iters=')).split('=')[1]
        open(osp.join(work, f'iter_{iters}.pth'), 'w').close()
        return types.SimpleNamespace(returncode=0)
    return run


def test_training_stage_rebuilt_not_resumed_under_another_budget(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(subprocess, 'run', _fake_train(calls))
    quick = demo.parse_args(['--quick', '--work-dir', str(tmp_path / 'w')])
    data_dir = _fake_data(quick)
    ckpt = demo.train('teacher', quick, data_dir, quick.teacher_iters)
    assert ckpt.endswith('iter_40.pth') and len(calls) == 1
    # an interrupted later run of another budget left a last_checkpoint: it must not be resumed
    open(osp.join(tmp_path, 'w', 'teacher', 'last_checkpoint'), 'w').close()
    other = demo.parse_args(['--quick', '--teacher-iters', '60', '--work-dir', str(tmp_path / 'w')])
    capsys.readouterr()
    ckpt = demo.train('teacher', other, data_dir, other.teacher_iters)
    out = capsys.readouterr().out
    assert 'iters 40 → 60' in out and '--resume' not in calls[-1] and ckpt.endswith('iter_60.pth')
    assert not osp.exists(osp.join(tmp_path, 'w', 'teacher', 'iter_40.pth'))
    # the same request again: reused, no training
    assert demo.train('teacher', other, data_dir, other.teacher_iters) == ckpt and len(calls) == 2
    # an LD student keys on its teacher's record: a retrained teacher retrains the student
    extra = [f'model.teacher_ckpt={ckpt}']
    demo.train('ld', other, data_dir, other.student_iters, extra)
    demo.train('ld', other, data_dir, other.student_iters, extra)
    assert len(calls) == 3
    demo.train('teacher', quick, data_dir, quick.teacher_iters)  # the teacher changes (60 → 40 iterations)
    extra = [f'model.teacher_ckpt={demo.final_checkpoint(osp.join(quick.work_dir, "teacher"), 40)}']
    capsys.readouterr()
    demo.train('ld', other, data_dir, other.student_iters, extra)
    assert len(calls) == 5 and 'inputs' in capsys.readouterr().out


def test_stages_refuse_data_made_otherwise(tmp_path, monkeypatch):
    monkeypatch.setattr(subprocess, 'run', _fake_train([]))
    quick = demo.parse_args(['--quick', '--work-dir', str(tmp_path / 'w')])
    data_dir = _fake_data(quick)
    default = demo.parse_args(['--work-dir', str(tmp_path / 'w')])
    with pytest.raises(SystemExit, match='train_scenes 4 → 24.*--stages data'):
        demo.train('student', default, data_dir, default.student_iters)
    with pytest.raises(SystemExit, match='no finished data'):
        demo.train('student', quick, str(tmp_path / 'nothing'), quick.student_iters)
    # a finished student of another budget is not picked up by an eval-only run
    demo.train('student', quick, data_dir, quick.student_iters)
    assert demo.finished_checkpoint('student', quick, data_dir, quick.student_iters, []) is not None
    other = demo.parse_args(['--quick', '--seed', '1', '--work-dir', str(tmp_path / 'w')])
    assert demo.finished_checkpoint('student', other, data_dir, other.student_iters, []) is None
