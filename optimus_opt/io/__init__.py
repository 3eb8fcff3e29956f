"""Readers, writers and pictures: the one resolver from a command-line argument or a library call to an instance,
the ONNX import and export, and the drawings of a schedule.
"""
