"""Attribute directions in a generator's latent space.

This package labels sampled latents with attribute classifiers and fits linear boundaries in
W with scikit-learn; see docs/architecture.md for the plan. Its estimators build on
:mod:`faceedit` (the generator) and are added as the directions work lands.
"""
