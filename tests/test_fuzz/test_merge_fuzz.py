"""Fuzz the patch merge: garbage patch names are named in the error, mismatched boxes / scores /
labels are errors, NaN/inf detections are dropped and counted, and for any input
``dets_in == dets_out + suppressed + dropped``. CPU: ~2 s.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rotated_ld.evaluation.functional import merge_results


def _res(rng, k, dim=5):
    if dim == 5:
        b = np.c_[rng.uniform(0, 100, (k, 2)), rng.uniform(2, 40, (k, 2)), rng.uniform(-1.5, 1.5, k)]
    else:
        b = rng.uniform(0, 100, (k, 8))
    return dict(bboxes=b, scores=rng.uniform(0, 1, k), labels=rng.integers(0, 3, k))


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.one_of(st.text(max_size=30),
                      st.builds(lambda a, b, x, y: f'{a}__{b}__{x}___{y}', st.text(max_size=5),
                                st.sampled_from(['1024', '0.5', 'x', '', '1e3', '-1']),
                                st.sampled_from(['0', '-5', '3.5', 'a', '']), st.sampled_from(['0', '12', 'nan', '']))))
def test_patch_names(name, fuzz):
    rng = np.random.default_rng(0)
    try:
        out, stats = merge_results([name], [_res(rng, 3)])
    except ValueError as e:
        assert repr(name)[1:-1] in str(e) or name in str(e), str(e)
        fuzz.error('merge', e, expect=('expected', 'patch name'))
        return
    assert stats['dets_in'] == stats['dets_out'] + stats['suppressed'] + stats['dropped'] == 3
    fuzz.accepted('merge')


@pytest.mark.parametrize('case', ['scores_short', 'labels_long', 'empty_boxes_with_scores', 'dim_6', 'mixed_dims',
                                  'negative_label', 'names_vs_results'])
def test_malformed_results(case, fuzz):
    rng = np.random.default_rng(1)
    names, results = ['P1__1024__0___0', 'P1__1024__824___0'], [_res(rng, 4), _res(rng, 2)]
    if case == 'scores_short':
        results[1]['scores'] = results[1]['scores'][:1]
    elif case == 'labels_long':
        results[0]['labels'] = np.r_[results[0]['labels'], 1]
    elif case == 'empty_boxes_with_scores':
        results[1]['bboxes'] = np.zeros((0, 5))
    elif case == 'dim_6':
        results[1]['bboxes'] = np.zeros((2, 6))
    elif case == 'mixed_dims':
        results[1] = _res(rng, 2, dim=8)
    elif case == 'negative_label':
        results[0]['labels'][2] = -1
    else:
        names = names[:1]
    with pytest.raises(ValueError) as e:
        merge_results(names, results)
    fuzz.error('merge', e.value, None if case == 'names_vs_results' else names[-1] if case in (
        'scores_short', 'empty_boxes_with_scores', 'dim_6', 'mixed_dims') else names[0],
        expect=('expected', 'mixed', '< 0', 'patch names'))


def test_balance_with_nonfinite(fuzz):
    for seed in range(30):
        rng = np.random.default_rng([14, seed])
        n_patch = int(rng.integers(1, 6))
        names = [f'S{int(rng.integers(3))}__1024__{int(rng.integers(0, 5)) * 100}___{int(rng.integers(0, 5)) * 100}'
                 for _ in range(n_patch)]
        results = [_res(rng, int(rng.integers(0, 12)), dim=int(rng.choice([5, 8])) if i == 0 else 5)
                   for i in range(n_patch)]
        if results[0]['bboxes'].shape[-1] == 8:
            results = [results[0]] + [_res(rng, len(r['scores']), 8) for r in results[1:]]
        n_bad = 0
        for r in results:
            for _ in range(int(rng.integers(0, 3))):
                if len(r['scores']):
                    i = int(rng.integers(len(r['scores'])))
                    if np.isfinite(r['scores'][i]) and np.isfinite(r['bboxes'][i]).all():
                        n_bad += 1
                    if rng.random() < 0.5:
                        r['bboxes'][i, int(rng.integers(r['bboxes'].shape[1]))] = rng.choice([np.nan, np.inf])
                    else:
                        r['scores'][i] = np.nan
        out, stats = merge_results(names, results, iou_thr=0.1)
        n_in = sum(len(r['scores']) for r in results)
        assert stats['dets_in'] == n_in == stats['dets_out'] + stats['suppressed'] + stats['dropped']
        assert stats['dropped'] == n_bad and sum(len(v['scores']) for v in out.values()) == stats['dets_out']
        assert all(np.isfinite(v['bboxes']).all() and np.isfinite(v['scores']).all() for v in out.values())
        if n_bad:
            assert f'dropped {n_bad} with NaN/inf values' in str(stats)
            fuzz.skip('merge', n_bad)
        else:
            fuzz.accepted('merge')
