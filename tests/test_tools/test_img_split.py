"""The DOTA image split, checked by brute force on synthetic scenes.

Every object whose polygon lies fully inside a window appears in that patch with exactly translated
coordinates; every written object is a translated source object with IoF >= iof_thr (difficulty 2
exactly when IoF < 1); no object is lost; the windows cover the whole image; multi-scale rates give
scaled windows (mmrotate) or rescaled images (DOTA_devkit); a second run is a no-op.
"""
import importlib.util
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import shapely

from rotated_ld.datasets.dota_patch_name import parse_patch_name
from rotated_ld.datasets.dota_txt import parse_dota_txt
from rotated_ld.datasets.split import SplitConfig, get_sliding_windows, polys_window_iof, split_dataset
from rotated_ld.datasets.synthetic import make_dota_scenes

REPO = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


@pytest.fixture(scope='module')
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp('scenes')
    make_dota_scenes(str(root), num=3, size_range=(800, 1150), seed=7)
    return root


@pytest.fixture(scope='module')
def ss_split(scenes, tmp_path_factory):
    out = tmp_path_factory.mktemp('split') / 'ss'
    cfg = SplitConfig(sizes=[512], gaps=[200])
    stats = split_dataset([str(scenes / 'images')], str(out), [str(scenes / 'labelTxt')], cfg, progress=False,
                          logger=None)
    return out, stats


def _patches(save_dir):
    out = {}
    for f in sorted(os.listdir(osp.join(save_dir, 'annfiles'))):
        a = parse_dota_txt(osp.join(save_dir, 'annfiles', f))
        out[f[:-4]] = a
    return out


def test_window_placement_matches_mmrotate():
    w = get_sliding_windows(2000, 1100, [1024], [200])
    # x: step 824, n = ceil((2000 - 1024) / 824 + 1) = 3, last start snapped to 2000 - 1024
    assert sorted({int(v) for v in w[:, 0]}) == [0, 824, 976]
    assert sorted({int(v) for v in w[:, 1]}) == [0, 76]
    assert w[:4, :2].tolist() == [[0, 0], [0, 76], [824, 0], [824, 76]]  # x-major, as itertools.product
    assert (w[:, 2:] - w[:, :2] == 1024).all()
    assert get_sliding_windows(800, 800, [1024], [200]).tolist() == [[0, 0, 1024, 1024]]  # 0.61 > 0.6
    # 700 x 700: 0.47 < img_rate_thr, no window passes -> the best one is kept
    assert get_sliding_windows(700, 700, [1024], [200]).tolist() == [[0, 0, 1024, 1024]]
    with pytest.raises(ValueError, match='size/gap'):
        get_sliding_windows(100, 100, [100], [100])


def test_iof_against_shapely():
    rng = np.random.default_rng(0)
    c = rng.uniform(0, 600, (40, 2))
    polys = np.concatenate([c, c + (50, 10), c + (40, 60), c + (-10, 50)], 1)
    wins = np.array([[0, 0, 300, 300], [200, 200, 500, 500], [100, 0, 612, 512]])
    iof = polys_window_iof(polys, wins)
    for i, p in enumerate(polys):
        P = shapely.Polygon(p.reshape(4, 2))
        for k, b in enumerate(wins):
            assert iof[i, k] == pytest.approx(P.intersection(shapely.box(*b)).area / P.area, abs=1e-9)


