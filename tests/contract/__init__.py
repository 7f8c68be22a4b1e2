"""Contract suites: every Store and EventBus implementation against one set of tests."""
