"""Network benchmarks: spectator fan-out and agent round trips, our server next to the seed's design.

`python -m bench.fanout [--quick] [--write-docs]` (see `bench/fanout/__main__.py`) starts each server in
its own process (`our_server.py`: our `NetworkServer`; `baseline_server.py`: FastAPI + Uvicorn with the
seed's `ConnectionManager`, run in `.venv-bench/`) and measures it with the same load generator
(`loadgen.py`, standard library only), in a process of its own.
"""
