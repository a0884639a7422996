"""RetinaNet with a GFL-style distribution box branch (HikariTJU/LD ``RetinaGFLHead``): the LD
repository's RetinaNet teacher / baseline. docs/ld.md ("RetinaNet students").

The one RetinaNet anchor head (:class:`RotatedRetinaHead`) with the horizontal edge coding
(``box_type='hbox'``, :class:`~.anchor_coding.HBoxEdges`): 9 mmdet anchors per location (ratios
0.5 / 1 / 2, octave base scale 4, 3 scales), max-IoU assignment (0.5 / 0.4), sigmoid focal loss;
the box branch is ``A·4·(reg_max + 1)`` logits (reg_max 16), every anchor's box is the four edge
distances from its centre (expectation of each edge's 17 bins, times the stride), trained with
GIoU 2.0 on the decoded box (stride units) over ``Σ_images max(#pos, 1)``; no DFL, no per-level
``Scale`` (as upstream; ``loss_dfl=dict(type='DistributionFocalLoss', loss_weight=0.25)`` adds one).
Layer names ``retina_cls`` / ``retina_reg`` (upstream: ``atss_cls`` / ``atss_reg``).
"""
from __future__ import annotations

from rotated_ld.registry import MODELS

from .anchor_coding import HBOX_RETINA_DEFAULTS
from .rotated_retina_head import RotatedRetinaHead


@MODELS.register_module()
class RetinaGFLHead(RotatedRetinaHead):
    """Horizontal RetinaNet head with edge distributions (see module docstring).

    Args:
        *args, **kwargs: :class:`RotatedRetinaHead` arguments over :data:`HBOX_RETINA_DEFAULTS`
            (``box_type='hbox'``, ``reg_max=16``, mmdet anchors, ``GIoULoss`` 2.0).

    Example:
        >>> import torch
        >>> head = RetinaGFLHead(3, 8, feat_channels=8, stacked_convs=1,
        ...                      anchor_generator=dict(type='AnchorGenerator', strides=[8]))
        >>> cls, reg = head((torch.rand(1, 8, 4, 4),))
        >>> cls[0].shape, reg[0].shape
        (torch.Size([1, 27, 4, 4]), torch.Size([1, 612, 4, 4]))
    """

    default_box_type = 'hbox'

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **{**HBOX_RETINA_DEFAULTS, **kwargs})
