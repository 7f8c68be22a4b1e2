"""Domain logic: sessions, runs, event feeds. No gRPC or SQL here."""
