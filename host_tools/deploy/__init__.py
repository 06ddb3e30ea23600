"""Deploy firmware to a bin: compile, copy only what changed, provision, verify, reset."""
