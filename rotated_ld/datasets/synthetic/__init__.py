"""Synthetic data: large DOTA-format aerial scenes and small horizontal-box sets (COCO / VOC)."""
from .aerial import CLASS_SPECS, Scene, SceneObject, make_dota_scenes, make_scene, write_dota_scene
from .hbox import HBOX_CLASSES, make_hbox_image, write_coco_set, write_voc_set

__all__ = ['CLASS_SPECS', 'Scene', 'SceneObject', 'make_scene', 'make_dota_scenes', 'write_dota_scene',
           'HBOX_CLASSES', 'make_hbox_image', 'write_coco_set', 'write_voc_set']
