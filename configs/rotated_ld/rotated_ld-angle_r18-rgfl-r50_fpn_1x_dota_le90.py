# Ablation: angle LD only (Main + VLR angle LD on the circle, KD kept), no edge LD.
_base_ = './rotated_ld_r18-rgfl-r50_fpn_1x_dota_le90.py'
model = dict(bbox_head=dict(distill_edges=False, distill_angle=True))
