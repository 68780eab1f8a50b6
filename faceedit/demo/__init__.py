"""``faceedit demo``: the whole pipeline on the bundled model (sampling, directions, inversion, a paired
dataset, the bundled filter) in about half a minute on 2 CPU cores, as one HTML report."""

from __future__ import annotations

from faceedit.utils.lazy import lazy_attributes

_LAZY = {"run_demo": "faceedit.demo.run", "DemoConfig": "faceedit.demo.run", "HtmlReport": "faceedit.demo.html"}

__all__ = list(_LAZY)

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
