# Zzh-tju/Rotated-LD config name, kept so that its README commands run as written: distribution rotated RetinaNet R-34, GWD, 2x, DOTA oc.
# This project's config: configs/rotated_retinanet/rotated_retinanet_distribution_gwd_r34_fpn_2x_dota_oc.py (tools print that name when this file is loaded; docs/upstream_configs.md).
_base_ = '../rotated_retinanet/rotated_retinanet_distribution_gwd_r34_fpn_2x_dota_oc.py'
upstream_alias = dict(repo='Zzh-tju/Rotated-LD', name='rotated_retinanet_distribution_hbb_gwd_r34_fpn_2x_dota_oc', ours='configs/rotated_retinanet/rotated_retinanet_distribution_gwd_r34_fpn_2x_dota_oc.py')
