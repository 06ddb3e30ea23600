"""Live terminal dashboard of the bins on a broker (python -m host_tools.monitor)."""
