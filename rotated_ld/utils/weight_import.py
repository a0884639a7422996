"""Import foreign detector weights into rotated_ld's layout, with a key-mapping report.

Supported source layouts (``--from`` of ``tools/model_converters/import_weights.py``):

========================  ====================================================================
``mmdet-gfl``             mmdetection 2.x / 3.x ``GFL`` checkpoints (``GFLHead``).
``mmdet-ld``              mmdetection 2.x / 3.x ``LD`` students (``LDHead`` in
                          ``KnowledgeDistillationSingleStageDetector``); early LD-repo checkpoints
                          that registered the teacher carry ``teacher_model.*`` keys: dropped.
``mmrotate0-retinanet``   mmrotate 0.x rotated RetinaNet (``RotatedRetinaHead``, anchors at angle 0).
``mmrotate1-retinanet``   mmrotate 1.x rotated RetinaNet (``RetinaHead`` under mmdet 3 with
                          ``FakeRotatedAnchorGenerator(angle_version=...)``): the regression rows of
                          anchors that 1.x regularises are re-expressed for angle-0 anchors (below).
``rotated-ld``            Zzh-tju/Rotated-LD (mmrotate 0.x ``RotatedRetinaHeadDistribution`` /
                          ``LDRotatedRetinaHead``): ``A·5·(reg_max+1)`` regression channels.
``ld-retinagfl``          HikariTJU/LD ``RetinaGFLHead`` / ``LDRetinaHead`` (RetinaNet with GFL edge
                          distributions): ``bbox_head.atss_cls`` / ``atss_reg`` → ``retina_cls`` /
                          ``retina_reg``; registered teachers dropped.
``torchvision-resnet``    ``torchvision.models.resnet*`` ``state_dict()`` saved to a local file →
                          backbone init (``fc.*`` dropped).
========================  ====================================================================

Layer names: our ResNet / FPN / heads keep mmdet's attribute names, so the *names* of the
mmdet / mmrotate / Rotated-LD layouts map one-to-one (``backbone.conv1``, ``backbone.layer1.0.conv1``,
``backbone.layerN.M.downsample.0``, ``neck.lateral_convs.N.conv``, ``neck.fpn_convs.N.conv``,
``bbox_head.cls_convs.N.conv`` / ``.gn``, ``bbox_head.gfl_cls`` / ``gfl_reg``, ``bbox_head.scales.N.scale``,
``bbox_head.integral.project``, ``bbox_head.retina_cls`` / ``retina_reg``). What differs, and what
this module handles explicitly:

* a ``module.`` prefix (DDP) is stripped; ``state_dict`` / ``model`` / bare dict are accepted;
* teacher weights (``teacher_model.*``, ``teacher.*``) are dropped and reported;
* Rotated-LD's persistent buffers ``bbox_head.integral.project`` (support of dx..dh, −2..2) and
  ``bbox_head.integral_angle.project`` (support of da, −5..2) have no home (our supports are not
  saved, they come from ``delta_ranges``); they are *checked* against the config's
  ``delta_ranges`` and dropped — a mismatch is an error, since decoding would silently differ;
* **mmrotate anchors and decoding** (default, ``anchors='mmrotate'``): an imported rotated RetinaNet
  only predicts what mmrotate predicts with mmrotate's own float32 anchors and decoding rules
  (``rotated_ld.models.task_modules.mmrotate_compat``). ``rotated_ld.apis.weight_import.import_weights`` writes,
  next to the output checkpoint, a config that inherits ``--config`` and sets
  ``anchor_generator.compat`` / ``bbox_coder.compat`` (``'mmrotate1'`` with the source's anchor
  ``angle_version`` for 1.x, ``'mmrotate0'`` for 0.x and Rotated-LD); the weights are copied as they are;
* ``anchors='exact'`` (mmrotate 1.x only; for fine-tuning with this project's anchors): 1.x
  regularises the horizontal anchors into the angle version
  (mmrotate issue #619: the reason 0.x weights read AP 60 → 0.1 in 1.x): with ``oc`` every anchor
  becomes ``(h, w, −π/2)``; with ``le90`` (``le135``) every anchor with ``w ≤ h`` becomes
  ``(h, w, −π/2)`` (``(h, w, +π/2)``). Our anchors are ``(w, h, 0)`` (as 0.x and Rotated-LD).
  A 1.x delta against a turned anchor describes the same box as the delta
  ``(dx·h/w, dy·w/h, dh, dw, dt)`` (``proj_xy=False``) or ``(±dy, ∓dx, dh, dw, dt)``
  (``proj_xy=True``) against the angle-0 anchor; the map is linear, so the 5 rows of
  ``retina_reg`` (weight and bias) of each turned anchor are permuted / scaled. This is *not*
  equivalent for every location: 1.x leaves a square anchor at angle 0 wherever float32 rounding
  makes ``x2 − x1 > y2 − y1`` (5,194 of 25,575 square anchors at 640²), and there the transformed
  rows decode as if it had been turned (up to hundreds of pixels away).

Not handled (refused with a message): other architectures, mmcv ``DCNv2`` offsets (our DCN is
v1), JDet ``.pkl`` files (Jittor pickles). The report lists **mapped** (same name),
**renamed** (old → new, grouped by rule), **transformed**, **dropped** (with reason), **unused**
(foreign keys with no home), **missing** (our keys not filled, needs ``--config``) and **shape
mismatches** (an error).
"""
from __future__ import annotations

