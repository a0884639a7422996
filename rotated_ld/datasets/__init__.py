"""Datasets (DOTA / COCO / VOC), DOTA patch names and labelTxt I/O, image split, synthetic data.

Importing this package registers the datasets in ``rotated_ld.registry.DATASETS``.
"""
from .coco import COCO_CLASSES, CocoDataset
from .dota import DOTA_CLASSES, DOTA_PALETTE, DOTA_V1_0, DOTA_V1_5, DOTA_V2_0, DOTADataset, make_palette
from .dota_patch_name import format_patch_name, parse_patch_name
from .dota_txt import DOTAFormatError, parse_dota_txt
from .voc import VOC_CLASSES, VOCDataset

__all__ = ['DOTA_V1_0', 'DOTA_V1_5', 'DOTA_V2_0', 'DOTA_CLASSES', 'DOTA_PALETTE', 'make_palette',
           'DOTADataset', 'CocoDataset', 'VOCDataset', 'COCO_CLASSES', 'VOC_CLASSES',
           'format_patch_name', 'parse_patch_name', 'DOTAFormatError', 'parse_dota_txt']
