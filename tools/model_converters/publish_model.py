"""Publish a checkpoint: keep only the student weights and ``meta``, name the file by its hash.

What is dropped (a distilled checkpoint is mostly training state):

* every top-level entry but ``state_dict`` and ``meta`` (``optimizer``, ``message_hub``,
  ``param_schedulers``, ``ema_state_dict``, ...);
* state-dict entries of the teacher or of distillation-only modules: keys whose dotted path has a
  component ``teacher`` / ``_teacher`` / ``teacher_model`` / ``distill_adapters``, plus any
  ``--drop-keys`` regular expression;
* a ``module.`` prefix left by DDP is stripped.

The file is written as ``OUT-<first 8 hex digits of its sha256>.pth`` (mmdet's naming), and the
sizes before / after are printed.

Examples:
    python tools/model_converters/publish_model.py work_dirs/ld/epoch_12.pth ld_r18_dota.pth
    python tools/model_converters/publish_model.py in.pth out.pth --drop-keys 'bbox_head\\.adapt'
    python tools/model_converters/publish_model.py in.pth out.pth --keep-keys message_hub
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import re
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))  # run from a checkout

from rotated_ld.utils.cli import add_debug_flag, cli_main  # noqa: E402  (torch-free)

KEEP = ('meta', 'state_dict')


def is_distill_key(key: str, extra: list[re.Pattern] = ()) -> bool:
    """True for a state-dict key that belongs to the teacher or to distillation-only modules
    (the rule ``init_detector`` applies too: :func:`rotated_ld.apis.is_distill_key`)."""
    from rotated_ld.apis.inference import is_distill_key as _is_distill

    return _is_distill(key) or any(p.search(key) for p in extra)


def process_checkpoint(checkpoint: dict, drop_keys: list[str] = (), keep_keys: list[str] = ()) -> tuple[dict, dict]:
    """Return ``(published checkpoint, report)``; the input is not modified.

    ``report`` has ``dropped_entries`` (top-level), ``dropped_keys`` (state-dict keys).
    """
    if not isinstance(checkpoint, dict):
        raise ValueError(f'expected a checkpoint dict, got {type(checkpoint).__name__}')
    if 'state_dict' in checkpoint:
        state_dict = checkpoint['state_dict']
    elif 'model' in checkpoint and isinstance(checkpoint['model'], dict):
        state_dict = checkpoint['model']
    elif checkpoint and all(hasattr(v, 'shape') for v in checkpoint.values()):
        state_dict = checkpoint  # a bare state dict
        checkpoint = dict(state_dict=state_dict)
    else:
        raise ValueError(f'no state_dict in the checkpoint (entries: {sorted(checkpoint)})')
    patterns = [re.compile(p) for p in drop_keys]
    out_sd, dropped = {}, []
    for k, v in state_dict.items():
        name = k[7:] if k.startswith('module.') else k
        if is_distill_key(name, patterns):
            dropped.append(k)
        else:
            out_sd[name] = v
    keep = set(KEEP) | set(keep_keys)
    out = {k: v for k, v in checkpoint.items() if k in keep and k not in ('state_dict', 'model')}
    out['state_dict'] = out_sd
    out.setdefault('meta', {})
    report = dict(dropped_entries=sorted(k for k in checkpoint if k not in keep and k != 'model'),
                  dropped_keys=dropped)
    return out, report


def publish(in_file: str, out_file: str, drop_keys: list[str] = (), keep_keys: list[str] = (),
            verbose: bool = True) -> str:
    """Write the published checkpoint; return its final path ``OUT-<sha8>.pth``."""
    import torch

    import rotated_ld.registry  # noqa: F401  (safe checkpoint loader)
    from rotated_ld.utils import safe_torch_load
    from rotated_ld.utils.weight_import import sha256_of

    if not osp.isfile(in_file):
        raise FileNotFoundError(f'checkpoint not found: {in_file}')
    ckpt, report = process_checkpoint(safe_torch_load(in_file, 'cpu'), drop_keys, keep_keys)
    stem = out_file[:-4] if out_file.endswith('.pth') else out_file
    os.makedirs(osp.dirname(osp.abspath(stem)), exist_ok=True)
    tmp = stem + '.tmp.pth'
    torch.save(ckpt, tmp)
    final = f'{stem}-{sha256_of(tmp)[:8]}.pth'
    os.replace(tmp, final)
    if verbose:
        before, after = osp.getsize(in_file), osp.getsize(final)
        print(f'dropped entries: {", ".join(report["dropped_entries"]) or "none"}; '
              f'dropped {len(report["dropped_keys"])} teacher/distillation weights'
              + (f' (e.g. {report["dropped_keys"][0]})' if report['dropped_keys'] else ''))
        print(f'size: {before / 2**20:.2f} MiB -> {after / 2**20:.2f} MiB ({after / max(before, 1):.1%})')
        print(f'published: {final}')
    return final


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Strip a checkpoint for release (mmdet publish_model)',
                                     epilog='examples:' + __doc__.split('Examples:')[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('in_file', help='input checkpoint')
    parser.add_argument('out_file', help='output path; the sha256 prefix is appended before .pth')
    parser.add_argument('--drop-keys', nargs='+', default=[], metavar='REGEX',
                        help='also drop state-dict keys matching any of these regular expressions')
    parser.add_argument('--keep-keys', nargs='+', default=[], metavar='ENTRY',
                        help='top-level entries to keep besides meta and state_dict')
    add_debug_flag(parser)
    return parser.parse_args(argv)


@cli_main('publish_model.py')
def main(argv=None) -> int:
    args = parse_args(argv)
    publish(args.in_file, args.out_file, args.drop_keys, args.keep_keys)
    return 0


if __name__ == '__main__':
    sys.exit(main())
