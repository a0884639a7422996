"""The safe checkpoint loader: MMEngine checkpoints load, arbitrary pickles are refused."""
import os

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader

from rotated_ld.utils import UnsafeCheckpointError, safe_torch_load


class _Payload:
    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_mmengine_style_checkpoint_loads(tmp_path):
    buf = HistoryBuffer()
    buf.update(1.5)
    ckpt = dict(state_dict={'w': torch.ones(2)},
                message_hub=dict(log_scalars={'loss': buf}, runtime_info=dict(iter=np.int64(3))),
                meta=dict(arr=np.arange(3), dtype=np.dtype('float32')))
    path = tmp_path / 'ok.pth'
    torch.save(ckpt, path)
    out = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert torch.equal(out['state_dict']['w'], torch.ones(2))
    assert out['message_hub']['log_scalars']['loss'].current() == 1.5
    assert int(out['message_hub']['runtime_info']['iter']) == 3


def test_arbitrary_pickle_refused_with_clear_message(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': _Payload()}, path)
    with pytest.raises(UnsafeCheckpointError) as e:
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert 'evil.pth' in str(e.value) and 'allow-list' in str(e.value)
    with pytest.raises(UnsafeCheckpointError):
        safe_torch_load(str(path))


def test_missing_file_names_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        safe_torch_load(str(tmp_path / 'nope.pth'))


def test_diff_state_dict_hand_case():
    """Missing / unexpected / shape lists in the model's and the file's order; skips honoured."""
    from rotated_ld.utils import diff_state_dict

    own = {'a.w': torch.zeros(2), 'a.num_batches_tracked': torch.zeros(()), 'b.w': torch.zeros(3),
           'c.w': torch.zeros(1)}
    state = {'b.w': torch.zeros(4), 'x': torch.zeros(1), 'c.w': torch.zeros(1),
             'y.num_batches_tracked': torch.zeros(())}
    diff = diff_state_dict(own, state)
    assert diff.missing == ['a.w', 'a.num_batches_tracked']
    assert diff.unexpected == ['x', 'y.num_batches_tracked']
    assert diff.shapes == ['b.w'] and diff.common == 2
    skip = diff_state_dict(own, state, skip_missing=lambda k: k.endswith('num_batches_tracked'),
                           skip_unexpected=lambda k: k.endswith('num_batches_tracked'))
    assert skip.missing == ['a.w'] and skip.unexpected == ['x']
    assert diff_state_dict({}, state).common == 0
