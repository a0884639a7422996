# Baseline: the angle as one regressed scalar (PlainAngleCoder), learnt only through the rotated IoU loss
# (no angle bins, no circular DFL, nothing for angle LD to distil). Compare with rotated_gfl_r50_fpn_1x_dota_le90.
_base_ = './rotated_gfl_r50_fpn_1x_dota_le90.py'
model = dict(bbox_head=dict(angle_coder=dict(_delete_=True, type='PlainAngleCoder'), loss_angle=None))
