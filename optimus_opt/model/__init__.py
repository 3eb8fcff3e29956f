"""The data model, the ground floor: networks, accelerators, instances, their limits and presets, and the errors
that name the file, the layer and the field of bad input.

Nothing here knows about costs or solvers; every other floor builds on these frozen dataclasses.
"""
