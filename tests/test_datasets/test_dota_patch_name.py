"""DOTA patch names: mmrotate (size token) and DOTA_devkit (rate token) flavours round-trip."""
import pytest

from rotated_ld.datasets.dota_patch_name import (
    format_patch_name,
    is_patch_name,
    parse_patch_name,
    patch_to_image_coords,
)


def test_mmrotate_names():
    assert format_patch_name('P0000', 0, 824, size=1024) == 'P0000__1024__0___824'
    assert parse_patch_name('P0000__1024__0___824') == ('P0000', 0, 824, 1.0)
    assert parse_patch_name('P0000__2048__976___0.png') == ('P0000', 976, 0, 1.0)


def test_rate_names():
    assert format_patch_name('P0000', 0, 824, size=1024, rate=0.5) == 'P0000__0.5__0___824'
    assert format_patch_name('P0003', 12, 3, rate=1.5) == 'P0003__1.5__12___3'
    assert parse_patch_name('P0000__0.5__0___824') == ('P0000', 0, 824, 0.5)
    assert parse_patch_name('P0000__1.0__4___8') == ('P0000', 4, 8, 1.0)


def test_image_id_with_underscores_and_coords():
    name = format_patch_name('my__scene_1', 100, 200, size=512)
    assert parse_patch_name(name) == ('my__scene_1', 100, 200, 1.0)
    x, y = patch_to_image_coords(10.0, 20.0, 'a__0.5__100___200')
    assert (x, y) == (220.0, 440.0)


@pytest.mark.parametrize('bad', ['P0000', 'P0000__1024__0', 'P0000__abc__0___0', '__1024__0___0'])
def test_bad_names(bad):
    assert not is_patch_name(bad)
    with pytest.raises(ValueError, match='not a DOTA patch name'):
        parse_patch_name(bad)


def test_rate_one_needs_size():
    with pytest.raises(ValueError, match='size is required'):
        format_patch_name('P0', 0, 0)