import hashlib
import os.path as osp
import re
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from difflib import get_close_matches
from typing import Callable, Optional

import torch
from torch import Tensor, nn

from .checkpoint import UnsafeCheckpointError, diff_state_dict, safe_torch_load, unwrap_state_dict

LAYOUTS = ('mmdet-gfl', 'mmdet-ld', 'mmrotate0-retinanet', 'mmrotate1-retinanet', 'rotated-ld',
           'ld-retinagfl', 'torchvision-resnet')
SRC_ANGLE_VERSIONS = ('none', 'oc', 'le90', 'le135')
_TEACHER = re.compile(r'^(teacher_model|teacher|_teacher)\.')
# buffers that are a function of the config; filled from the freshly built model when absent
_CONSTANT_BUFFERS = ('bbox_head.integral.project',)


class WeightImportError(ValueError):
    """The source does not fit the target (shape mismatches, wrong layout, bad supports)."""


@dataclass
class ImportReport:
    """What happened to every key (see module docstring)."""

    layout: str
    mapped: list = field(default_factory=list)           # [key]
    renamed: list = field(default_factory=list)          # [(old, new, rule)]
    transformed: list = field(default_factory=list)      # [(key, what)]
    dropped: list = field(default_factory=list)          # [(key, reason)]
    unused: list = field(default_factory=list)           # [key]
    missing: list = field(default_factory=list)          # [key]
    shape_mismatches: list = field(default_factory=list)  # [(key, src shape, our shape)]
    notes: list = field(default_factory=list)
    out_config: Optional[str] = None  # the config written for the converted weights, if any

    @property
    def ok(self) -> bool:
        return not self.shape_mismatches

    def format(self, max_keys: int = 6) -> str:
        """Human-readable report; keys grouped by pattern (layer indices replaced by ``*``)."""
        lines = [f'weight import ({self.layout}): {len(self.mapped)} mapped, {len(self.renamed)} renamed, '
                 f'{len(self.transformed)} transformed, {len(self.dropped)} dropped, {len(self.unused)} unused, '
                 f'{len(self.missing)} missing, {len(self.shape_mismatches)} shape mismatches']

        def block(title, keys):
            if not keys:
                return
            groups = _group(keys)
            lines.append(f'  {title} ({len(keys)}):')
            for pat, n in list(groups.items())[:max_keys * 4]:
                lines.append(f'    {pat}' + (f'  [{n}]' if n > 1 else ''))
            if len(groups) > max_keys * 4:
                lines.append(f'    ... {len(groups) - max_keys * 4} more patterns')

        block('mapped (same name)', self.mapped)
        if self.renamed:
            by_rule = defaultdict(list)
            for old, _new, rule in self.renamed:
                by_rule[rule].append(old)
            lines.append(f'  renamed ({len(self.renamed)}):')
            for rule, olds in by_rule.items():
                lines.append(f'    {rule}  [{len(olds)}], e.g. {olds[0]}')
        if self.transformed:
            lines.append(f'  transformed ({len(self.transformed)}):')
            lines += [f'    {k}: {what}' for k, what in self.transformed]
        if self.dropped:
            by_reason = defaultdict(list)
            for k, why in self.dropped:
                by_reason[why].append(k)
            lines.append(f'  dropped ({len(self.dropped)}):')
            for why, keys in by_reason.items():
                lines.append(f'    {why}: ' + ', '.join(list(_group(keys))[:max_keys])
                             + (f' (+{len(_group(keys)) - max_keys} patterns)' if len(_group(keys)) > max_keys else ''))
        block('unused (no home in our model)', self.unused)
        block('missing (our keys not filled)', self.missing)
        if self.shape_mismatches:
            lines.append(f'  SHAPE MISMATCHES ({len(self.shape_mismatches)}) — error:')
            lines += [f'    {k}: source {tuple(a)} vs ours {tuple(b)}' for k, a, b in self.shape_mismatches[:20]]
        lines += [f'  note: {n}' for n in self.notes]
        return '\n'.join(lines)


