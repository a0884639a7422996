# Angle-aware rotated LD: R-18 rotated GFL student, R-50 rotated GFL teacher (2x), DOTA v1.0, le90, 1x.
# Terms (docs/rotated_ld.md): Main LD on the 4 edges (0.25, T 10), VLR LD (0.25, T 10, rotated IoU/DIoU),
# Main KD (10, T 2), angle LD on the circle (0.015 summed over 36 bins, T 5; VLR angle LD 0.015 / 4).
# Train the teacher first (configs/rotated_gfl/rotated_gfl_r50_fpn_2x_dota_le90.py) and set teacher_ckpt.
_base_ = '../rotated_gfl/rotated_gfl_r18_fpn_1x_dota_le90.py'
teacher_config = '{{ fileDirname }}/../rotated_gfl/rotated_gfl_r50_fpn_2x_dota_le90.py'
model = dict(
    type='KDSingleStageDetector',
    teacher_config=teacher_config,
    teacher_ckpt='work_dirs/rotated_gfl_r50_fpn_2x_dota_le90/epoch_24.pth',
    eval_teacher=True,
    bbox_head=dict(
        type='RotatedLDHead',
        distill_edges=True,
        distill_angle=True,
        distiller=dict(
            type='LDDistiller',
            loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10),
            loss_ld_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10),
            loss_kd=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=10, T=2),
            loss_kd_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0, T=2),
            loss_im=None,
            vlr=dict(type='VLRRegion', topk=9, alpha=0.25, overlap='diou', exclude_pos=True)),
        angle_distiller=dict(
            type='LDDistiller',
            loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.015, T=5, bin_reduction='sum'),
            loss_ld_vlr=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.015, T=5,
                             bin_reduction='sum'),
            loss_kd=None,
            loss_kd_vlr=None,
            loss_im=None,
            vlr=dict(type='VLRRegion', topk=9, alpha=0.25, overlap='diou', exclude_pos=True),
            ld_divisor=1.0,
            ld_vlr_divisor=4.0,
            suffix='_angle')))
