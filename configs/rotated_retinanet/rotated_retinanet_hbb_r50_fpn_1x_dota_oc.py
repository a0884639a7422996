# Zzh-tju/Rotated-LD config name, kept so that its README commands run as written: rotated RetinaNet R-50, horizontal anchors, 1x, DOTA oc (mmrotate 0.x name).
# This project's config: configs/rotated_retinanet/rotated_retinanet_r50_fpn_1x_dota_oc.py (tools print that name when this file is loaded; docs/upstream_configs.md).
_base_ = './rotated_retinanet_r50_fpn_1x_dota_oc.py'
upstream_alias = dict(repo='Zzh-tju/Rotated-LD', name='rotated_retinanet_hbb_r50_fpn_1x_dota_oc', ours='configs/rotated_retinanet/rotated_retinanet_r50_fpn_1x_dota_oc.py')
