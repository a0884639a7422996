"""LDHead: one training step with a tiny teacher head; every loss key finite; gradients reach the
student head only; every imitation method; hand check of Main LD through the head. CPU: a few s."""
import pytest
import torch
from mmengine.structures import InstanceData

from rotated_ld.models.dense_heads.gfl_head import GFLHead
from rotated_ld.models.dense_heads.ld_head import LDHead
from rotated_ld.models.losses import distribution_kl
from rotated_ld.structures import DetDataSample
from tests.conftest import DEVICES

TINY = dict(feat_channels=8, stacked_convs=1, norm_cfg=None, strides=(8, 16), reg_max=4,
            octave_base_scale=4)
KEYS = {'loss_cls', 'loss_bbox', 'loss_dfl', 'loss_ld', 'loss_ld_vlr', 'loss_kd', 'loss_kd_vlr'}


def _samples(n_gt=(2, 1), device='cpu'):
    out = []
    g = torch.Generator().manual_seed(0)
    for n in n_gt:
        s = DetDataSample(metainfo=dict(img_shape=(64, 64), pad_shape=(64, 64), batch_input_shape=(64, 64)))
        gt = InstanceData()
        xy = torch.rand(n, 2, generator=g) * 30
        gt.bboxes = torch.cat([xy, xy + 12 + torch.rand(n, 2, generator=g) * 20], 1).to(device)
        gt.labels = torch.randint(0, 3, (n,), generator=g).to(device)
        s.gt_instances = gt
        out.append(s)
    return out


def _feats(device, ch=4, B=2, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, ch, 8, 8, generator=g).to(device),
            torch.randn(B, ch, 4, 4, generator=g).to(device)]


def _step(head, teacher, device, n_gt=(2, 1)):
    feats = [f.requires_grad_() for f in _feats(device)]
    t_feats = _feats(device, seed=2)
    with torch.no_grad():
        t_outs = teacher(t_feats)
    return head.loss(feats, _samples(n_gt, device), teacher_outs=t_outs, teacher_feats=t_feats), feats


@pytest.mark.parametrize('device', DEVICES)
def test_ld_head_one_step_all_keys_finite(device, seed):
    head = LDHead(3, 4, loss_kd_vlr=dict(type='KDLoss', loss_weight=1.0, T=2), **TINY).to(device)
    teacher = GFLHead(3, 4, **TINY).to(device).eval().requires_grad_(False)
    with torch.no_grad():   # make the teacher's distributions differ from the student's
        teacher.gfl_reg.weight.normal_(0, 0.5)
        teacher.gfl_cls.weight.normal_(0, 0.5)
    losses, feats = _step(head, teacher, device)
    assert set(losses) == KEYS
    for k, v in losses.items():
        assert torch.isfinite(v).all(), k
    for k in ('loss_ld', 'loss_ld_vlr', 'loss_kd', 'loss_kd_vlr'):
        assert losses[k].item() > 0, k
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in head.parameters() if p.requires_grad)
    assert all(p.grad is None for p in teacher.parameters())


def test_ld_head_empty_gt(seed):
    head = LDHead(3, 4, imitation_method='decouple', **TINY)
    teacher = GFLHead(3, 4, **TINY).eval()
    losses, _ = _step(head, teacher, 'cpu', n_gt=(0, 0))
    assert set(losses) == KEYS | {'loss_im'}
    assert all(torch.isfinite(v) for v in losses.values())
    for k in ('loss_ld', 'loss_ld_vlr', 'loss_kd'):
        assert losses[k].item() == 0
    assert losses['loss_im'].item() > 0   # decouple still imitates the background


@pytest.mark.parametrize('method', ['fitnet', 'ingt', 'finegrained', 'decouple', 'gibox'])
def test_ld_head_imitation_methods(method, seed):
    head = LDHead(3, 4, imitation_method=method, **TINY)
    teacher = GFLHead(3, 4, **TINY).eval()
    losses, feats = _step(head, teacher, 'cpu')
    assert losses['loss_im'].item() > 0 and torch.isfinite(losses['loss_im'])
    losses['loss_im'].backward()
    assert feats[0].grad is not None and feats[0].grad.abs().sum() > 0


