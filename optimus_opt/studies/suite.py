"""Suites: named sets of instances for studies to run (``instances/suites/*.json``).

A suite file (``"format": "optimus-opt/suite@1"``) lists instance files, or a matrix of networks × accelerators ×
batch sizes (optionally × buffer capacities), or both; the listed instances come first::

    {"format": "optimus-opt/suite@1", "name": "smoke",
     "instances": ["../example-64k.json", "../paper/squeezenet1_0-optimus-npu-b4.json"],
     "networks": ["squeezenet1_1"], "accelerators": ["optimus-npu"], "batches": [4], "buffers": ["64KiB"]}

- ``instances``: paths of instance files, relative to the suite file.
- ``networks``: zoo names (built at their default resolution) or paths of network files (relative to the suite).
- ``accelerators``: preset names (``optimus-opt accelerators``) or paths of accelerator files.
- ``batches``: positive batch sizes.
- ``buffers`` (optional): buffer capacities (``131072``, ``"64KiB"``, ``"1MiB"``) that replace each accelerator's.

``networks``, ``accelerators`` and ``batches`` go together. The matrix runs networks, then accelerators, then
buffers, then batches, outermost first; its instances are named ``<network>-<accelerator>[-<buffer>]-b<batch>``,
with ``-tiles`` (and the halo mode where it is fixed) before ``-b<batch>`` for an accelerator file that says
``"tiling": "tiles"`` (:func:`optimus_opt.io.resolve.network_instance`). The suites the repository ships (``instances/suites/``) are found by
name (:func:`bundled_suite`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from .. import zoo
from ..io.resolve import network_instance
from ..model.accelerator import Accelerator, parse_size
from ..model.errors import InstanceError
from ..model.instance import Instance, load_instance, load_network, parse_text, read_text
from ..model.network import Network
from ..model.presets import looks_like_path, preset_names, resolve_accelerator

SUITE_FORMAT = "optimus-opt/suite@1"
_KEYS = ("format", "name", "description", "instances", "networks", "accelerators", "batches", "buffers")


#: Where the repository keeps its suites (found in a source checkout or an editable install).
SUITES_DIR = Path(__file__).resolve().parents[2] / "instances" / "suites"


def bundled_suite(name: str) -> Path | None:
    """The file of a suite the repository ships (``paper``, ``all``, ``smoke``), if there is one."""
    path = SUITES_DIR / f"{name}.json"
    return path if path.is_file() else None


def bundled_suite_names() -> list[str]:
    """The names of the suites the repository ships (none outside a checkout)."""
    return sorted(p.stem for p in SUITES_DIR.glob("*.json")) if SUITES_DIR.is_dir() else []


@dataclass(frozen=True)
class Suite:
    """A set of instances: listed instance files, then a matrix of networks × accelerators × buffers × batches.

    Paths are stored resolved against the suite file; networks and accelerators stay as written (zoo or preset
    names, or paths) and are built or read by :meth:`instances`.
    """

    name: str
    file: Path | None = None
    description: str = ""
    instance_files: tuple[Path, ...] = ()
    networks: tuple[str, ...] = ()
    accelerators: tuple[str, ...] = ()
    batches: tuple[int, ...] = ()
    buffers: tuple[int, ...] = ()

    @property
    def _base(self) -> Path:
        return self.file.parent if self.file is not None else Path(".")

    def __len__(self) -> int:
        return len(self.instance_files) + len(self.networks) * len(self.accelerators) * \
            max(1, len(self.buffers)) * len(self.batches)

    def instances(self) -> Iterator[Instance]:
        """Every instance of the suite, in order, loaded or built on demand.

        Raises
        ------
        InstanceError
            A listed file that fails to load (the message names that file), or a network or accelerator file of
            the matrix that does.
        """
        for path in self.instance_files:
            yield load_instance(path)
        if not self.networks:
            return
        accelerators = [(spec, self._accelerator(spec)) for spec in self.accelerators]
        for net_spec in self.networks:
            network = self._network(net_spec)
            for _, acc in accelerators:
                for buffer in self.buffers or (None,):
                    for batch in self.batches:
                        yield network_instance(network, acc, batch, buffer=buffer)

    def _network(self, spec: str) -> Network:
        if spec in zoo.names() and not (self._base / spec).is_file():
            return zoo.build(spec)
        return load_network(self._base / spec)

    def _accelerator(self, spec: str) -> Accelerator:
        return resolve_accelerator(spec, self._base)


def load_suite(path: str | Path) -> Suite:
    """Read a suite file (JSON, or YAML for ``.yaml``/``.yml``) and check every field.

    Raises
    ------
    InstanceError
        Naming the file and the field: a wrong format string, an unknown key, a listed instance file that does not
        exist, an unknown zoo network or preset, a bad batch or buffer size, an incomplete matrix.
    """
    path = Path(path)
    where = str(path)
    doc = parse_text(read_text(where, "suite"), where, "suite")  # one-line errors for unreadable or bad files
    return suite_from_dict(doc, file=path)


def suite_from_dict(doc: Any, *, file: str | Path | None = None) -> Suite:
    """Build a :class:`Suite` from a suite document; relative paths are relative to ``file``."""
    where = str(file) if file is not None else None
    base = Path(file).parent if file is not None else Path(".")

    def fail(message: str, key: str) -> InstanceError:
        return InstanceError(message, file=where, field=key)

    if not isinstance(doc, Mapping):
        raise InstanceError("a suite document must be an object", file=where)
    if doc.get("format") != SUITE_FORMAT:
        raise fail(f"expected \"{SUITE_FORMAT}\", got {doc.get('format')!r}", "format")
    for key in doc:
        if key not in _KEYS:
            raise fail(f"unknown field for a suite document (allowed: {', '.join(sorted(_KEYS))})", str(key))
    for key in ("name", "description"):
        if key in doc and not isinstance(doc[key], str):
            raise fail(f"expected a string, got {doc[key]!r}", key)

    def strings(key: str) -> list[str]:
        value = doc.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise fail(f"expected a list of non-empty strings, got {value!r}", key)
        return value

    instance_files = []
    for i, rel in enumerate(strings("instances")):
        p = base / rel
        if not p.is_file():
            raise fail(f"instance file not found: {p}", f"instances[{i}]")
        instance_files.append(p)

    networks = strings("networks")
    known_nets = zoo.names()
    for i, spec in enumerate(networks):
        if (base / spec).is_file():
            continue
        if looks_like_path(spec):
            raise fail(f"network file not found: {base / spec}", f"networks[{i}]")
        if spec not in known_nets:
            raise fail(f"unknown zoo network '{spec}' (known: {', '.join(known_nets)})", f"networks[{i}]")

    accelerators = strings("accelerators")
    for i, spec in enumerate(accelerators):
        if (base / spec).is_file():
            continue
        if looks_like_path(spec):
            raise fail(f"accelerator file not found: {base / spec}", f"accelerators[{i}]")
        if spec not in preset_names():
            raise fail(f"unknown accelerator preset '{spec}' (known: {', '.join(preset_names())})",
                       f"accelerators[{i}]")

    batches = doc.get("batches", [])
    if not isinstance(batches, list):
        raise fail(f"expected a list of positive integers, got {batches!r}", "batches")
    for i, b in enumerate(batches):
        if isinstance(b, bool) or not isinstance(b, int) or b < 1:
            raise fail(f"must be a positive integer, got {b!r}", f"batches[{i}]")

    raw_buffers = doc.get("buffers", [])
    if not isinstance(raw_buffers, list):
        raise fail(f"expected a list of sizes, got {raw_buffers!r}", "buffers")
    buffers = []
    for i, b in enumerate(raw_buffers):
        try:
            if isinstance(b, bool) or not isinstance(b, (int, str)):
                raise ValueError(f"not a byte size: {b!r}")
            buffers.append(parse_size(str(b)))
        except ValueError as err:
            raise fail(str(err), f"buffers[{i}]") from None

    matrix = {"networks": networks, "accelerators": accelerators, "batches": batches}
    given = [k for k in ("networks", "accelerators", "batches", "buffers") if k in doc]
    if given:
        for key, value in matrix.items():
            if not value:
                raise fail(f"a matrix needs non-empty networks, accelerators and batches (given: {', '.join(given)})",
                           key)
    if not instance_files and not networks:
        raise fail("a suite lists instance files, or a matrix of networks, accelerators and batches", "instances")

    name = doc.get("name") or (Path(file).stem if file is not None else "suite")
    return Suite(name=name, file=Path(file) if file is not None else None, description=doc.get("description", ""),
                 instance_files=tuple(instance_files), networks=tuple(networks), accelerators=tuple(accelerators),
                 batches=tuple(batches), buffers=tuple(buffers))


__all__ = ["SUITES_DIR", "SUITE_FORMAT", "Suite", "bundled_suite", "bundled_suite_names", "load_suite",
           "suite_from_dict"]
