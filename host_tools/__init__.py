"""Host tools (CPython 3.11): simulator, broker harness, field tools."""
