"""Registries of rotated_ld: children of MMEngine's roots under the scope ``rotated_ld``.

Configs set ``default_scope = 'rotated_ld'``; the Runner then imports this module and each
registry imports the modules named in ``locations`` on first use, so neither tools nor tests
need ``register_all_modules()`` (it exists for scripts that build from registries directly).
"""
from mmengine import registry as _root
from mmengine.registry import Registry

SCOPE = 'rotated_ld'


def _child(parent: Registry, locations: tuple[str, ...] = ()) -> Registry:
    return Registry(parent.name, parent=parent, scope=SCOPE, locations=list(locations))


RUNNERS = _child(_root.RUNNERS)
RUNNER_CONSTRUCTORS = _child(_root.RUNNER_CONSTRUCTORS)
LOOPS = _child(_root.LOOPS, ('rotated_ld.engine',))
HOOKS = _child(_root.HOOKS, ('rotated_ld.engine', 'rotated_ld.visualization'))
STRATEGIES = _child(_root.STRATEGIES)
DATASETS = _child(_root.DATASETS, ('rotated_ld.datasets',))
DATA_SAMPLERS = _child(_root.DATA_SAMPLERS, ('rotated_ld.datasets',))
TRANSFORMS = _child(_root.TRANSFORMS, ('rotated_ld.datasets.transforms',))
MODELS = _child(_root.MODELS, ('rotated_ld.models',))
MODEL_WRAPPERS = _child(_root.MODEL_WRAPPERS, ('rotated_ld.engine',))
WEIGHT_INITIALIZERS = _child(_root.WEIGHT_INITIALIZERS)
OPTIMIZERS = _child(_root.OPTIMIZERS, ('rotated_ld.engine',))
OPTIM_WRAPPERS = _child(_root.OPTIM_WRAPPERS, ('rotated_ld.engine',))
OPTIM_WRAPPER_CONSTRUCTORS = _child(_root.OPTIM_WRAPPER_CONSTRUCTORS, ('rotated_ld.engine',))
PARAM_SCHEDULERS = _child(_root.PARAM_SCHEDULERS, ('rotated_ld.engine',))
METRICS = _child(_root.METRICS, ('rotated_ld.evaluation',))
EVALUATOR = _child(_root.EVALUATOR, ('rotated_ld.evaluation',))
TASK_UTILS = _child(_root.TASK_UTILS, ('rotated_ld.models',))
VISUALIZERS = _child(_root.VISUALIZERS, ('rotated_ld.visualization',))
VISBACKENDS = _child(_root.VISBACKENDS, ('rotated_ld.visualization',))
LOG_PROCESSORS = _child(_root.LOG_PROCESSORS, ('rotated_ld.engine',))
INFERENCERS = _child(_root.INFERENCERS, ('rotated_ld.apis',))
FUNCTIONS = _child(_root.FUNCTIONS, ('rotated_ld.datasets',))


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every module that registers something, and optionally set the default scope.

    Only needed by scripts that call ``MODELS.build`` etc. without a Runner and without a
    ``DefaultScope``; configs with ``default_scope='rotated_ld'`` never need it.
    """
    import importlib

    for name in ('rotated_ld.datasets', 'rotated_ld.datasets.transforms', 'rotated_ld.models',
                 'rotated_ld.evaluation', 'rotated_ld.engine', 'rotated_ld.visualization'):
        importlib.import_module(name)
    if init_default_scope:
        from mmengine.registry import DefaultScope

        if DefaultScope.get_current_instance() is None or \
                DefaultScope.get_current_instance().scope_name != SCOPE:
            DefaultScope.get_instance(f'{SCOPE}-{id(register_all_modules)}', scope_name=SCOPE)
