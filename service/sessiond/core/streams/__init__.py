"""Streams: WatchChat, Chat and WatchSessions, each a cursor follower over store and bus."""
