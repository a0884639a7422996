"""DetDataSample: the data interface between datasets, models and metrics (as in mmdet 3).

Fields (all :class:`mmengine.structures.InstanceData`):
    gt_instances:      ``bboxes`` (N, 4) xyxy for horizontal data or (N, 5) ``(cx, cy, w, h, t)``
                       radians for rotated data (angle version named by the pipeline/head),
                       ``labels`` (N,) long.
    ignored_instances: same layout; difficult / crowd objects (neither TP nor FP in evaluation).
    pred_instances:    ``bboxes`` (K, 4|5), ``scores`` (K,), ``labels`` (K,), in original-image
                       coordinates (patch coordinates for split patches).
Metainfo keys: ``img_id``, ``img_path``, ``ori_shape`` (h, w), ``img_shape`` (h, w),
``scale_factor`` (w_scale, h_scale), ``pad_shape``, ``flip``, ``flip_direction``, ...
"""
from mmengine.structures import BaseDataElement, InstanceData


class DetDataSample(BaseDataElement):
    """One image's annotations and predictions (see module docstring)."""

    def _typed(name: str):  # noqa: N805  (property factory used in the class body only)
        def fget(self):
            return getattr(self, f'_{name}')

        def fset(self, value: InstanceData):
            self.set_field(value, f'_{name}', dtype=InstanceData)

        def fdel(self):
            del self[f'_{name}']

        return property(fget, fset, fdel, doc=f'{name} (InstanceData)')

    gt_instances = _typed('gt_instances')
    pred_instances = _typed('pred_instances')
    ignored_instances = _typed('ignored_instances')
    del _typed


SampleList = list[DetDataSample]
