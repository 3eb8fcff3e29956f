"""Optimality-gap studies: plans of experiments, the executors that run them (local processes, Dask), the record
format and store that make runs resumable, suites, the paper's evaluation, reports and regeneration of bundled files.
"""
