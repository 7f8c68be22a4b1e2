"""The domain: records, events, errors and their stored encoding. Imports nothing of sessiond."""
