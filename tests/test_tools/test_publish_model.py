"""publish_model.py on an LD-like checkpoint (teacher weights + optimizer + message hub): the
output is strictly smaller, has no teacher keys, keeps meta, is named by its sha256, and the
model loaded from it predicts exactly what the original checkpoint predicts (CPU, seconds)."""
import hashlib
import re
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / 'tests' / 'test_apis'))
sys.path.insert(0, str(ROOT / 'tools' / 'model_converters'))

from toy_blob_detector import draw_scene, write_toy  # noqa: E402


def _ld_checkpoint(tmp_path):
    from rotated_ld.apis import init_detector

    cfg = write_toy(tmp_path)
    torch.manual_seed(0)
    model = init_detector(cfg, None, device='cpu')
    sd = dict(model.state_dict())
    for k, v in list(sd.items()):  # a teacher twice as wide, under the names mmdet / we use
        sd['teacher_model.' + k] = torch.randn(*(2 * s for s in v.shape)) if v.ndim else v.clone()
        sd['_teacher.' + k] = v.clone()
    optimizer = dict(state={i: dict(momentum_buffer=torch.randn(64, 64)) for i in range(4)},
                     param_groups=[dict(lr=0.01, params=[0, 1, 2, 3])])
    ckpt = dict(meta=dict(epoch=12, iter=3000, dataset_meta=dict(classes=('blob',)), cfg='...'),
                state_dict=sd, optimizer=optimizer, message_hub=dict(log_scalars={}, runtime_info={}),
                param_schedulers=[dict(last_epoch=12)])
    path = tmp_path / 'epoch_12.pth'
    torch.save(ckpt, path)
    return cfg, path


def test_publish_ld_checkpoint(tmp_path, capsys):
    import publish_model

    from rotated_ld.apis import inference_detector, init_detector
    from rotated_ld.utils import safe_torch_load

    cfg, src = _ld_checkpoint(tmp_path)
    assert publish_model.main([str(src), str(tmp_path / 'pub' / 'ld_toy.pth')]) == 0
    printed = capsys.readouterr().out
    assert 'MiB ->' in printed and 'optimizer' in printed
    (out,) = (tmp_path / 'pub').glob('ld_toy-*.pth')
    assert re.fullmatch(r'ld_toy-[0-9a-f]{8}\.pth', out.name)
    assert out.name[7:15] == hashlib.sha256(out.read_bytes()).hexdigest()[:8]
    assert out.stat().st_size < src.stat().st_size
    pub = safe_torch_load(str(out))
    assert set(pub) == {'meta', 'state_dict'} and pub['meta']['epoch'] == 12
    assert not any('teacher' in k for k in pub['state_dict'])
    img = draw_scene(200, 260, [(30, 40, 90, 70), (150, 100, 200, 180)])
    a = inference_detector(init_detector(cfg, str(src), device='cpu'), img).pred_instances
    b = inference_detector(init_detector(cfg, str(out), device='cpu'), img).pred_instances
    assert len(a) == 2
    torch.testing.assert_close(a.bboxes, b.bboxes, rtol=0, atol=0)
    torch.testing.assert_close(a.scores, b.scores, rtol=0, atol=0)


def test_process_checkpoint_rules():
    import publish_model

    sd = {'module.backbone.w': torch.ones(1), 'teacher.x': torch.ones(1), 'bbox_head.adapt.w': torch.ones(1)}
    out, rep = publish_model.process_checkpoint(dict(state_dict=sd, optimizer={}, meta={'a': 1}),
                                                drop_keys=[r'\.adapt\.'])
    assert list(out['state_dict']) == ['backbone.w'] and out['meta'] == {'a': 1}
    assert rep['dropped_entries'] == ['optimizer'] and len(rep['dropped_keys']) == 2
    bare, _ = publish_model.process_checkpoint({'w': torch.zeros(2)})
    assert set(bare) == {'state_dict', 'meta'} and np.array_equal(bare['state_dict']['w'], np.zeros(2))


def test_missing_input_one_line(tmp_path, capsys):
    import publish_model

    assert publish_model.main([str(tmp_path / 'no.pth'), str(tmp_path / 'o.pth')]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'checkpoint not found' in err[0]
