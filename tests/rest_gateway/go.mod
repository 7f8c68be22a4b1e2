// The REST gateway of tests/test_rest_gateway.py (see main.go). grpc-gateway's version
// must equal GRPC_GATEWAY_VERSION in the Makefile (the protoc-gen-grpc-gateway that
// generates the gateway code); the test checks it.
module sessiond.test/restgateway

go 1.26.0

require (
	github.com/grpc-ecosystem/grpc-gateway/v2 v2.32.0
	github.com/sessiond/sessiond/clients/go v0.0.0
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261005182115-fad411399dd8
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

require (
	golang.org/x/net v0.61.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20261012220534-4341edf3f941 // indirect
)

replace github.com/sessiond/sessiond/clients/go => ../../clients/go
