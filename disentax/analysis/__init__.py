"""Analyses of trained representations: passive/mixed/active variables, mean vs sampled codes."""

from disentax.analysis.activity import variable_types
from disentax.analysis.intervals import format_interval, t_interval
from disentax.analysis.mean_vs_sampled import (
    mean_vs_sampled,
    mutual_information,
    sampled,
    total_correlation,
    truncate,
)

__all__ = [
    "format_interval",
    "mean_vs_sampled",
    "mutual_information",
    "sampled",
    "t_interval",
    "total_correlation",
    "truncate",
    "variable_types",
]
