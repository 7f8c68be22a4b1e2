"""Server reflection under both `grpc.reflection.v1alpha` and `grpc.reflection.v1`.

grpcio-reflection ships only v1alpha; v1 has the same messages on the wire, so the same
servicer answers both names (newer grpcurl and Postman ask for v1 first).
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2, reflection_pb2_grpc
from sessiond.api.registration import LayeredRegistration

V1_SERVICE = "grpc.reflection.v1.ServerReflection"


def enable(server: LayeredRegistration, service_names: Iterable[str]) -> None:
    names = (*service_names, reflection.SERVICE_NAME, V1_SERVICE)
    servicer = reflection.aio.ReflectionServicer(names)
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(servicer, server)  # type: ignore[no-untyped-call]
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(V1_SERVICE, {"ServerReflectionInfo": handler}),)
    )
