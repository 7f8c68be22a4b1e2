"""Runs: admission of Send/Steer, execution of a reply, its end, aborts and run reads."""
