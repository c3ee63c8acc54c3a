"""Only what pyproject.toml can't say: ship the top-level resources/ folder inside the package.

The wheel installs resources/ as designer/_resources/, where designer.resources finds it.
Everything else (metadata, dependencies, scripts) is in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["designer*"]), "designer._resources"],
    package_dir={"designer._resources": "resources"},
)
