"""Datasets (DOTA / COCO / VOC), DOTA patch names, the image split and synthetic data."""
from .dota import DOTA_CLASSES, DOTA_PALETTE, DOTA_V1_0, DOTA_V1_5, DOTA_V2_0
from .dota_patch_name import format_patch_name, parse_patch_name

__all__ = ['DOTA_V1_0', 'DOTA_V1_5', 'DOTA_V2_0', 'DOTA_CLASSES', 'DOTA_PALETTE',
           'format_patch_name', 'parse_patch_name']
