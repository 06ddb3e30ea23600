"""A fleet of simulated bins against one broker (python -m host_tools.fleet)."""