def _group(keys) -> OrderedDict[str, int]:
    out: OrderedDict = OrderedDict()
    for k in keys:
        pat = re.sub(r'\.\d+(?=\.|$)', '.*', k)
        out[pat] = out.get(pat, 0) + 1
    return out


# ---------------------------------------------------------------------------------------------- I/O
def extract_state_dict(ckpt, path: str = '<checkpoint>') -> tuple[dict, dict]:
    """``(state_dict, meta)`` of a loaded checkpoint (``state_dict`` / ``model`` entry or bare); keys as
    stored (the DDP prefix is one of the reported renames)."""
    return unwrap_state_dict(ckpt, path, WeightImportError, strip_ddp=False)


def load_foreign_checkpoint(path: str) -> tuple[dict, dict]:
    """Load a foreign checkpoint through the safe loader; ``(state_dict, meta)``.

    Raises:
        FileNotFoundError: no such file.
        WeightImportError: a pickle with objects outside the allow-list (message says how to
            re-save it as plain tensors), or no state dict inside.
    """
    if path.endswith('.pkl'):
        raise WeightImportError(f'{path}: .pkl files (JDet / Jittor, Detectron pickles) are not torch '
                                'checkpoints; convert the arrays to torch tensors and torch.save a '
                                'state_dict first')
    try:
        ckpt = safe_torch_load(path, 'cpu')
    except UnsafeCheckpointError as e:
        raise WeightImportError(
            f'{e}\nTo import it, re-save only the tensors in the environment that wrote it, e.g. '
            f"python -c \"import torch; c = torch.load('{osp.basename(path)}', weights_only=False); "
            f"torch.save({{'state_dict': c.get('state_dict', c)}}, 'plain.pth')\"") from e
    return extract_state_dict(ckpt, path)


def meta_classes(meta: dict) -> Optional[tuple]:
    """Class names of an mmdet 2.x (``meta['CLASSES']``) or 3.x (``meta['dataset_meta']['classes']``)
    checkpoint, else None."""
    if not isinstance(meta, dict):
        return None
    ds = meta.get('dataset_meta')
    if isinstance(ds, dict) and ds.get('classes'):
        return tuple(ds['classes'])
    if meta.get('CLASSES'):
        return tuple(meta['CLASSES'])
    return None


# ---------------------------------------------------------------------------------------------- rules
@dataclass
class Layout:
    """Per-layout rules: ``renames`` (regex, replacement, description) applied in order, ``drops``
    (regex, reason), an optional ``transform(sd, model, report, **options)`` after renaming."""

    name: str
    renames: list
    drops: list
    transform: Optional[Callable] = None
    description: str = ''


def _check_rotated_ld_supports(sd: dict, model: Optional[nn.Module], report: ImportReport, **_) -> None:
    """Rotated-LD's ``integral.project`` / ``integral_angle.project`` vs our ``delta_ranges``."""
    keys = ('bbox_head.integral.project', 'bbox_head.integral_angle.project')
    found = {k: sd.pop(k) for k in keys if k in sd}
    if not found:
        return
    head = getattr(model, 'bbox_head', None) if model is not None else None
    dd = getattr(head, 'delta_dist', None)
    for k, v in found.items():
        lo, hi, n = float(v[0]), float(v[-1]), v.numel()
        if dd is None:
            report.dropped.append((k, f'derived buffer (support {lo:g}..{hi:g}, {n} bins; not checked '
                                      'without --config)'))
            continue
        idx = 4 if 'angle' in k else 0
        want = dd.supports[idx]
        if want.numel() != n or not torch.allclose(want, v.float().to(want.device), atol=1e-5):
            raise WeightImportError(
                f'{k}: the source decodes on the support {lo:g}..{hi:g} with {n} bins, the config on '
                f'{float(want[0]):g}..{float(want[-1]):g} with {want.numel()} bins; set bbox_head.reg_max / '
                'delta_ranges in the config to the source values')
        report.dropped.append((k, 'derived buffer, equal to the config\'s delta_ranges (checked)'))


