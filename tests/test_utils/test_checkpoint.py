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
