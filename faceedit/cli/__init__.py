"""Command-line interface (``faceedit ...``)."""
