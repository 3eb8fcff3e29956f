"""Optional packages (the ``plot``, ``onnx`` and ``dask`` extras): whether they can be imported, and the one-line
message that says what is missing and how to install it, given *before* the work that needs it starts.

optimus-opt is installed from a clone (it is not on a package registry), so the command to add an extra is
``pip install -e '.[plot]'`` run in the clone; installing the package itself (``pip install matplotlib``) works as
well and is named too.
"""

from __future__ import annotations

import importlib

from ..model.errors import OptimusError

#: extra → (the module to import, the distribution pip installs).
EXTRAS: dict[str, tuple[str, str]] = {
    "plot": ("matplotlib", "matplotlib"),
    "onnx": ("onnx", "onnx"),
    "dask": ("distributed", "distributed"),
}


def available(extra: str) -> bool:
    """Whether the module of ``extra`` imports. It is really imported (once; Python caches it), so that a module
    that is installed but broken, or hidden by an import hook, counts as missing, as it would when the work ran."""
    module = EXTRAS[extra][0]
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    except Exception:  # noqa: BLE001 - a package that fails while importing is as good as missing here
        return False
    return True


def install_hint(extra: str) -> str:
    """``pip install -e '.[plot]'`` (in the clone of optimus-opt) or ``pip install matplotlib``."""
    return f"pip install -e '.[{extra}]' in the optimus-opt clone, or pip install {EXTRAS[extra][1]}"


def missing_message(extra: str, needs: str) -> str:
    """``needs`` says who needs the extra, with its verb (``"plots need"``, ``"--plot needs"``): ``"plots need
    matplotlib, which is not installed: pip install -e '.[plot]' ..."``."""
    return f"{needs} {EXTRAS[extra][0]}, which is not installed: {install_hint(extra)}"


def require(extra: str, needs: str) -> None:
    """Raise an :class:`~optimus_opt.model.errors.OptimusError` saying what is missing and how to install it, unless the
    extra's module imports (``needs`` as for :func:`missing_message`)."""
    if not available(extra):
        raise OptimusError(missing_message(extra, needs))


__all__ = ["EXTRAS", "available", "install_hint", "missing_message", "require"]
