"""Plots of a simulation report."""
