"""Network benchmarks: spectator fan-out, agent round trips and a stalled spectator, our server next to
the seed's design.

`python -m bench.fanout [--quick] [--write-docs]` (see `bench/fanout/__main__.py`) and
`python -m bench.fanout.stall [--quick] [--write-docs]` (`stall.py`) start each server in its own process
(`our_server.py`: our `NetworkServer`; `baseline_server.py`: FastAPI + Uvicorn with the seed's
`ConnectionManager`, run in `.venv-bench/`; both through `harness.py`) and measure it with the same load
generator (`loadgen.py` with `wsclient.py` and `phases.py`, standard library only), in a process of
its own.
"""
