"""``loss_bbox`` of a rotated RetinaNet head in mmrotate 1.x compat mode vs a numpy reference.

GTs lie exactly at ±45° (float32 π/4), where mmrotate's ``edge_swap`` choice is a tie decided by
float32 rounding and by the anchor's angle (0 or −π/2, see test_mmrotate_compat_coder.py). The
reference builds the 1.x anchors and the 1.x targets (``bbox2delta`` with GT regularisation) in
numpy (tests/mmrotate_np_reference.py) at the positives of the head's assignment, and the L1 loss
``Σ|pred − target| / avg_factor`` from the head's own predicted deltas; the head must agree.
"""
import numpy as np
import torch
from mmengine.structures import InstanceData

from rotated_ld.models.dense_heads import RotatedRetinaHead
from tests.mmrotate_np_reference import F32, np_bbox2delta, np_mmdet_anchors, np_rbox

STRIDES = [8, 16]
SIZES = [(8, 8), (4, 4)]  # a 64×64 image


def _head(compat):
    gen = dict(type='RotatedAnchorGenerator', strides=STRIDES, compat=compat,
               angle_version='le90' if compat else None)
    torch.manual_seed(0)
    head = RotatedRetinaHead(
        2, 8, feat_channels=8, stacked_convs=1, angle_version='le90', reg_max=None, anchor_generator=gen,
        bbox_coder=dict(angle_version='le90', edge_swap=True, proj_xy=True, compat=compat),
        train_cfg=dict(assigner=dict(type='MaxIoUAssigner', pos_iou_thr=0.5, neg_iou_thr=0.4, min_pos_iou=0,
                                     iou_mode='rotated')))
    with torch.no_grad():
        head.retina_reg.weight.normal_(0, 0.3)
        head.retina_reg.bias.normal_(0, 0.3)
    return head.eval()


def _gts():
    q = float(F32(np.pi / 4))
    boxes = torch.tensor([[16., 24., 32., 32., q], [40., 8., 32., 32., -q], [24., 40., 40., 30., q],
                          [48., 48., 64., 62., -q], [8., 56., 20., 18., q],
                          [1., 30., 52., 48., q]])  # at column 0, where 1.x leaves squares at angle 0
    return InstanceData(bboxes=boxes, labels=torch.tensor([0, 1, 0, 1, 0, 1]))


def test_compat_loss_bbox_matches_numpy_1x_targets():
    head = _head('mmrotate1')
    feats = [torch.randn(1, 8, *s, generator=torch.Generator().manual_seed(i)) for i, s in enumerate(SIZES)]
    cls_scores, bbox_preds = head(feats)
    gts = _gts()
    meta = dict(img_shape=(64, 64), pad_shape=(64, 64), batch_input_shape=(64, 64))
    loss = head.loss_by_feat(cls_scores, bbox_preds, [gts], [meta])['loss_bbox'].detach()

    flat = head.build_flat_outputs(cls_scores, bbox_preds)
    t = head.get_targets(flat.priors, [gts])
    pos = t.pos_mask[0]
    assert int(pos.sum()) >= 5, 'the test needs positives'
    anchors = np.concatenate([np_rbox(np_mmdet_anchors(s, f), 'le90') for s, f in zip(STRIDES, SIZES)])
    assert np.array_equal(flat.priors.numpy(), anchors)
    tgt = np_bbox2delta(anchors[pos.numpy()], t.gt_boxes[0][pos].numpy().astype(F32), 'le90', True, True)
    pred = flat.deltas[0][pos].detach().numpy()
    ref = np.abs(pred - tgt).sum() / t.avg_factor
    assert abs(float(loss) - ref) <= 1e-5 * ref
    # positives at both kinds of square anchor: the ±45° tie is decided both ways
    sq = torch.zeros_like(pos)
    sq.view(-1, 9)[:, :3] = True
    angles = flat.priors[pos & sq, 4]
    assert bool((angles == 0).any()) and bool((angles != 0).any())

    # the same weights with this project's exact anchors give another loss (what #18 measured)
    exact = _head(None)
    exact.load_state_dict(head.state_dict())
    loss_exact = exact.loss_by_feat(*exact(feats), [gts], [meta])['loss_bbox'].detach()
    assert abs(float(loss_exact) - float(loss)) > 1e-3
