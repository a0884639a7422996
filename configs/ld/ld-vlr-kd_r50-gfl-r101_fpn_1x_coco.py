# LD README (pretrained-weights list): GFL R-101 -> R50, 1x, Main KD + Main LD + VLR LD: 42.1 AP.
# Reference head defaults (docs/method.md §4): VLR LD 0.25 / T 10 (Σ/16, weight = IoU),
# Main KD 10 / T 2 (per-level mean over positives); VLR KD stays 0.
_base_ = './ld_r50-gfl-r101_fpn_1x_coco.py'
model = dict(
    bbox_head=dict(
        loss_ld_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10),
        loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=10, T=2),
        vlr=dict(type='VLRRegion', topk=9, alpha=0.25, overlap='diou', exclude_pos=True)))
