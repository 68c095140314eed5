"""Evaluation commands on the current store (`satchel eval beir`, `satchel eval qa`). They drive the
core facade, so they sit above it, beside ops."""
