"""gRPC transport: servicers, conversion, error mapping. Protobuf stops here."""