def mmrotate1_anchor_transform(weight: Tensor, bias: Optional[Tensor], anchor_wh: Tensor, src_angle_version: str,
                               proj_xy: bool = False, stds=(1., 1., 1., 1., 1.), means=(0., 0., 0., 0., 0.)
                               ) -> tuple[Tensor, Optional[Tensor], list]:
    """Re-express mmrotate 1.x ``retina_reg`` rows for angle-0 anchors (see module docstring).

    Args:
        weight (Tensor): ``(A·5, C, k, k)`` conv weight (anchor-major blocks of 5 delta rows).
        bias (Tensor | None): ``(A·5,)``.
        anchor_wh (Tensor): ``(A, 2)`` base anchor ``(w, h)`` in the head's anchor order.
        src_angle_version (str): the 1.x ``FakeRotatedAnchorGenerator.angle_version``
            (``'none'``: anchors at angle 0, nothing to do).
        proj_xy (bool): the coder's ``proj_xy``. stds / means: the coder's target stds / means.

    Returns:
        ``(weight, bias, turned)`` new tensors and the list of anchor indices that were turned.
    """
    if src_angle_version not in SRC_ANGLE_VERSIONS:
        raise WeightImportError(f'src_angle_version={src_angle_version!r}; expected one of {SRC_ANGLE_VERSIONS}')
    A = anchor_wh.shape[0]
    if weight.shape[0] != A * 5:
        raise WeightImportError(f'retina_reg has {weight.shape[0]} rows, expected {A}·5 = {A * 5} '
                                '(plain deltas; mmrotate 1.x has no distribution head)')
    if src_angle_version == 'none':
        return weight, bias, []
    if any(abs(float(m)) > 0 for m in means):
        raise WeightImportError(f'target_means={tuple(means)}: only zero means can be re-expressed')
    w, h = anchor_wh[:, 0].double(), anchor_wh[:, 1].double()
    if src_angle_version == 'oc':
        turned = torch.ones(A, dtype=torch.bool)
        sign = -1.0  # anchor angle -pi/2
    else:  # le90 / le135: mmrotate keeps w > h, turns the rest (squares included)
        turned = ~(w > h)
        sign = -1.0 if src_angle_version == 'le90' else 1.0
    s = [float(x) for x in stds]
    W, B = weight.clone(), bias.clone() if bias is not None else None
    for a in turned.nonzero().flatten().tolist():
        r = float(h[a] / w[a])
        rows = [weight[a * 5 + j] for j in range(5)]
        brow = [bias[a * 5 + j] for j in range(5)] if bias is not None else None
        if proj_xy:  # anchor angle -pi/2: dx' = dy, dy' = -dx ; +pi/2: dx' = -dy, dy' = dx
            plan = [(1, -sign * s[1] / s[0]), (0, sign * s[0] / s[1])]
        else:  # dx' = dx * h/w, dy' = dy * w/h
            plan = [(0, r), (1, 1.0 / r)]
        plan += [(3, s[3] / s[2]), (2, s[2] / s[3]), (4, 1.0)]
        for j, (src, c) in enumerate(plan):
            W[a * 5 + j] = rows[src] * c
            if B is not None:
                B[a * 5 + j] = brow[src] * c
    return W, B, turned.nonzero().flatten().tolist()


ANCHOR_MODES = ('mmrotate', 'exact')
# layouts whose source decodes against mmrotate's anchors, and the compat mode that reproduces them
_COMPAT_OF = {'mmrotate0-retinanet': 'mmrotate0', 'rotated-ld': 'mmrotate0', 'mmrotate1-retinanet': 'mmrotate1'}


def compat_overrides(layout: str, src_angle_version: str = 'le90') -> dict:
    """``model.bbox_head`` overrides that make our head reproduce the source framework's anchors
    and decoding (empty for layouts without anchors)."""
    compat = _COMPAT_OF.get(layout)
    if compat is None:
        return {}
    gen = dict(compat=compat)
    if compat == 'mmrotate1':
        gen['angle_version'] = None if src_angle_version == 'none' else src_angle_version
    return dict(anchor_generator=gen, bbox_coder=dict(compat=compat))


