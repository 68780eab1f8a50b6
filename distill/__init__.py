"""Distillation of latent edits into fast image-to-image filters (paired datasets, Pix2PixHD).

See docs/architecture.md; this package builds on :mod:`faceedit` and :mod:`directions`.
"""
