"""The abuse benchmark (`python -m bench.abuse`): findings 2-4 of issue 11 replayed against a hosted
game with eight remote agents, next to a control run. See `__main__` for the method."""
