# Synthetic scenes: plain rotated RetinaNet R-18 slim (4-number deltas + angle, L1) — the plain student of the
# synthetic comparison.
_base_ = './rotated_retinanet_distribution_kld_r18-slim_fpn_synthetic_dota_oc.py'
model = dict(
    bbox_head=dict(
        reg_max=None,
        reg_decoded_bbox=False,
        loss_bbox=dict(_delete_=True, type='L1Loss', loss_weight=1.0)))
