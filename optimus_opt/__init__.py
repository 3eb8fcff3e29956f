"""optimus-opt: exact and heuristic layer fusion and tiling for DNN accelerators with a small on-chip buffer.

The flow: an :class:`Instance` (network, accelerator, batch) → the cost model (:class:`CostModel`, formulations/cost-model.md)
→ solvers behind one interface (:mod:`optimus_opt.solvers`) → a :class:`Schedule` that :func:`evaluate`
recomputes from the instance and the groups alone.

>>> import optimus_opt as oo
>>> inst = oo.load_instance("instances/example-64k.json")
>>> sched = oo.solve(inst, solver="layerwise")
>>> oo.evaluate(inst, sched).dram_bytes
892948
>>> oo.solve(inst, solver="exact-dp").dram_bytes
253460
"""

from . import solvers
from .cost.cost_model import CostModel, Tiling
from .cost.schedule import Evaluation, Group, Schedule, evaluate, load_schedule
from .io.onnx import network_from_onnx  # the onnx package is imported only when it runs
from .io.onnx_export import network_to_onnx  # the same
from .model.accelerator import Accelerator, parse_size
from .model.errors import InstanceError, OptimusError, ScheduleError, SolverError
from .model.instance import Instance, load_accelerator, load_instance, load_network, save_instance
from .model.network import Layer, Network
from .model.presets import accelerator_preset, preset_names
from .solvers import solve
from .solvers.charges import Charges, charge_schedule
from .solvers.pareto import pareto_front
from .solvers.segment_bound import SegmentBound, lower_bound
from .studies.study import StudyConfig, StudyResult, paper_study, study
from .studies.suite import Suite, load_suite
from .version import __version__

__all__ = [
    "Accelerator", "Charges", "CostModel", "Evaluation", "Group", "Instance", "InstanceError", "Layer", "Network",
    "OptimusError", "Schedule", "ScheduleError", "SolverError", "Suite", "Tiling", "accelerator_preset",
    "charge_schedule", "evaluate",
    "load_accelerator", "load_instance", "load_network", "load_schedule", "load_suite", "network_from_onnx",
    "lower_bound", "network_to_onnx", "pareto_front", "SegmentBound", "paper_study", "parse_size",
    "preset_names", "save_instance", "solve", "solvers", "study", "StudyConfig", "StudyResult", "__version__",
]
