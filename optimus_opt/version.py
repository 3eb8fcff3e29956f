"""The version of optimus-opt, in its one place (``pyproject.toml`` reads it from here), in a module that imports
nothing, so that any module may read it without importing the package's face (:mod:`optimus_opt`), which imports
almost everything."""

__version__ = "0.1.0"
