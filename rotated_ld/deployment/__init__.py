"""Deployment: ONNX export of the dense outputs (:mod:`.export`) and model-free decoding +
NMS of those outputs (:mod:`.postprocess`). See ``docs/deployment.md``."""
from .postprocess import load_deploy_meta, postprocess

__all__ = ['load_deploy_meta', 'postprocess']
