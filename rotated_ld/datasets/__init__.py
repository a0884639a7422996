"""Datasets (DOTA / COCO / VOC), DOTA patch names and labelTxt I/O, image split, synthetic data.

Names load lazily (PEP 562): the label I/O, patch names, split and converters import no torch;
the dataset classes (MMEngine ``BaseDataset``, which imports torch) load on first access. They
register in ``rotated_ld.registry.DATASETS`` when imported, which the registry does itself
(its ``locations``) when a config builds a dataset.
"""
from .._lazy import lazy_exports

_EXPORTS = {
    **dict.fromkeys(('COCO_CLASSES', 'CocoDataset'), '.coco'),
    **dict.fromkeys(('DOTA_V1_0', 'DOTA_V1_5', 'DOTA_V2_0', 'DOTA_CLASSES', 'DOTA_PALETTE', 'make_palette'),
                    '.dota_classes'),
    'DOTADataset': '.dota',
    **dict.fromkeys(('format_patch_name', 'parse_patch_name'), '.dota_patch_name'),
    **dict.fromkeys(('DOTAFormatError', 'parse_dota_txt'), '.dota_txt'),
    **dict.fromkeys(('VOC_CLASSES', 'VOCDataset'), '.voc'),
}
__all__ = ['DOTA_V1_0', 'DOTA_V1_5', 'DOTA_V2_0', 'DOTA_CLASSES', 'DOTA_PALETTE', 'make_palette',
           'DOTADataset', 'CocoDataset', 'VOCDataset', 'COCO_CLASSES', 'VOC_CLASSES',
           'format_patch_name', 'parse_patch_name', 'DOTAFormatError', 'parse_dota_txt']
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
