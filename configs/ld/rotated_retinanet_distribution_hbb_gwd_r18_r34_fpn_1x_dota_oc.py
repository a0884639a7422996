# Zzh-tju/Rotated-LD config name, kept so that its README commands run as written: Rotated-LD, GWD R-34 -> R-18, 1x, DOTA oc.
# This project's config: configs/rotated_ld_retinanet/rotated_ld-gwd_r18-rretinanet-r34_fpn_1x_dota_oc.py (tools print that name when this file is loaded; docs/upstream_configs.md).
_base_ = '../rotated_ld_retinanet/rotated_ld-gwd_r18-rretinanet-r34_fpn_1x_dota_oc.py'
upstream_alias = dict(repo='Zzh-tju/Rotated-LD', name='rotated_retinanet_distribution_hbb_gwd_r18_r34_fpn_1x_dota_oc', ours='configs/rotated_ld_retinanet/rotated_ld-gwd_r18-rretinanet-r34_fpn_1x_dota_oc.py')
