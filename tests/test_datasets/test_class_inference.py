"""DOTADataset classes from the config: a tuple, a class-list file or 'infer' from the label files,
and the logged class table (class | objects | images). CPU, < 1 s."""
import logging
from pathlib import Path

import pytest
from mmengine.logging import MMLogger

from rotated_ld.datasets.dota import DOTADataset, scan_dota_classes
from rotated_ld.registry import DATASETS

SQ = '10 10 30 10 30 30 10 30'


def _labels(root: Path, files: dict) -> Path:
    root.mkdir(parents=True)
    for stem, names in files.items():
        (root / f'{stem}.txt').write_text('imagesource:x\ngsd:0.5\n' + ''.join(f'{SQ} {n} 0\n' for n in names))
        (root.parent / 'images').mkdir(exist_ok=True)
        (root.parent / 'images' / f'{stem}.png').write_bytes(b'')  # the dataset checks that images exist
    return root


@pytest.fixture
def data(tmp_path):
    _labels(tmp_path / 'train' / 'annfiles', {'a': ['car', 'car', 'boat'], 'b': ['crane'], 'c': ['car']})
    _labels(tmp_path / 'val' / 'annfiles', {'d': ['crane', 'crane']})
    return tmp_path


@pytest.fixture
def log_text():
    logger = MMLogger.get_current_instance()
    records = []
    h = logging.Handler()
    h.emit = records.append
    logger.addHandler(h)
    yield lambda: '\n'.join(r.getMessage() for r in records)
    logger.removeHandler(h)


def _cfg(root, split='train', **kw):
    return dict(type='DOTADataset', data_root=str(root / split), ann_file='annfiles/',
                data_prefix=dict(img_path='images/'), pipeline=[], **kw)


def test_infer_from_own_labels(data, log_text):
    ds = DATASETS.build(_cfg(data, metainfo=dict(classes='infer')))
    assert ds.metainfo['classes'] == ('boat', 'car', 'crane') and len(ds.metainfo['palette']) == 3
    assert [i['bbox_label'] for i in ds.get_data_info(0)['instances']] == [1, 1, 0]
    assert ds.class_table == [('boat', 1, 1), ('car', 3, 2), ('crane', 1, 1)]
    text = log_text()
    assert 'inferred 3 classes' in text and 'num_classes=3' in text
    assert 'class' in text and 'objects' in text and 'images' in text
    assert any(ln.split() == ['car', '3', '2'] for ln in text.splitlines())
    assert any(ln.split() == ['total', '5', '3'] for ln in text.splitlines())


def test_val_infers_from_train_labels(data):
    val = DATASETS.build(_cfg(data, 'val', metainfo=dict(classes='infer'),
                              infer_classes_from=str(data / 'train' / 'annfiles')))
    assert val.metainfo['classes'] == ('boat', 'car', 'crane')
    assert val.class_table == [('boat', 0, 0), ('car', 0, 0), ('crane', 2, 1)]
    own = DATASETS.build(_cfg(data, 'val', metainfo=dict(classes='infer')))
    assert own.metainfo['classes'] == ('crane',)  # why the train folder should be named for val


def test_classes_tuple_and_file(data, log_text, tmp_path):
    ds = DATASETS.build(_cfg(data, metainfo=dict(classes=('car', 'boat', 'crane', 'plane'))))
    assert ds.class_table[-1] == ('plane', 0, 0)
    assert '1 classes without objects: plane' in log_text()
    f = tmp_path / 'classes.txt'
    f.write_text('crane\ncar\nboat\n')
    ds = DATASETS.build(_cfg(data, metainfo=dict(classes=str(f))))
    assert ds.metainfo['classes'] == ('crane', 'car', 'boat')


def test_errors(data, tmp_path):
    with pytest.raises(ValueError, match="'infer'"):
        DOTADataset(data_root=str(data / 'train'), ann_file='annfiles/', metainfo=dict(classes='cars'))
    _labels(tmp_path / 'empty', {'e': []})
    with pytest.raises(ValueError, match='no objects'):
        DOTADataset(ann_file=str(tmp_path / 'empty'), metainfo=dict(classes='infer'))
    with pytest.raises(ValueError, match='needs ann_file'):
        DOTADataset(metainfo=dict(classes='infer'), lazy_init=True)


def test_scan_counts(data):
    classes, counts = scan_dota_classes([str(data / 'train' / 'annfiles'), str(data / 'val' / 'annfiles')])
    assert classes == ('boat', 'car', 'crane') and counts['crane'] == 3
