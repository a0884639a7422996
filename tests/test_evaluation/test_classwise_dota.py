"""DOTAMetric(classwise=True) returns per-class AP at the first threshold for classes with GT."""
import numpy as np
import torch

from rotated_ld.evaluation.metrics.dota_metric import DOTAMetric


def _sample(name, gt, det, det_labels, scores):
    return dict(img_path=f'/x/{name}.png', img_id=name,
                gt_instances=dict(bboxes=torch.tensor(gt, dtype=torch.float32), labels=torch.tensor([0, 1])),
                ignored_instances=dict(bboxes=torch.zeros((0, 5)), labels=torch.zeros(0, dtype=torch.long)),
                pred_instances=dict(bboxes=torch.tensor(det, dtype=torch.float32), labels=torch.tensor(det_labels),
                                    scores=torch.tensor(scores)))


def test_classwise_keys_and_values():
    m = DOTAMetric(classwise=True)
    m.dataset_meta = dict(classes=('a', 'b', 'c'))
    gt = [[50, 50, 20, 10, 0.1], [150, 150, 30, 10, -0.4]]
    # class a found exactly, class b missed (detection far away), class c has no GT
    det = [[50, 50, 20, 10, 0.1], [400, 400, 30, 10, -0.4]]
    m.process({}, [_sample('img', gt, det, [0, 1], [0.9, 0.8])])
    out = m.compute_metrics(m.results)
    assert np.isclose(out['AP50_a'], 1.0) and np.isclose(out['AP50_b'], 0.0)
    assert 'AP50_c' not in out
