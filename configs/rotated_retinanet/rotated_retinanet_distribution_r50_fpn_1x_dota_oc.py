# Rotated RetinaNet with distribution deltas (reg_max 8; -2..2 for dx, dy, dw, dh, -5..2 for da), L1 on the
# expected deltas, R-50-FPN, DOTA oc 1x. Parent of the distribution configs (R-18 / R-34, GWD / KLD).
_base_ = './rotated_retinanet_r50_fpn_1x_dota_oc.py'
model = dict(bbox_head=dict(reg_max=8, delta_ranges=[(-2., 2.), (-2., 2.), (-2., 2.), (-2., 2.), (-5., 2.)]))
