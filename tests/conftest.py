"""Shared test fixtures: the ``rotated_ld`` scope is the default scope for every test."""
import os

import pytest
import torch


def _test_threads() -> int:
    """Torch threads per test process: RLD_TEST_THREADS, else the cores shared among the xdist
    workers (``-n``), at most 2, so that workers do not oversubscribe the CPU."""
    if 'RLD_TEST_THREADS' in os.environ:
        return int(os.environ['RLD_TEST_THREADS'])
    workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
    return max(1, min(2, (os.cpu_count() or 2) // workers))


torch.set_num_threads(_test_threads())


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


def free_port() -> int:
    """A TCP port free right now (the OS picks it), for launcher tests that run at the same time in
    other xdist workers or other checkouts: a fixed port would collide."""
    import socket

    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
DEVICES = ['cpu', pytest.param('cuda', marks=needs_cuda)]
