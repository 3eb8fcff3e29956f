"""Instances: a network, an accelerator and a batch size, read from and written to JSON or YAML (formulations/formats.md).

Loading validates against the JSON Schema shipped in ``optimus_opt/schemas/instance.schema.json`` and then the
semantic rules of the network (shapes, cycles, names). Every failure is an :class:`InstanceError` naming the file,
the layer and the field.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from .accelerator import Accelerator
from .errors import InstanceError
from .limits import check_network, check_sizes
from .network import OP_FIELDS, Network

INSTANCE_FORMAT = "optimus-opt/instance@1"
NETWORK_FORMAT = "optimus-opt/network@1"
ACCELERATOR_FORMAT = "optimus-opt/accelerator@1"


@dataclass(frozen=True)
class Instance:
    """What a solver is given: a network, an accelerator and the batch size N."""

    network: Network
    accelerator: Accelerator
    batch: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.batch, bool) or not isinstance(self.batch, int) or self.batch < 1:
            raise InstanceError(f"must be a positive integer, got {self.batch!r}", field="batch")
        acc = self.accelerator  # sizes the cost model's int64 vectors can hold (optimus_opt/model/limits.py)
        check_sizes(self.network, word_bytes=acc.word_bytes, buffer_bytes=acc.buffer_bytes, batch=self.batch)
        if not self.name:
            object.__setattr__(self, "name", f"{self.network.name}-{self.accelerator.buffer_bytes}B-n{self.batch}")

    def with_overrides(self, *, buffer_bytes: int | None = None, batch: int | None = None,
                       tiling: str | None = None, halo: str | None = None) -> "Instance":
        """A copy with another buffer capacity, batch size, tiling model or halo mode (the CLI's ``--buffer``,
        ``--batch``, ``--tiling`` and ``--halo``). ``tiling="strips"`` without a ``halo`` also sets the halo back
        to ``choose`` (strips have none to choose); an invalid combination is the accelerator's
        :class:`InstanceError` (field ``accelerator.tiling`` or ``accelerator.halo``)."""
        inst = self
        acc = inst.accelerator.with_overrides(buffer_bytes=buffer_bytes, tiling=tiling, halo=halo)
        if acc is not inst.accelerator:
            inst = dataclasses.replace(inst, accelerator=acc)
        if batch is not None:
            inst = dataclasses.replace(inst, batch=batch)
        return inst

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, file: str | Path | None = None) -> "Instance":
        """Build from an instance document; ``network``/``accelerator`` paths are relative to ``file``."""
        where = str(file) if file is not None else None
        _validate(doc, "instance", where)
        base = Path(file).parent if file is not None else Path(".")
        net_doc, net_file = doc["network"], where
        if isinstance(net_doc, str):
            net_file = str(base / net_doc)
            net_doc = read_document(net_file, "network", referenced_by=where)
            _validate(net_doc, "network", net_file)
        acc_doc, acc_file = doc["accelerator"], where
        if isinstance(acc_doc, str):
            acc_file = str(base / acc_doc)
            acc_doc = read_document(acc_file, "accelerator", referenced_by=where)
            _validate(acc_doc, "accelerator", acc_file)
        try:
            network = Network.from_dict(net_doc)
        except InstanceError as err:
            raise err.in_file(net_file) from None
        try:
            accelerator = Accelerator.from_dict(acc_doc)
        except InstanceError as err:
            raise err.in_file(acc_file) from None
        try:
            return cls(network=network, accelerator=accelerator, batch=doc.get("batch", 1),
                       name=doc.get("name", ""))
        except InstanceError as err:  # a size limit of a layer is the network file's, of the buffer the accelerator's
            blame = net_file if err.layer is not None else \
                acc_file if (err.field or "").startswith("accelerator.") else where
            raise err.in_file(blame) from None

    def to_dict(self) -> dict[str, Any]:
        """The instance document with network and accelerator inline."""
        return {"format": INSTANCE_FORMAT, "name": self.name, "batch": self.batch,
                "accelerator": self.accelerator.to_dict(), "network": self.network.to_dict()}


def load_instance(path: str | Path) -> Instance:
    """Read an instance file (JSON, or YAML for ``.yaml``/``.yml``).

    Raises
    ------
    InstanceError
        Missing or unreadable file, malformed JSON/YAML, a schema violation or a network error; the message names
        the file, the layer and the field.

    Examples
    --------
    >>> inst = load_instance("instances/example-64k.json")
    >>> inst.accelerator.buffer_bytes
    65536
    """
    doc = read_document(str(path), "instance")
    return Instance.from_dict(doc, file=str(path))


def load_network(path: str | Path) -> Network:
    """Read a network file (``"format": "optimus-opt/network@1"``)."""
    doc = read_document(str(path), "network")
    _validate(doc, "network", str(path))
    try:
        network = Network.from_dict(doc)
        check_network(network)  # heights and element counts the cost model takes, whatever the batch
    except InstanceError as err:
        raise err.in_file(str(path)) from None
    return network


def load_accelerator(path: str | Path) -> Accelerator:
    """Read an accelerator file (``"format": "optimus-opt/accelerator@1"``)."""
    doc = read_document(str(path), "accelerator")
    _validate(doc, "accelerator", str(path))
    try:
        return Accelerator.from_dict(doc)
    except InstanceError as err:
        raise err.in_file(str(path)) from None


def save_instance(instance: Instance, path: str | Path) -> None:
    """Write an instance (inline network and accelerator) as JSON, or YAML for ``.yaml``/``.yml``."""
    dump_document(instance.to_dict(), path)


def dump_document(doc: Mapping[str, Any], path: str | Path) -> None:
    """Write a document as JSON (or YAML, by the file's extension), ending with a newline."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        text = yaml.safe_dump(dict(doc), sort_keys=False)
    else:
        text = json.dumps(doc, indent=1) + "\n"
    path.write_text(text)


#: Documents nest a few levels (instance → network → layers → a layer → a list); deeper is not an instance file,
#: and refusing it here keeps the schema validation and the builders from recursing without end.
MAX_NESTING = 32


def _an(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


def read_text(path: str, kind: str, referenced_by: str | None = None) -> str:
    """The text of a ``kind`` file (UTF-8, a byte-order mark allowed), or an :class:`InstanceError` that says why
    it cannot be read: not found (and which file named it), a directory, unreadable, or not UTF-8 text."""
    p = Path(path)
    if p.is_dir():
        raise InstanceError(f"is a directory, not {_an(kind)} file", file=path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        named = f" (named by field '{kind}' of {referenced_by})" if referenced_by else ""
        raise InstanceError(f"{kind} file not found{named}", file=path) from None
    except OSError as err:
        raise InstanceError(f"cannot read the {kind} file: {err.strerror or err}", file=path) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InstanceError(f"not a UTF-8 text file (byte 0x{data[err.start]:02x} at offset {err.start:,}); "
                            f"{_an(kind)} file is JSON or YAML text", file=path) from None


def parse_text(text: str, path: str, kind: str) -> Any:
    """Parse JSON (or YAML for ``.yaml``/``.yml``) into Python values; every failure is one
    :class:`InstanceError` line naming the line and column, never a traceback (nesting too deep, numbers with
    more digits than Python reads)."""
    yaml_file = Path(path).suffix.lower() in (".yaml", ".yml")
    try:
        doc = yaml.safe_load(text) if yaml_file else json.loads(text)
    except json.JSONDecodeError as err:
        what = err.msg if err.msg.endswith(" at") else err.msg + " at"  # "Unterminated string starting at"
        raise InstanceError(f"not valid JSON: {what} line {err.lineno} column {err.colno}", file=path) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        raise InstanceError(f"not valid YAML: {problem}{where}", file=path) from None
    except RecursionError:
        raise InstanceError(f"nested too deeply to read ({_an(kind)} document nests a few levels, at most "
                            f"{MAX_NESTING})", file=path) from None
    except ValueError as err:  # e.g. an integer of more than 4,300 digits
        text = str(err).split(";")[0]
        raise InstanceError(f"not valid {'YAML' if yaml_file else 'JSON'}: {text}", file=path) from None
    depth = _depth(doc)
    if depth > MAX_NESTING:
        raise InstanceError(f"nested {depth if depth <= 10 * MAX_NESTING else 'more than ' + str(10 * MAX_NESTING)}"
                            f" levels deep; {_an(kind)} document nests a few levels, at most {MAX_NESTING}",
                            file=path)
    return doc


def _depth(doc: Any, stop: int = 10 * MAX_NESTING) -> int:
    """How deeply lists and objects nest in ``doc`` (iteratively, and each container once: YAML aliases share
    them), stopping past ``stop``."""
    deepest = 0
    seen: set[int] = set()
    stack = [(doc, 1)]
    while stack:
        node, level = stack.pop()
        if not isinstance(node, (list, dict)) or id(node) in seen:
            continue
        seen.add(id(node))
        deepest = max(deepest, level)
        if deepest > stop:
            return deepest
        stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def read_document(path: str, kind: str, referenced_by: str | None = None) -> Mapping[str, Any]:
    """Read a JSON or YAML ``kind`` document that must be an object (see :func:`read_text` and
    :func:`parse_text` for what is refused, always as one :class:`InstanceError` naming the file)."""
    doc = parse_text(read_text(path, kind, referenced_by), path, kind)
    if not isinstance(doc, Mapping):
        got = {list: "a list", str: "a string", type(None): "nothing", bool: "a boolean"}.get(type(doc), "a number")
        raise InstanceError(f"{_an(kind)} document must be an object ({{...}}), got {got}", file=path)
    return doc


# -- schema validation ---------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def instance_schema() -> dict[str, Any]:
    """The JSON Schema of formulations/formats.md's instance (its ``$defs`` hold the network and accelerator objects)."""
    text = resources.files("optimus_opt").joinpath("schemas/instance.schema.json").read_text()
    return json.loads(text)


@lru_cache(maxsize=3)
def _validator(kind: str):
    import jsonschema

    root = instance_schema()
    schema = root if kind == "instance" else {"$defs": root["$defs"], **root["$defs"][kind]}
    if kind == "instance":  # network and accelerator objects are validated on their own, for clearer messages
        schema = json.loads(json.dumps(root))
        for key in ("network", "accelerator"):
            schema["properties"][key] = {"type": ["string", "object"]}
    return jsonschema.Draft202012Validator(schema)


_FORMATS = {"instance": INSTANCE_FORMAT, "network": NETWORK_FORMAT, "accelerator": ACCELERATOR_FORMAT}


def _validate(doc: Mapping[str, Any], kind: str, file: str | None) -> None:
    """Validate ``doc`` as a ``kind`` document; raise the first error, in document order, as an InstanceError."""
    if kind == "instance" and doc.get("format") != INSTANCE_FORMAT:
        raise InstanceError(f"expected \"{INSTANCE_FORMAT}\", got {doc.get('format')!r}", file=file,
                            field="format")
    errors = sorted(_validator(kind).iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise _translate(errors[0], doc, kind, file)
    if kind == "instance":
        for key in ("network", "accelerator"):
            if isinstance(doc[key], Mapping):
                errors = sorted(_validator(key).iter_errors(doc[key]), key=lambda e: [str(p) for p in e.absolute_path])
                if errors:
                    raise _translate(errors[0], doc[key], key, file, prefix=key)


def _translate(error: Any, doc: Mapping[str, Any], kind: str, file: str | None, prefix: str = "") -> InstanceError:
    """Turn a jsonschema error into a message that names the layer and the field."""
    path = list(error.absolute_path)
    layer = None
    if len(path) >= 2 and path[0] == "layers" and isinstance(path[1], int):
        entry = doc["layers"][path[1]]
        layer = entry.get("name") if isinstance(entry, Mapping) and isinstance(entry.get("name"), str) \
            else f"#{path[1]}"
        path = path[2:3]  # the field itself, not the position inside it
        prefix = ""
    instance = error.instance
    if error.validator == "additionalProperties" and isinstance(instance, Mapping):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(k for k in instance if k not in allowed)
        where = f"op '{instance.get('op')}'" if layer is not None else f"an {kind} document" if kind[0] in "aeiou" \
            else f"a {kind} document"
        return InstanceError(f"unknown field for {where} (allowed: {', '.join(sorted(allowed))})",
                             file=file, layer=layer, field=_join(prefix, path + extra[:1]))
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in instance]
        return InstanceError("missing field", file=file, layer=layer, field=_join(prefix, path + missing[:1]))
    if path == ["op"] and error.validator == "enum":
        return InstanceError(f"unknown op {instance!r} (known: {', '.join(OP_FIELDS)})", file=file, layer=layer,
                             field="op")
    if error.validator == "const" and path == ["format"]:
        return InstanceError(f"expected \"{_FORMATS[kind]}\", got {instance!r}", file=file,
                             field=_join(prefix, path))
    return InstanceError(_describe(error), file=file, layer=layer, field=_join(prefix, path) or None)


_FORMS = {
    "kernel": "a positive int or [h, w]", "stride": "a positive int or [h, w]", "dilation": "a positive int or [h, w]",
    "padding": "an int >= 0, [h, w] or [top, bottom, left, right]", "inputs": "a layer name or a list of names",
}


def _describe(error: Any) -> str:
    if error.validator in ("oneOf", "anyOf"):
        path = list(error.absolute_path)
        form = _FORMS.get(str(path[-1]) if path else "", "another form")
        return f"expected {form}, got {error.instance!r}"
    if error.validator == "minimum":
        return f"must be at least {error.validator_value}, got {error.instance!r}"
    if error.validator in ("minItems", "maxItems") and error.schema.get("minItems") == error.schema.get("maxItems"):
        return f"expected {error.schema['minItems']} items, got {error.instance!r}"
    if error.validator == "type":
        return f"expected {error.validator_value}, got {error.instance!r}"
    return error.message


def _join(prefix: str, path: list[Any]) -> str:
    parts = ([prefix] if prefix else []) + [str(p) for p in path]
    return ".".join(parts)
