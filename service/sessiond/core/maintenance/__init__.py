"""Maintenance: compaction, checkpoints and retention."""