def write_compat_config(path: str, base_config: str, overrides: dict, layout: str, src: str) -> None:
    """A config inheriting ``base_config`` with ``model.bbox_head`` ``overrides`` (the importer's output config)."""
    lines = [f'# written by tools/model_converters/import_weights.py --from {layout} for {osp.basename(src)}:',
             f'# {osp.basename(base_config)} with the anchors and decoding of the source framework, so that the',
             '# converted weights predict what they predicted there (docs/deployment.md, "Weight import").',
             f'_base_ = {osp.abspath(base_config)!r}',
             'model = dict(bbox_head=dict(']
    lines += [f'    {k}={v!r},' for k, v in overrides.items()]
    lines.append('))')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')


def _mmrotate1_transform(sd: dict, model: Optional[nn.Module], report: ImportReport,
                         src_angle_version: str = 'le90', anchors: str = 'mmrotate', **_) -> None:
    if anchors == 'mmrotate':
        report.notes.append(f'mmrotate 1.x anchors ({src_angle_version}) and decoding reproduced by the output '
                            "config (compat='mmrotate1'): rows copied as they are")
        return
    if src_angle_version == 'none':
        report.notes.append('mmrotate 1.x anchors at angle 0 (angle_version=None): rows copied as is')
        return
    head = getattr(model, 'bbox_head', None) if model is not None else None
    if head is None or not hasattr(head, 'prior_generator') or not hasattr(head.prior_generator, 'base_wh'):
        raise WeightImportError('mmrotate1-retinanet needs --config (the anchors and the coder decide how '
                                'the regression rows are re-expressed)')
    if 'bbox_head.retina_reg.weight' not in sd:
        raise WeightImportError('no bbox_head.retina_reg.weight in the source: not a rotated RetinaNet')
    coder = head.bbox_coder
    wh = head.prior_generator.base_wh(0)
    W, B, turned = mmrotate1_anchor_transform(sd['bbox_head.retina_reg.weight'], sd.get('bbox_head.retina_reg.bias'),
                                              wh, src_angle_version, coder.proj_xy, coder.stds, coder.means)
    sd['bbox_head.retina_reg.weight'] = W
    if B is not None:
        sd['bbox_head.retina_reg.bias'] = B
    what = (f'rows of anchors {turned} (turned by mmrotate 1.x {src_angle_version} anchors) re-expressed for '
            f'angle-0 anchors ({"proj_xy: (±dy, ∓dx" if coder.proj_xy else "(dx·h/w, dy·w/h"}, dh, dw, dt)); '
            'approximate: square anchors that 1.x leaves unturned by float32 rounding now decode as turned')
    report.transformed += [(k, what) for k in ('bbox_head.retina_reg.weight', 'bbox_head.retina_reg.bias') if k in sd]


_DDP = (r'^module\.', '', 'module.* → * (DDP prefix)')
_DROP_TEACHER = (_TEACHER.pattern, 'teacher weights (the KD teacher is not part of the student)')

REGISTRY: dict[str, Layout] = {
    'mmdet-gfl': Layout('mmdet-gfl', [_DDP], [_DROP_TEACHER],
                        description='mmdetection 2.x/3.x GFL (GFLHead)'),
    'mmdet-ld': Layout('mmdet-ld', [_DDP], [_DROP_TEACHER],
                       description='mmdetection 2.x/3.x LD student (LDHead)'),
    'mmrotate0-retinanet': Layout('mmrotate0-retinanet', [_DDP], [_DROP_TEACHER],
                                  description='mmrotate 0.x rotated RetinaNet (angle-0 anchors)'),
    'mmrotate1-retinanet': Layout('mmrotate1-retinanet', [_DDP], [_DROP_TEACHER], _mmrotate1_transform,
                                  description='mmrotate 1.x rotated RetinaNet (regularised anchors)'),
    'rotated-ld': Layout('rotated-ld', [_DDP], [_DROP_TEACHER], _check_rotated_ld_supports,
                         description='Zzh-tju/Rotated-LD distribution rotated RetinaNet'),
    'ld-retinagfl': Layout('ld-retinagfl', [_DDP, (r'^bbox_head\.atss_(cls|reg)\.', r'bbox_head.retina_\1.',
                                                   'bbox_head.atss_{cls,reg} → retina_{cls,reg}')],
                           [_DROP_TEACHER],
                           description='HikariTJU/LD RetinaGFLHead / LDRetinaHead (RetinaNet, GFL edge bins)'),
    'torchvision-resnet': Layout('torchvision-resnet', [_DDP, (r'^backbone\.', '', 'backbone.* → *')],
                                 [(r'^fc\.', 'ImageNet classifier (no home in a detector backbone)')],
                                 description='torchvision ResNet state_dict (backbone init)'),
}


