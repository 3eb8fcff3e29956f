"""The version of optimus-opt (the same as ``pyproject.toml``'s), in a module that imports nothing, so that any
module may read it without importing the package's face (:mod:`optimus_opt`), which imports almost everything."""

__version__ = "0.1.0"
