"""Annotation converters into DOTA labelTxt (roLabelImg, labelme, YOLO-OBB) and DOTA -> YOLO-OBB.

Library side of ``tools/dataset_converters/*.py``. Each ``convert_*`` reads a folder, writes one
file per image and returns a :class:`ConversionReport` (files and objects in / out, skipped
objects per reason with ``file[:line]`` examples, objects changed on the way).
"""
from .common import ConversionReport, DOTAObject, load_names, min_area_rect_poly, read_image_size
from .labelme import convert_labelme, read_labelme_json
from .rolabelimg import convert_rolabelimg, read_rolabelimg_xml, robndbox_to_poly
from .yolo_obb import convert_dota_to_yolo_obb, convert_yolo_obb_to_dota, dota_class_names, read_yolo_obb_txt

__all__ = ['ConversionReport', 'DOTAObject', 'load_names', 'min_area_rect_poly', 'read_image_size',
           'convert_labelme', 'read_labelme_json', 'convert_rolabelimg', 'read_rolabelimg_xml',
           'robndbox_to_poly', 'convert_yolo_obb_to_dota', 'convert_dota_to_yolo_obb', 'dota_class_names',
           'read_yolo_obb_txt']
