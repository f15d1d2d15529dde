"""Packages generated from the sample specs (``make generate`` rewrites them; never edit by hand)."""
