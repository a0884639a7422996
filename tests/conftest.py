"""Shared test fixtures: the ``rotated_ld`` scope is the default scope for every test."""
import os

import pytest
import torch

torch.set_num_threads(int(os.environ.get('RLD_TEST_THREADS', '2')))


@pytest.fixture(autouse=True, scope='session')
def _default_scope():
    from mmengine.registry import DefaultScope

    import rotated_ld.registry  # noqa: F401  (safe checkpoint loader)

    with DefaultScope.overwrite_default_scope('rotated_ld'):
        yield


@pytest.fixture
def seed():
    torch.manual_seed(0)
    return 0


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
DEVICES = ['cpu', pytest.param('cuda', marks=needs_cuda)]
