"""Registries of rotated_ld: children of MMEngine's roots under the scope ``rotated_ld``.

Configs set ``default_scope = 'rotated_ld'``; the Runner then imports this module and each
registry imports the modules named in ``locations`` on first use, so neither tools nor tests
need ``register_all_modules()`` (it exists for scripts that build from registries directly).

Importing this module also installs the safe checkpoint loader (``weights_only`` torch.load for
MMEngine's local scheme), the ``torchvision://`` / ``open-mmlab://`` / URL schemes that read torch's
hub cache (never download), and the atomic local file backend (checkpoints written temp + rename):
MMEngine imports ``rotated_ld.registry`` as soon as a config's ``default_scope`` is resolved, so every
Runner built from our configs gets both, while ``import rotated_ld`` stays torch-free.
"""
import importlib

from mmengine import registry as _root
from mmengine.registry import DefaultScope, Registry

SCOPE = 'rotated_ld'


def _child(parent: Registry, locations: tuple[str, ...] = ()) -> Registry:
    return Registry(parent.name, parent=parent, scope=SCOPE, locations=list(locations))


RUNNERS = _child(_root.RUNNERS)
RUNNER_CONSTRUCTORS = _child(_root.RUNNER_CONSTRUCTORS)
LOOPS = _child(_root.LOOPS, ('rotated_ld.engine',))
HOOKS = _child(_root.HOOKS, ('rotated_ld.engine', 'rotated_ld.visualization'))
STRATEGIES = _child(_root.STRATEGIES)
# the modules that register, not the lazy package ``__init__`` files (which import nothing)
_DATASET_MODULES = ('rotated_ld.datasets.dota', 'rotated_ld.datasets.coco', 'rotated_ld.datasets.voc')
DATASETS = _child(_root.DATASETS, _DATASET_MODULES)
DATA_SAMPLERS = _child(_root.DATA_SAMPLERS, _DATASET_MODULES)
TRANSFORMS = _child(_root.TRANSFORMS, ('rotated_ld.datasets.transforms',))
MODELS = _child(_root.MODELS, ('rotated_ld.models',))
MODEL_WRAPPERS = _child(_root.MODEL_WRAPPERS, ('rotated_ld.engine',))
WEIGHT_INITIALIZERS = _child(_root.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(_root.OPTIMIZERS, ('rotated_ld.engine',))
OPTIM_WRAPPERS = _child(_root.OPTIM_WRAPPERS, ('rotated_ld.engine',))
OPTIM_WRAPPER_CONSTRUCTORS = _child(_root.OPTIM_WRAPPER_CONSTRUCTORS, ('rotated_ld.engine',))
PARAM_SCHEDULERS = _child(_root.PARAM_SCHEDULERS, ('rotated_ld.engine',))
METRICS = _child(_root.METRICS, ('rotated_ld.evaluation.metrics',))
EVALUATOR = _child(_root.EVALUATOR, ('rotated_ld.evaluation.metrics',))
TASK_UTILS = _child(_root.TASK_UTILS, ('rotated_ld.models',))
VISUALIZERS = _child(_root.VISUALIZERS, ('rotated_ld.visualization',))
VISBACKENDS = _child(_root.VISBACKENDS, ('rotated_ld.visualization',))
LOG_PROCESSORS = _child(_root.LOG_PROCESSORS, ('rotated_ld.engine',))
INFERENCERS = _child(_root.INFERENCERS, ('rotated_ld.apis',))
FUNCTIONS = _child(_root.FUNCTIONS, _DATASET_MODULES)


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every module that registers something, and optionally set the default scope.

    Only needed by scripts that call ``MODELS.build`` etc. without a Runner and without a
    ``DefaultScope``; configs with ``default_scope='rotated_ld'`` never need it.
    """
    for name in (*_DATASET_MODULES, 'rotated_ld.datasets.transforms', 'rotated_ld.models',
                 'rotated_ld.evaluation.metrics', 'rotated_ld.engine', 'rotated_ld.visualization'):
        importlib.import_module(name)
    if init_default_scope:
        if DefaultScope.get_current_instance() is None or \
                DefaultScope.get_current_instance().scope_name != SCOPE:
            DefaultScope.get_instance(f'{SCOPE}-{id(register_all_modules)}', scope_name=SCOPE)


# Side effects every Runner of the scope needs (see the module docstring). Last, because both
# import registering modules that read the registries above.
from .engine import atomic_save as _atomic_save  # noqa: E402,F401
from .utils import checkpoint as _checkpoint  # noqa: E402,F401
from .utils import pretrained as _pretrained  # noqa: E402,F401  (hub names from the cache, never downloaded)
