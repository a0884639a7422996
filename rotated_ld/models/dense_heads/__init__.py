"""Dense heads (other helpers append their imports below)."""
from .atss_fcos_gfl_heads import ATSSGFLHead, FCOSGFLHead, LDATSSHead, LDFCOSHead  # noqa: F401
from .base_dense_head import BaseDenseHead  # noqa: F401
from .dgqp import DGQP  # noqa: F401
from .gfl_head import FlatGFLOutputs, GFLHead, Targets  # noqa: F401
from .gflv2_head import GFLv2Head, LDGFLv2Head  # noqa: F401
from .ld_head import LDHead  # noqa: F401
from .ld_retina_head import LDRetinaHead  # noqa: F401
from .retina_gfl_head import RetinaGFLHead  # noqa: F401
from .rotated_gfl_head import RotatedGFLHead  # noqa: F401
from .rotated_ld_head import RotatedLDHead  # noqa: F401
from .rotated_ld_retina_head import RotatedLDRetinaHead  # noqa: F401
from .rotated_retina_head import RotatedRetinaHead  # noqa: F401
