"""Drivers: one module per system, each run by ``python -m benches.drivers <system>`` in its own venv.

Stdlib only at this level: these modules are imported by every system's interpreter (3.10+).
"""