def test_split_brute_force(scenes, ss_split):
    out, stats = ss_split
    patches = _patches(out)
    imgs = sorted(os.listdir(scenes / 'images'))
    assert stats.images == 3 and stats.lost == 0 and stats.patches == len(patches)
    assert len(os.listdir(out / 'images')) == len(patches)
    n_src = 0
    for fname in imgs:
        img_id = fname[:-4]
        src = parse_dota_txt(str(scenes / 'labelTxt' / f'{img_id}.txt'))
        n_src += len(src.polys)
        h, w = cv2.imread(str(scenes / 'images' / fname)).shape[:2]
        mine = {k: v for k, v in patches.items() if parse_patch_name(k)[0] == img_id}
        cover = np.zeros((h, w), bool)
        found = np.zeros(len(src.polys), bool)
        for name, ann in mine.items():
            _, x, y, rate = parse_patch_name(name)
            assert rate == 1.0 and name.split('__')[1] == '512'
            cover[y:y + 512, x:x + 512] = True
            pw = cv2.imread(str(out / 'images' / f'{name}.png')).shape[:2]
            assert pw == (512, 512)
            back = ann.polys + np.array([x, y] * 4)
            # every written object is a source object, translated, with IoF >= 0.7 and diff 2 iff IoF < 1
            for q, lab, d in zip(back, ann.labels, ann.difficulties):
                j = np.nonzero(np.abs(src.polys - q).max(1) < 1e-6)[0]
                assert len(j) >= 1 and src.labels[j[0]] == lab
                P = shapely.Polygon(q.reshape(4, 2))
                iof = P.intersection(shapely.box(x, y, x + 512, y + 512)).area / P.area
                assert iof >= 0.7 - 1e-9
                assert (d == 2) == (iof < 1 - 1e-9) and (d == 2 or d == src.difficulties[j[0]])
                found[j] = True
            # every object fully inside the window is in this patch, exactly translated
            lo = src.polys.reshape(-1, 4, 2).min(1)
            hi = src.polys.reshape(-1, 4, 2).max(1)
            inside = (lo[:, 0] >= x) & (lo[:, 1] >= y) & (hi[:, 0] <= x + 512) & (hi[:, 1] <= y + 512)
            for i in np.nonzero(inside)[0]:
                expect = src.polys[i] - np.array([x, y] * 4)
                k = np.nonzero(np.abs(ann.polys - expect).max(1) < 1e-6)[0]
                assert len(k) == 1, (name, i)
                assert ann.labels[k[0]] == src.labels[i] and ann.difficulties[k[0]] == src.difficulties[i]
        assert cover.all(), f'{img_id}: windows leave {(~cover).sum()} pixels uncovered'
        assert found.all(), f'{img_id}: objects {np.nonzero(~found)[0]} lost'
    assert stats.objects_in == n_src
    assert stats.objects_out == sum(len(a.polys) for a in patches.values())
    assert stats.truncated_out == sum(int((a.difficulties == 2).sum()) for a in patches.values())


def test_second_run_is_noop(scenes, ss_split):
    out, stats = ss_split

    def snapshot():
        return {osp.join(r, f): os.stat(osp.join(r, f)).st_mtime_ns
                for r, _, fs in os.walk(out) for f in fs if f != 'split_summary.json'}

    before = snapshot()
    again = split_dataset([str(scenes / 'images')], str(out), [str(scenes / 'labelTxt')],
                          SplitConfig(sizes=[512], gaps=[200]), progress=False, logger=None)
    assert snapshot() == before
    assert again.skipped_images == 3 and again.patches == stats.patches and again.lost == 0
    with pytest.raises(ValueError, match='other parameters'):
        split_dataset([str(scenes / 'images')], str(out), [str(scenes / 'labelTxt')],
                      SplitConfig(sizes=[512], gaps=[100]), progress=False, logger=None)


def test_padding_and_image_only(tmp_path):
    (tmp_path / 'imgs').mkdir()
    cv2.imwrite(str(tmp_path / 'imgs' / 'small.png'), np.full((300, 400, 3), 50, np.uint8))
    cv2.imwrite(str(tmp_path / 'imgs' / 'wide.jpg'), np.full((300, 700, 3), 60, np.uint8))
    st = split_dataset([str(tmp_path / 'imgs')], str(tmp_path / 'out'), None, SplitConfig(sizes=[512], gaps=[200]),
                       progress=False, logger=None)
    assert not osp.exists(tmp_path / 'out' / 'annfiles')
    names = sorted(os.listdir(tmp_path / 'out' / 'images'))
    assert names == ['small__512__0___0.png', 'wide__512__0___0.png', 'wide__512__188___0.png']
    assert st.patches == 3 and st.objects_in == 0
    p = cv2.imread(str(tmp_path / 'out' / 'images' / 'small__512__0___0.png'))
    assert p.shape == (512, 512, 3) and (p[:300, :400] == 50).all()
    assert (p[300:, :] == (104, 116, 124)).all() and (p[:, 400:] == (104, 116, 124)).all()
    split_dataset([str(tmp_path / 'imgs')], str(tmp_path / 'nopad'), None,
                  SplitConfig(sizes=[512], gaps=[200], no_padding=True), progress=False, logger=None)
    assert cv2.imread(str(tmp_path / 'nopad' / 'images' / 'small__512__0___0.png')).shape == (300, 400, 3)