# ---------------------------------------------------------------------------------------------- core
def convert_state_dict(state_dict: dict, layout: str, model: Optional[nn.Module] = None, prefix: str = '',
                       strict: bool = True, **options) -> tuple[dict, ImportReport]:
    """Map a foreign state dict onto our names.

    Args:
        state_dict (dict): foreign key → tensor.
        layout (str): one of :data:`LAYOUTS`.
        model (nn.Module | None): our target model (built from ``--config``); when given, missing /
            unused / shape mismatches are computed against its ``state_dict()`` (for
            ``torchvision-resnet`` against ``model.backbone`` if it has one).
        prefix (str): prepended to every output key (``'backbone.'`` to make a torchvision file a
            partial detector checkpoint).
        strict (bool): raise :class:`WeightImportError` on shape mismatches (the report is in the
            message).
        **options: layout options (``src_angle_version`` for ``mmrotate1-retinanet``).

    Returns:
        ``(new state dict, report)``; tensors are the source tensors (no copy) except transformed ones.
    """
    if layout not in REGISTRY:
        raise WeightImportError(f'unknown layout {layout!r}; expected one of {LAYOUTS}'
                                f' (did you mean {get_close_matches(layout, LAYOUTS, 1)}?)')
    spec = REGISTRY[layout]
    report = ImportReport(layout)
    renames = [(re.compile(p), r, d) for p, r, d in spec.renames]
    drops = [(re.compile(p), why) for p, why in spec.drops]
    out: dict = {}
    origin: dict = {}
    for key, val in state_dict.items():
        if any(p.search(key) for p, _ in drops):
            report.dropped.append((key, next(w for p, w in drops if p.search(key))))
            continue
        new, rules = key, []
        for p, r, d in renames:
            if p.search(new):
                new = p.sub(r, new)
                rules.append(d)
        new = prefix + new
        if new in out:
            raise WeightImportError(f'{key} and {origin[new]} both map to {new}')
        out[new], origin[new] = val, key
        if new != key:
            report.renamed.append((key, new, '; '.join(rules) + (f'; + prefix {prefix!r}' if prefix else '')))
    target = model
    if layout == 'torchvision-resnet' and model is not None and hasattr(model, 'backbone') and not prefix:
        target = model.backbone
    if spec.transform is not None:
        spec.transform(out, target, report, **options)
    if target is not None:
        own = target.state_dict()
        diff = diff_state_dict(own, out)
        for k in diff.unexpected:
            report.unused.append(origin.get(k, k))
            out.pop(k)
        mismatched = set(diff.shapes)
        report.shape_mismatches += [(k, tuple(out[k].shape), tuple(own[k].shape)) for k in out if k in mismatched]
        for k in diff.missing:
            if k.endswith('num_batches_tracked'):
                out[k] = own[k].clone()  # older checkpoints lack it; not a learned value
            elif k in _CONSTANT_BUFFERS:
                out[k] = own[k].clone()
                report.notes.append(f'{k}: filled from the config (a constant buffer)')
            else:
                report.missing.append(k)
        _hint_shapes(report, layout)
    renamed_new = {n for _, n, _ in report.renamed}
    report.mapped = [k for k in out if k not in renamed_new and k in origin]
    if strict and report.shape_mismatches:
        raise WeightImportError('the source does not fit the config:\n' + report.format())
    return out, report


def _hint_shapes(report: ImportReport, layout: str) -> None:
    for k, src, ours in report.shape_mismatches:
        if k.endswith('retina_reg.weight'):
            report.notes.append(
                f'retina_reg: source has {src[0]} rows, the config {ours[0]}: plain rotated RetinaNet '
                '(mmrotate) has A·5 rows → reg_max=None; Rotated-LD has A·5·(reg_max+1) → reg_max=8')
        if k.endswith(('gfl_cls.weight', 'retina_cls.weight')):
            report.notes.append(f'{k}: class count differs (source {src[0]} channels, config {ours[0]}): '
                                'set bbox_head.num_classes')
        if k.endswith('conv_offset.weight'):
            report.notes.append(f'{k}: offset channels differ: mmcv DCNv2 (modulated) is not supported, DCN v1 is')


def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


__all__ = ['LAYOUTS', 'SRC_ANGLE_VERSIONS', 'ImportReport', 'WeightImportError', 'convert_state_dict',
           'extract_state_dict', 'load_foreign_checkpoint', 'sha256_of',
           'mmrotate1_anchor_transform', 'meta_classes', 'compat_overrides', 'write_compat_config',
           'ANCHOR_MODES']
