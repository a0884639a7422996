"""Shape of the model package: no model class more than two project classes deep, one distribution
head for the GFL family (geometry + LD plug-in), LD heads share the one engine.

A "level" is a project (``rotated_ld``) class in the MRO that is an ``nn.Module``; interface mixins
that are not modules (``BaseDenseHead``: the ``loss``/``predict`` glue) are not levels.
"""
import inspect

import torch.nn as nn

import rotated_ld.models  # noqa: F401  (registers every model)
from rotated_ld.models.dense_heads import (
    GFLHead,
    GFLv2Head,
    LDGFLv2Head,
    LDHead,
    LDRetinaHead,
    RetinaGFLHead,
    RotatedGFLHead,
    RotatedLDHead,
    RotatedLDRetinaHead,
    RotatedRetinaHead,
)
from rotated_ld.models.distillers import LDDistiller
from rotated_ld.registry import MODELS


def _project_module_levels(cls) -> list:
    return [c for c in cls.__mro__ if issubclass(c, nn.Module) and c.__module__.startswith('rotated_ld.')]


def test_no_model_class_deeper_than_two_project_levels():
    classes = [c for c in MODELS.module_dict.values() if inspect.isclass(c) and issubclass(c, nn.Module)
               and c.__module__.startswith('rotated_ld.')]
    assert len(classes) > 20
    deep = {c.__name__: [k.__name__ for k in _project_module_levels(c)] for c in classes
            if len(_project_module_levels(c)) > 2}
    assert deep == {}


def test_gfl_family_is_one_head_with_geometry_and_plugin():
    for cls in (LDHead, RotatedGFLHead, RotatedLDHead, GFLv2Head, LDGFLv2Head):
        assert cls.__bases__ == (GFLHead,)
        # the subclasses set defaults only: every method body is GFLHead's
        own = {k for k, v in vars(cls).items() if inspect.isfunction(v)}
        assert own <= {'__init__'}, (cls.__name__, own)
    # the RetinaNet family is one anchor head with a box coding (rbox deltas / hbox GFL edges) and the plug-in
    for cls in (RotatedLDRetinaHead, RetinaGFLHead, LDRetinaHead):
        assert cls.__bases__ == (RotatedRetinaHead,)
        assert {k for k, v in vars(cls).items() if inspect.isfunction(v)} <= {'__init__'}
    kw = dict(num_classes=3, in_channels=8, feat_channels=8, stacked_convs=1)
    heads = [GFLHead(norm_cfg=None, **kw), LDHead(norm_cfg=None, **kw), RotatedGFLHead(norm_cfg=None, **kw),
             RotatedLDHead(norm_cfg=None, **kw), RotatedRetinaHead(**kw), RotatedLDRetinaHead(**kw),
             RetinaGFLHead(**kw), LDRetinaHead(**kw)]
    assert [h.box_type for h in heads] == ['hbox', 'hbox', 'rbox', 'rbox', 'rbox', 'rbox', 'hbox', 'hbox']
    assert [type(h.distiller).__name__ if h.distiller is not None else None for h in heads] == \
        [None, 'LDDistiller', None, 'LDDistiller', None, 'LDDistiller', None, 'LDDistiller']
    assert all(isinstance(h.distiller, LDDistiller) for h in heads if h.distiller is not None)
    assert all(callable(h.distill_regions) for h in heads)