def test_multiscale_rates(scenes, tmp_path):
    cfg = SplitConfig(sizes=[256], gaps=[100], rates=[0.5, 1.0])
    st = split_dataset([str(scenes / 'images')], str(tmp_path / 'ms'), [str(scenes / 'labelTxt')], cfg,
                       progress=False, logger=None)
    sizes = {n.split('__')[1] for n in os.listdir(tmp_path / 'ms' / 'images')}
    assert sizes == {'512', '256'}  # mmrotate: windows 256 / rate, cut from the unscaled image
    big = [n for n in os.listdir(tmp_path / 'ms' / 'images') if '__512__' in n][0]
    assert cv2.imread(str(tmp_path / 'ms' / 'images' / big)).shape[:2] == (512, 512)
    assert st.lost == 0
    # DOTA_devkit style: the image is resized by the rate, names carry the rate
    cfg = SplitConfig(sizes=[256], gaps=[100], rates=[0.5], rescale=True)
    split_dataset([str(scenes / 'images')], str(tmp_path / 'rs'), [str(scenes / 'labelTxt')], cfg,
                  progress=False, logger=None)
    names = sorted(n[:-4] for n in os.listdir(tmp_path / 'rs' / 'annfiles'))
    assert all(n.split('__')[1] == '0.5' for n in names)
    checked = 0
    for n in names:
        img_id, x, y, rate = parse_patch_name(n)
        assert cv2.imread(str(tmp_path / 'rs' / 'images' / f'{n}.png')).shape[:2] == (256, 256)
        src = parse_dota_txt(str(scenes / 'labelTxt' / f'{img_id}.txt'))
        for q in parse_dota_txt(str(tmp_path / 'rs' / 'annfiles' / f'{n}.txt')).polys:
            full = (q + np.array([x, y] * 4)) / rate  # the parse rule of the evaluation merge
            assert np.abs(src.polys - full).max(1).min() < 1e-4
            checked += 1
    assert checked > 0


def _load_cli():
    spec = importlib.util.spec_from_file_location(
        'img_split_cli', osp.join(REPO, 'tools', 'data', 'dota', 'split', 'img_split.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_base_json_and_overrides(scenes, tmp_path):
    cli = _load_cli()
    base = json.load(open(osp.join(REPO, 'tools/data/dota/split/split_configs/ss_train.json')))
    assert base['sizes'] == [1024] and base['gaps'] == [200] and base['padding_value'] == [104, 116, 124]
    ms = json.load(open(osp.join(REPO, 'tools/data/dota/split/split_configs/ms_trainval.json')))
    assert ms['rates'] == [0.5, 1.0, 1.5] and ms['gaps'] == [500] and len(ms['img_dirs']) == 2
    assert json.load(open(osp.join(REPO, 'tools/data/dota/split/split_configs/ss_test.json')))['ann_dirs'] is None
    cfg = dict(base, img_dirs=[str(scenes / 'images')], ann_dirs=[str(scenes / 'labelTxt')],
               save_dir=str(tmp_path / 'cli'), nproc=2)
    (tmp_path / 'c.json').write_text(json.dumps(cfg))
    args = cli.parse_args(['--base-json', str(tmp_path / 'c.json'), '--sizes', '512', '--no-progress'])
    assert args.sizes == [512] and args.gaps == [200] and args.nproc == 2
    stats = cli.main(['--base-json', str(tmp_path / 'c.json'), '--sizes', '512', '--no-progress'])
    assert stats.lost == 0 and stats.images == 3
    ref = split_dataset([str(scenes / 'images')], str(tmp_path / 'ref'), [str(scenes / 'labelTxt')],
                        SplitConfig(sizes=[512], gaps=[200]), nproc=1, progress=False, logger=None)
    assert sorted(os.listdir(tmp_path / 'cli' / 'annfiles')) == sorted(os.listdir(tmp_path / 'ref' / 'annfiles'))
    assert stats.objects_out == ref.objects_out
    (tmp_path / 'bad.json').write_text(json.dumps(dict(img_dir=['x'])))
    with pytest.raises(SystemExit):
        cli.parse_args(['--base-json', str(tmp_path / 'bad.json')])
