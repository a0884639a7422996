# Ablation: edge LD only (Main + VLR LD on the 4 edges, KD kept), no angle LD.
_base_ = './rotated_ld_r18-rgfl-r50_fpn_1x_dota_le90.py'
model = dict(bbox_head=dict(distill_edges=True, distill_angle=False))
