"""Benchmarks (not shipped): `python -m bench` or `make bench`; results go to docs/benchmarks.md.

`bench.engine_bench` plays random games through the pure engine, preset by preset, and plays the
comparison configuration side by side with TextArena's bare SecretMafia engine (`bench.textarena_bench`,
run in its own virtual environment `.venv-bench/`).
"""
