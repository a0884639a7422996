# Rotated RetinaNet with distribution deltas (Rotated-LD `RotatedRetinaHeadDistribution`, JDet
# `ld_rotated_retinanet`): each of (dx, dy, dw, dh, da) is a distribution over reg_max + 1 = 9 bins on a
# fixed support (-2..2 for dx, dy, dw, dh; -5..2 for da), value = expectation. Box loss: L1 on the
# expected deltas here; the GWD / KLD configs switch to decoded boxes (reg_decoded_bbox=True).
_base_ = './rotated_retinanet_r50_fpn.py'
model = dict(
    bbox_head=dict(
        reg_max=8,
        delta_ranges=[(-2., 2.), (-2., 2.), (-2., 2.), (-2., 2.), (-5., 2.)]))