def test_main_ld_matches_hand_computation(seed):
    """loss_ld = 0.25 · Σ_pos w_i · Σ_e T²·KL/17... with reg_max 4: /5 bins, divisor 4."""
    head = LDHead(3, 4, loss_ld_vlr=None, loss_kd=None, loss_kd_vlr=None, **TINY)
    teacher = GFLHead(3, 4, **TINY).eval()
    with torch.no_grad():
        teacher.gfl_reg.weight.normal_(0, 0.5)
    feats, t_feats = _feats('cpu'), _feats('cpu', seed=2)
    samples = _samples()
    t_outs = teacher(t_feats)
    losses = head.loss(feats, samples, teacher_outs=t_outs)
    assert set(losses) == {'loss_cls', 'loss_bbox', 'loss_dfl', 'loss_ld'}
    # recompute independently from the head's own outputs and its ATSS positives
    cls, reg = head(feats)
    flat = head.build_flat_outputs(cls, reg)
    from rotated_ld.models.utils import unpack_gt_instances
    gts, metas, _ = unpack_gt_instances(samples)
    tg = head.get_targets(flat, gts, metas)
    pos = tg.pos_mask.reshape(-1)
    s_reg = flat.reg_logits.reshape(-1, 20)[pos].reshape(-1, 5)
    t_reg = head.concat_levels(*t_outs)[1].reshape(-1, 20)[pos].reshape(-1, 5)
    w = flat.cls_logits.reshape(-1, 3)[pos].sigmoid().max(1).values
    kl = distribution_kl(s_reg, t_reg, 10.0, 'sum').reshape(-1, 4) / 5
    assert pos.sum() > 0
    torch.testing.assert_close(losses['loss_ld'], 0.25 * (kl.sum(1) * w).sum() / 4)


def test_ld_head_requires_teacher():
    head = LDHead(3, 4, **TINY)
    with pytest.raises(ValueError, match='teacher_outs'):
        head.loss(_feats('cpu'), _samples())


def test_ld_head_mean_normalisation(seed):
    head = LDHead(3, 4, distill_cfg=dict(ld_normalize='mean'), **TINY)
    teacher = GFLHead(3, 4, **TINY).eval()
    losses, _ = _step(head, teacher, 'cpu')
    assert all(torch.isfinite(v) for v in losses.values())


def test_ld_terms_fp32_under_autocast(seed):
    head = LDHead(3, 4, **TINY)
    teacher = GFLHead(3, 4, **TINY).eval()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses, _ = _step(head, teacher, 'cpu')
    for k in ('loss_ld', 'loss_ld_vlr', 'loss_kd'):
        assert losses[k].dtype == torch.float32 and torch.isfinite(losses[k]), k


def test_vlr_overlap_modes_and_positives(seed):
    """exclude_pos=False lets positives into the VLR (reference GFL head); default keeps them out."""
    teacher = GFLHead(3, 4, **TINY).eval()
    feats, samples = _feats('cpu'), _samples()
    from rotated_ld.models.utils import unpack_gt_instances
    gts, metas, _ = unpack_gt_instances(samples)
    out = {}
    for excl in (True, False):
        head = LDHead(3, 4, vlr=dict(type='VLRRegion', overlap='iof_diou', exclude_pos=excl), **TINY)
        flat = head.build_flat_outputs(*head(feats))
        tg = head.get_targets(flat, gts, metas)
        out[excl] = (head.distill_regions(flat, tg).vlr_weight, tg.pos_mask.reshape(-1))
    w_ex, pos = out[True]
    w_in, _ = out[False]
    assert (w_ex[pos] == 0).all() and (w_ex > 0).any()
    torch.testing.assert_close(w_ex[~pos], w_in[~pos])
    del teacher
