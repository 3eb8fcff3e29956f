"""The memory-access cost model (formulations/cost-model.md) and what is built directly on it: the candidate space
of fusion groups with their best tilings, the partition rules that make a set of groups a schedule, and the
schedule itself with :func:`~optimus_opt.cost.schedule.evaluate`, which recomputes every number from the instance
and the groups alone.
"""
