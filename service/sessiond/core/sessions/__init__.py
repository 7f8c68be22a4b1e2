"""Sessions: their lifecycle, reads, transcripts and plugin state."""
