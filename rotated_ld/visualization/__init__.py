"""Visualization: :class:`DetLocalVisualizer` (hboxes, rboxes, polygons with class names and
scores, OpenCV rendering) and :class:`DetVisualizationHook` (``tools/test.py --show-dir``)."""
from .local_visualizer import DetLocalVisualizer, auto_line_width, get_palette, rboxes_to_polys, save_rgb
from .vis_hook import DetVisualizationHook

__all__ = ['DetLocalVisualizer', 'DetVisualizationHook', 'get_palette', 'rboxes_to_polys', 'auto_line_width',
           'save_rgb']
