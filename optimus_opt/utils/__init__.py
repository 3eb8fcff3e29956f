"""Small helpers that know nothing of networks or costs (they use only :mod:`optimus_opt.model.errors`): one
deadline for a run, progress lines, optional extras, whether a process may fork."""
