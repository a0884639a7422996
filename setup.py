"""Install rotated_ld: ``pip install -e .`` (add ``[tests]`` for the test tools)."""
import os.path as osp
import re

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name: str) -> list[str]:
    with open(osp.join(HERE, 'requirements', name)) as f:
        lines = (ln.split('#')[0].strip() for ln in f)
        return [ln for ln in lines if ln and not ln.startswith('-r')]


def read_version() -> str:
    with open(osp.join(HERE, 'rotated_ld', 'version.py')) as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


setup(
    name='rotated_ld',
    version=read_version(),
    description='Localization Distillation for horizontal and rotated (DOTA) dense detectors on MMEngine',
    long_description=open(osp.join(HERE, 'README.md')).read() if osp.exists(osp.join(HERE, 'README.md')) else '',
    long_description_content_type='text/markdown',
    python_requires='>=3.9',
    packages=find_packages(include=['rotated_ld', 'rotated_ld.*']),
    install_requires=read_requirements('runtime.txt'),
    # the tests cover the ONNX export too, so they need the deploy extra
    extras_require={'deploy': read_requirements('deploy.txt'),
                    'tests': read_requirements('tests.txt') + read_requirements('deploy.txt')},
    license='Apache-2.0',
)
