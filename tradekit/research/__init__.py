"""Research tools: the vectorised fast path, Monte Carlo, splits, walk-forward, sweeps and A/B.

Each module is imported on its own (``from tradekit.research.montecarlo import monte_carlo``)
so that importing one does not pull in the others' optional dependencies (Dask, tqdm).
"""
