"""The service's behaviour, over the Store, EventBus and AgentBackend contracts.

Grouped by what each part serves: `sessions`, `runs`, `streams`, `maintenance`; the
modules here are shared by all of them (committing with events, keys, rules, paging).
"""
