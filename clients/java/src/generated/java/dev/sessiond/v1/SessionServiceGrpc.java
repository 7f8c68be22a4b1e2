package dev.sessiond.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Creates, reads, changes and removes sessions and their transcripts.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class SessionServiceGrpc {

  private SessionServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "sessiond.v1.SessionService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.CreateSessionRequest,
      dev.sessiond.v1.CreateSessionResponse> getCreateSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateSession",
      requestType = dev.sessiond.v1.CreateSessionRequest.class,
      responseType = dev.sessiond.v1.CreateSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.CreateSessionRequest,
      dev.sessiond.v1.CreateSessionResponse> getCreateSessionMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.CreateSessionRequest, dev.sessiond.v1.CreateSessionResponse> getCreateSessionMethod;
    if ((getCreateSessionMethod = SessionServiceGrpc.getCreateSessionMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getCreateSessionMethod = SessionServiceGrpc.getCreateSessionMethod) == null) {
          SessionServiceGrpc.getCreateSessionMethod = getCreateSessionMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.CreateSessionRequest, dev.sessiond.v1.CreateSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.CreateSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.CreateSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("CreateSession"))
              .build();
        }
      }
    }
    return getCreateSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.GetSessionRequest,
      dev.sessiond.v1.GetSessionResponse> getGetSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetSession",
      requestType = dev.sessiond.v1.GetSessionRequest.class,
      responseType = dev.sessiond.v1.GetSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.GetSessionRequest,
      dev.sessiond.v1.GetSessionResponse> getGetSessionMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.GetSessionRequest, dev.sessiond.v1.GetSessionResponse> getGetSessionMethod;
    if ((getGetSessionMethod = SessionServiceGrpc.getGetSessionMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getGetSessionMethod = SessionServiceGrpc.getGetSessionMethod) == null) {
          SessionServiceGrpc.getGetSessionMethod = getGetSessionMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.GetSessionRequest, dev.sessiond.v1.GetSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.GetSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.GetSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("GetSession"))
              .build();
        }
      }
    }
    return getGetSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.ListSessionsRequest,
      dev.sessiond.v1.ListSessionsResponse> getListSessionsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListSessions",
      requestType = dev.sessiond.v1.ListSessionsRequest.class,
      responseType = dev.sessiond.v1.ListSessionsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.ListSessionsRequest,
      dev.sessiond.v1.ListSessionsResponse> getListSessionsMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.ListSessionsRequest, dev.sessiond.v1.ListSessionsResponse> getListSessionsMethod;
    if ((getListSessionsMethod = SessionServiceGrpc.getListSessionsMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getListSessionsMethod = SessionServiceGrpc.getListSessionsMethod) == null) {
          SessionServiceGrpc.getListSessionsMethod = getListSessionsMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.ListSessionsRequest, dev.sessiond.v1.ListSessionsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListSessions"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ListSessionsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ListSessionsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("ListSessions"))
              .build();
        }
      }
    }
    return getListSessionsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.ResolveSessionRequest,
      dev.sessiond.v1.ResolveSessionResponse> getResolveSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ResolveSession",
      requestType = dev.sessiond.v1.ResolveSessionRequest.class,
      responseType = dev.sessiond.v1.ResolveSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.ResolveSessionRequest,
      dev.sessiond.v1.ResolveSessionResponse> getResolveSessionMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.ResolveSessionRequest, dev.sessiond.v1.ResolveSessionResponse> getResolveSessionMethod;
    if ((getResolveSessionMethod = SessionServiceGrpc.getResolveSessionMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getResolveSessionMethod = SessionServiceGrpc.getResolveSessionMethod) == null) {
          SessionServiceGrpc.getResolveSessionMethod = getResolveSessionMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.ResolveSessionRequest, dev.sessiond.v1.ResolveSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ResolveSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ResolveSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ResolveSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("ResolveSession"))
              .build();
        }
      }
    }
    return getResolveSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.UpdateSessionRequest,
      dev.sessiond.v1.UpdateSessionResponse> getUpdateSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdateSession",
      requestType = dev.sessiond.v1.UpdateSessionRequest.class,
      responseType = dev.sessiond.v1.UpdateSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.UpdateSessionRequest,
      dev.sessiond.v1.UpdateSessionResponse> getUpdateSessionMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.UpdateSessionRequest, dev.sessiond.v1.UpdateSessionResponse> getUpdateSessionMethod;
    if ((getUpdateSessionMethod = SessionServiceGrpc.getUpdateSessionMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getUpdateSessionMethod = SessionServiceGrpc.getUpdateSessionMethod) == null) {
          SessionServiceGrpc.getUpdateSessionMethod = getUpdateSessionMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.UpdateSessionRequest, dev.sessiond.v1.UpdateSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdateSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.UpdateSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.UpdateSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("UpdateSession"))
              .build();
        }
      }
    }
    return getUpdateSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.ResetSessionRequest,
      dev.sessiond.v1.ResetSessionResponse> getResetSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ResetSession",
      requestType = dev.sessiond.v1.ResetSessionRequest.class,
      responseType = dev.sessiond.v1.ResetSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.ResetSessionRequest,
      dev.sessiond.v1.ResetSessionResponse> getResetSessionMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.ResetSessionRequest, dev.sessiond.v1.ResetSessionResponse> getResetSessionMethod;
    if ((getResetSessionMethod = SessionServiceGrpc.getResetSessionMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getResetSessionMethod = SessionServiceGrpc.getResetSessionMethod) == null) {
          SessionServiceGrpc.getResetSessionMethod = getResetSessionMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.ResetSessionRequest, dev.sessiond.v1.ResetSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ResetSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ResetSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ResetSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("ResetSession"))
              .build();
        }
      }
    }
    return getResetSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.DeleteSessionRequest,
      dev.sessiond.v1.DeleteSessionResponse> getDeleteSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteSession",
      requestType = dev.sessiond.v1.DeleteSessionRequest.class,
      responseType = dev.sessiond.v1.DeleteSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.DeleteSessionRequest,
      dev.sessiond.v1.DeleteSessionResponse> getDeleteSessionMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.DeleteSessionRequest, dev.sessiond.v1.DeleteSessionResponse> getDeleteSessionMethod;
    if ((getDeleteSessionMethod = SessionServiceGrpc.getDeleteSessionMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getDeleteSessionMethod = SessionServiceGrpc.getDeleteSessionMethod) == null) {
          SessionServiceGrpc.getDeleteSessionMethod = getDeleteSessionMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.DeleteSessionRequest, dev.sessiond.v1.DeleteSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.DeleteSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.DeleteSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("DeleteSession"))
              .build();
        }
      }
    }
    return getDeleteSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.ListMessagesRequest,
      dev.sessiond.v1.ListMessagesResponse> getListMessagesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListMessages",
      requestType = dev.sessiond.v1.ListMessagesRequest.class,
      responseType = dev.sessiond.v1.ListMessagesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.ListMessagesRequest,
      dev.sessiond.v1.ListMessagesResponse> getListMessagesMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.ListMessagesRequest, dev.sessiond.v1.ListMessagesResponse> getListMessagesMethod;
    if ((getListMessagesMethod = SessionServiceGrpc.getListMessagesMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getListMessagesMethod = SessionServiceGrpc.getListMessagesMethod) == null) {
          SessionServiceGrpc.getListMessagesMethod = getListMessagesMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.ListMessagesRequest, dev.sessiond.v1.ListMessagesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListMessages"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ListMessagesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ListMessagesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("ListMessages"))
              .build();
        }
      }
    }
    return getListMessagesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.GetAttachmentRequest,
      dev.sessiond.v1.GetAttachmentResponse> getGetAttachmentMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetAttachment",
      requestType = dev.sessiond.v1.GetAttachmentRequest.class,
      responseType = dev.sessiond.v1.GetAttachmentResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.GetAttachmentRequest,
      dev.sessiond.v1.GetAttachmentResponse> getGetAttachmentMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.GetAttachmentRequest, dev.sessiond.v1.GetAttachmentResponse> getGetAttachmentMethod;
    if ((getGetAttachmentMethod = SessionServiceGrpc.getGetAttachmentMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getGetAttachmentMethod = SessionServiceGrpc.getGetAttachmentMethod) == null) {
          SessionServiceGrpc.getGetAttachmentMethod = getGetAttachmentMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.GetAttachmentRequest, dev.sessiond.v1.GetAttachmentResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetAttachment"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.GetAttachmentRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.GetAttachmentResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("GetAttachment"))
              .build();
        }
      }
    }
    return getGetAttachmentMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.PreviewSessionsRequest,
      dev.sessiond.v1.PreviewSessionsResponse> getPreviewSessionsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "PreviewSessions",
      requestType = dev.sessiond.v1.PreviewSessionsRequest.class,
      responseType = dev.sessiond.v1.PreviewSessionsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.PreviewSessionsRequest,
      dev.sessiond.v1.PreviewSessionsResponse> getPreviewSessionsMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.PreviewSessionsRequest, dev.sessiond.v1.PreviewSessionsResponse> getPreviewSessionsMethod;
    if ((getPreviewSessionsMethod = SessionServiceGrpc.getPreviewSessionsMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getPreviewSessionsMethod = SessionServiceGrpc.getPreviewSessionsMethod) == null) {
          SessionServiceGrpc.getPreviewSessionsMethod = getPreviewSessionsMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.PreviewSessionsRequest, dev.sessiond.v1.PreviewSessionsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "PreviewSessions"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.PreviewSessionsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.PreviewSessionsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("PreviewSessions"))
              .build();
        }
      }
    }
    return getPreviewSessionsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.ListArchivesRequest,
      dev.sessiond.v1.ListArchivesResponse> getListArchivesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListArchives",
      requestType = dev.sessiond.v1.ListArchivesRequest.class,
      responseType = dev.sessiond.v1.ListArchivesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.ListArchivesRequest,
      dev.sessiond.v1.ListArchivesResponse> getListArchivesMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.ListArchivesRequest, dev.sessiond.v1.ListArchivesResponse> getListArchivesMethod;
    if ((getListArchivesMethod = SessionServiceGrpc.getListArchivesMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getListArchivesMethod = SessionServiceGrpc.getListArchivesMethod) == null) {
          SessionServiceGrpc.getListArchivesMethod = getListArchivesMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.ListArchivesRequest, dev.sessiond.v1.ListArchivesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListArchives"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ListArchivesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ListArchivesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("ListArchives"))
              .build();
        }
      }
    }
    return getListArchivesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.CleanupSessionsRequest,
      dev.sessiond.v1.CleanupSessionsResponse> getCleanupSessionsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CleanupSessions",
      requestType = dev.sessiond.v1.CleanupSessionsRequest.class,
      responseType = dev.sessiond.v1.CleanupSessionsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.CleanupSessionsRequest,
      dev.sessiond.v1.CleanupSessionsResponse> getCleanupSessionsMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.CleanupSessionsRequest, dev.sessiond.v1.CleanupSessionsResponse> getCleanupSessionsMethod;
    if ((getCleanupSessionsMethod = SessionServiceGrpc.getCleanupSessionsMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getCleanupSessionsMethod = SessionServiceGrpc.getCleanupSessionsMethod) == null) {
          SessionServiceGrpc.getCleanupSessionsMethod = getCleanupSessionsMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.CleanupSessionsRequest, dev.sessiond.v1.CleanupSessionsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CleanupSessions"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.CleanupSessionsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.CleanupSessionsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("CleanupSessions"))
              .build();
        }
      }
    }
    return getCleanupSessionsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.CompactSessionRequest,
      dev.sessiond.v1.CompactSessionResponse> getCompactSessionMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CompactSession",
      requestType = dev.sessiond.v1.CompactSessionRequest.class,
      responseType = dev.sessiond.v1.CompactSessionResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.CompactSessionRequest,
      dev.sessiond.v1.CompactSessionResponse> getCompactSessionMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.CompactSessionRequest, dev.sessiond.v1.CompactSessionResponse> getCompactSessionMethod;
    if ((getCompactSessionMethod = SessionServiceGrpc.getCompactSessionMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getCompactSessionMethod = SessionServiceGrpc.getCompactSessionMethod) == null) {
          SessionServiceGrpc.getCompactSessionMethod = getCompactSessionMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.CompactSessionRequest, dev.sessiond.v1.CompactSessionResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CompactSession"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.CompactSessionRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.CompactSessionResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("CompactSession"))
              .build();
        }
      }
    }
    return getCompactSessionMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.ListCheckpointsRequest,
      dev.sessiond.v1.ListCheckpointsResponse> getListCheckpointsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListCheckpoints",
      requestType = dev.sessiond.v1.ListCheckpointsRequest.class,
      responseType = dev.sessiond.v1.ListCheckpointsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.ListCheckpointsRequest,
      dev.sessiond.v1.ListCheckpointsResponse> getListCheckpointsMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.ListCheckpointsRequest, dev.sessiond.v1.ListCheckpointsResponse> getListCheckpointsMethod;
    if ((getListCheckpointsMethod = SessionServiceGrpc.getListCheckpointsMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getListCheckpointsMethod = SessionServiceGrpc.getListCheckpointsMethod) == null) {
          SessionServiceGrpc.getListCheckpointsMethod = getListCheckpointsMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.ListCheckpointsRequest, dev.sessiond.v1.ListCheckpointsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListCheckpoints"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ListCheckpointsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ListCheckpointsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("ListCheckpoints"))
              .build();
        }
      }
    }
    return getListCheckpointsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.GetCheckpointRequest,
      dev.sessiond.v1.GetCheckpointResponse> getGetCheckpointMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetCheckpoint",
      requestType = dev.sessiond.v1.GetCheckpointRequest.class,
      responseType = dev.sessiond.v1.GetCheckpointResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.GetCheckpointRequest,
      dev.sessiond.v1.GetCheckpointResponse> getGetCheckpointMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.GetCheckpointRequest, dev.sessiond.v1.GetCheckpointResponse> getGetCheckpointMethod;
    if ((getGetCheckpointMethod = SessionServiceGrpc.getGetCheckpointMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getGetCheckpointMethod = SessionServiceGrpc.getGetCheckpointMethod) == null) {
          SessionServiceGrpc.getGetCheckpointMethod = getGetCheckpointMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.GetCheckpointRequest, dev.sessiond.v1.GetCheckpointResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetCheckpoint"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.GetCheckpointRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.GetCheckpointResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("GetCheckpoint"))
              .build();
        }
      }
    }
    return getGetCheckpointMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.BranchCheckpointRequest,
      dev.sessiond.v1.BranchCheckpointResponse> getBranchCheckpointMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "BranchCheckpoint",
      requestType = dev.sessiond.v1.BranchCheckpointRequest.class,
      responseType = dev.sessiond.v1.BranchCheckpointResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.BranchCheckpointRequest,
      dev.sessiond.v1.BranchCheckpointResponse> getBranchCheckpointMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.BranchCheckpointRequest, dev.sessiond.v1.BranchCheckpointResponse> getBranchCheckpointMethod;
    if ((getBranchCheckpointMethod = SessionServiceGrpc.getBranchCheckpointMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getBranchCheckpointMethod = SessionServiceGrpc.getBranchCheckpointMethod) == null) {
          SessionServiceGrpc.getBranchCheckpointMethod = getBranchCheckpointMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.BranchCheckpointRequest, dev.sessiond.v1.BranchCheckpointResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "BranchCheckpoint"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.BranchCheckpointRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.BranchCheckpointResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("BranchCheckpoint"))
              .build();
        }
      }
    }
    return getBranchCheckpointMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.RestoreCheckpointRequest,
      dev.sessiond.v1.RestoreCheckpointResponse> getRestoreCheckpointMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "RestoreCheckpoint",
      requestType = dev.sessiond.v1.RestoreCheckpointRequest.class,
      responseType = dev.sessiond.v1.RestoreCheckpointResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.RestoreCheckpointRequest,
      dev.sessiond.v1.RestoreCheckpointResponse> getRestoreCheckpointMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.RestoreCheckpointRequest, dev.sessiond.v1.RestoreCheckpointResponse> getRestoreCheckpointMethod;
    if ((getRestoreCheckpointMethod = SessionServiceGrpc.getRestoreCheckpointMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getRestoreCheckpointMethod = SessionServiceGrpc.getRestoreCheckpointMethod) == null) {
          SessionServiceGrpc.getRestoreCheckpointMethod = getRestoreCheckpointMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.RestoreCheckpointRequest, dev.sessiond.v1.RestoreCheckpointResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "RestoreCheckpoint"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.RestoreCheckpointRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.RestoreCheckpointResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("RestoreCheckpoint"))
              .build();
        }
      }
    }
    return getRestoreCheckpointMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.UpdatePluginStateRequest,
      dev.sessiond.v1.UpdatePluginStateResponse> getUpdatePluginStateMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdatePluginState",
      requestType = dev.sessiond.v1.UpdatePluginStateRequest.class,
      responseType = dev.sessiond.v1.UpdatePluginStateResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.UpdatePluginStateRequest,
      dev.sessiond.v1.UpdatePluginStateResponse> getUpdatePluginStateMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.UpdatePluginStateRequest, dev.sessiond.v1.UpdatePluginStateResponse> getUpdatePluginStateMethod;
    if ((getUpdatePluginStateMethod = SessionServiceGrpc.getUpdatePluginStateMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getUpdatePluginStateMethod = SessionServiceGrpc.getUpdatePluginStateMethod) == null) {
          SessionServiceGrpc.getUpdatePluginStateMethod = getUpdatePluginStateMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.UpdatePluginStateRequest, dev.sessiond.v1.UpdatePluginStateResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdatePluginState"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.UpdatePluginStateRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.UpdatePluginStateResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("UpdatePluginState"))
              .build();
        }
      }
    }
    return getUpdatePluginStateMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.WatchSessionsRequest,
      dev.sessiond.v1.WatchSessionsResponse> getWatchSessionsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchSessions",
      requestType = dev.sessiond.v1.WatchSessionsRequest.class,
      responseType = dev.sessiond.v1.WatchSessionsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.WatchSessionsRequest,
      dev.sessiond.v1.WatchSessionsResponse> getWatchSessionsMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.WatchSessionsRequest, dev.sessiond.v1.WatchSessionsResponse> getWatchSessionsMethod;
    if ((getWatchSessionsMethod = SessionServiceGrpc.getWatchSessionsMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getWatchSessionsMethod = SessionServiceGrpc.getWatchSessionsMethod) == null) {
          SessionServiceGrpc.getWatchSessionsMethod = getWatchSessionsMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.WatchSessionsRequest, dev.sessiond.v1.WatchSessionsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchSessions"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.WatchSessionsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.WatchSessionsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("WatchSessions"))
              .build();
        }
      }
    }
    return getWatchSessionsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.GetUsageRequest,
      dev.sessiond.v1.GetUsageResponse> getGetUsageMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetUsage",
      requestType = dev.sessiond.v1.GetUsageRequest.class,
      responseType = dev.sessiond.v1.GetUsageResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.GetUsageRequest,
      dev.sessiond.v1.GetUsageResponse> getGetUsageMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.GetUsageRequest, dev.sessiond.v1.GetUsageResponse> getGetUsageMethod;
    if ((getGetUsageMethod = SessionServiceGrpc.getGetUsageMethod) == null) {
      synchronized (SessionServiceGrpc.class) {
        if ((getGetUsageMethod = SessionServiceGrpc.getGetUsageMethod) == null) {
          SessionServiceGrpc.getGetUsageMethod = getGetUsageMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.GetUsageRequest, dev.sessiond.v1.GetUsageResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetUsage"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.GetUsageRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.GetUsageResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SessionServiceMethodDescriptorSupplier("GetUsage"))
              .build();
        }
      }
    }
    return getGetUsageMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static SessionServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SessionServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SessionServiceStub>() {
        @java.lang.Override
        public SessionServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SessionServiceStub(channel, callOptions);
        }
      };
    return SessionServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static SessionServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SessionServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SessionServiceBlockingV2Stub>() {
        @java.lang.Override
        public SessionServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SessionServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return SessionServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static SessionServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SessionServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SessionServiceBlockingStub>() {
        @java.lang.Override
        public SessionServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SessionServiceBlockingStub(channel, callOptions);
        }
      };
    return SessionServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static SessionServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SessionServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SessionServiceFutureStub>() {
        @java.lang.Override
        public SessionServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SessionServiceFutureStub(channel, callOptions);
        }
      };
    return SessionServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Creates, reads, changes and removes sessions and their transcripts.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Creates a session, or returns the existing one with `created=false`.
     * </pre>
     */
    default void createSession(dev.sessiond.v1.CreateSessionRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.CreateSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns one session by key.
     * </pre>
     */
    default void getSession(dev.sessiond.v1.GetSessionRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.GetSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists sessions, newest first, with filters and paging.
     * </pre>
     */
    default void listSessions(dev.sessiond.v1.ListSessionsRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ListSessionsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListSessionsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Finds a session key by key, session id or label.
     * </pre>
     */
    default void resolveSession(dev.sessiond.v1.ResolveSessionRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ResolveSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getResolveSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Changes settings of a session.
     * </pre>
     */
    default void updateSession(dev.sessiond.v1.UpdateSessionRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.UpdateSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdateSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Starts a new transcript; the old one is archived.
     * </pre>
     */
    default void resetSession(dev.sessiond.v1.ResetSessionRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ResetSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getResetSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Removes a session; its transcript is archived.
     * </pre>
     */
    default void deleteSession(dev.sessiond.v1.DeleteSessionRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.DeleteSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Reads a transcript, live or archived.
     * </pre>
     */
    default void listMessages(dev.sessiond.v1.ListMessagesRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ListMessagesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListMessagesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns one attachment of a transcript entry with its content.
     * </pre>
     */
    default void getAttachment(dev.sessiond.v1.GetAttachmentRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.GetAttachmentResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetAttachmentMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns the last entries of several sessions.
     * </pre>
     */
    default void previewSessions(dev.sessiond.v1.PreviewSessionsRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.PreviewSessionsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getPreviewSessionsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists archived transcripts of a session key.
     * </pre>
     */
    default void listArchives(dev.sessiond.v1.ListArchivesRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ListArchivesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListArchivesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Removes stale sessions by age and count; a dry run by default.
     * </pre>
     */
    default void cleanupSessions(dev.sessiond.v1.CleanupSessionsRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.CleanupSessionsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCleanupSessionsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Shortens a transcript, recording a checkpoint first.
     * </pre>
     */
    default void compactSession(dev.sessiond.v1.CompactSessionRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.CompactSessionResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCompactSessionMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists a session's checkpoints, newest first.
     * </pre>
     */
    default void listCheckpoints(dev.sessiond.v1.ListCheckpointsRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ListCheckpointsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListCheckpointsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns one checkpoint with its transcript.
     * </pre>
     */
    default void getCheckpoint(dev.sessiond.v1.GetCheckpointRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.GetCheckpointResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetCheckpointMethod(), responseObserver);
    }

    /**
     * <pre>
     * Creates a new session from a checkpoint's transcript.
     * </pre>
     */
    default void branchCheckpoint(dev.sessiond.v1.BranchCheckpointRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.BranchCheckpointResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getBranchCheckpointMethod(), responseObserver);
    }

    /**
     * <pre>
     * Puts a session back to a checkpoint's transcript.
     * </pre>
     */
    default void restoreCheckpoint(dev.sessiond.v1.RestoreCheckpointRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.RestoreCheckpointResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getRestoreCheckpointMethod(), responseObserver);
    }

    /**
     * <pre>
     * Sets or removes plugin state on a session.
     * </pre>
     */
    default void updatePluginState(dev.sessiond.v1.UpdatePluginStateRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.UpdatePluginStateResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdatePluginStateMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams every change of every session, resumable by cursor.
     * </pre>
     */
    default void watchSessions(dev.sessiond.v1.WatchSessionsRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.WatchSessionsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchSessionsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns the usage (tokens, cost, runs) of the caller's tenant over a time range,
     * grouped by tenant, agent, model and day as asked.
     * </pre>
     */
    default void getUsage(dev.sessiond.v1.GetUsageRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.GetUsageResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetUsageMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service SessionService.
   * <pre>
   * Creates, reads, changes and removes sessions and their transcripts.
   * </pre>
   */
  public static abstract class SessionServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return SessionServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service SessionService.
   * <pre>
   * Creates, reads, changes and removes sessions and their transcripts.
   * </pre>
   */
  public static final class SessionServiceStub
      extends io.grpc.stub.AbstractAsyncStub<SessionServiceStub> {
    private SessionServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SessionServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SessionServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a session, or returns the existing one with `created=false`.
     * </pre>
     */
    public void createSession(dev.sessiond.v1.CreateSessionRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.CreateSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns one session by key.
     * </pre>
     */
    public void getSession(dev.sessiond.v1.GetSessionRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.GetSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists sessions, newest first, with filters and paging.
     * </pre>
     */
    public void listSessions(dev.sessiond.v1.ListSessionsRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ListSessionsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListSessionsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Finds a session key by key, session id or label.
     * </pre>
     */
    public void resolveSession(dev.sessiond.v1.ResolveSessionRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ResolveSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getResolveSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Changes settings of a session.
     * </pre>
     */
    public void updateSession(dev.sessiond.v1.UpdateSessionRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.UpdateSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdateSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Starts a new transcript; the old one is archived.
     * </pre>
     */
    public void resetSession(dev.sessiond.v1.ResetSessionRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ResetSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getResetSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Removes a session; its transcript is archived.
     * </pre>
     */
    public void deleteSession(dev.sessiond.v1.DeleteSessionRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.DeleteSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Reads a transcript, live or archived.
     * </pre>
     */
    public void listMessages(dev.sessiond.v1.ListMessagesRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ListMessagesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListMessagesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns one attachment of a transcript entry with its content.
     * </pre>
     */
    public void getAttachment(dev.sessiond.v1.GetAttachmentRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.GetAttachmentResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetAttachmentMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns the last entries of several sessions.
     * </pre>
     */
    public void previewSessions(dev.sessiond.v1.PreviewSessionsRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.PreviewSessionsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getPreviewSessionsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists archived transcripts of a session key.
     * </pre>
     */
    public void listArchives(dev.sessiond.v1.ListArchivesRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ListArchivesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListArchivesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Removes stale sessions by age and count; a dry run by default.
     * </pre>
     */
    public void cleanupSessions(dev.sessiond.v1.CleanupSessionsRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.CleanupSessionsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCleanupSessionsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Shortens a transcript, recording a checkpoint first.
     * </pre>
     */
    public void compactSession(dev.sessiond.v1.CompactSessionRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.CompactSessionResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCompactSessionMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists a session's checkpoints, newest first.
     * </pre>
     */
    public void listCheckpoints(dev.sessiond.v1.ListCheckpointsRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ListCheckpointsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListCheckpointsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns one checkpoint with its transcript.
     * </pre>
     */
    public void getCheckpoint(dev.sessiond.v1.GetCheckpointRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.GetCheckpointResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetCheckpointMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Creates a new session from a checkpoint's transcript.
     * </pre>
     */
    public void branchCheckpoint(dev.sessiond.v1.BranchCheckpointRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.BranchCheckpointResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getBranchCheckpointMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Puts a session back to a checkpoint's transcript.
     * </pre>
     */
    public void restoreCheckpoint(dev.sessiond.v1.RestoreCheckpointRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.RestoreCheckpointResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getRestoreCheckpointMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Sets or removes plugin state on a session.
     * </pre>
     */
    public void updatePluginState(dev.sessiond.v1.UpdatePluginStateRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.UpdatePluginStateResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdatePluginStateMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Streams every change of every session, resumable by cursor.
     * </pre>
     */
    public void watchSessions(dev.sessiond.v1.WatchSessionsRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.WatchSessionsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchSessionsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns the usage (tokens, cost, runs) of the caller's tenant over a time range,
     * grouped by tenant, agent, model and day as asked.
     * </pre>
     */
    public void getUsage(dev.sessiond.v1.GetUsageRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.GetUsageResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetUsageMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service SessionService.
   * <pre>
   * Creates, reads, changes and removes sessions and their transcripts.
   * </pre>
   */
  public static final class SessionServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<SessionServiceBlockingV2Stub> {
    private SessionServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SessionServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SessionServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a session, or returns the existing one with `created=false`.
     * </pre>
     */
    public dev.sessiond.v1.CreateSessionResponse createSession(dev.sessiond.v1.CreateSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one session by key.
     * </pre>
     */
    public dev.sessiond.v1.GetSessionResponse getSession(dev.sessiond.v1.GetSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists sessions, newest first, with filters and paging.
     * </pre>
     */
    public dev.sessiond.v1.ListSessionsResponse listSessions(dev.sessiond.v1.ListSessionsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListSessionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Finds a session key by key, session id or label.
     * </pre>
     */
    public dev.sessiond.v1.ResolveSessionResponse resolveSession(dev.sessiond.v1.ResolveSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getResolveSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Changes settings of a session.
     * </pre>
     */
    public dev.sessiond.v1.UpdateSessionResponse updateSession(dev.sessiond.v1.UpdateSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getUpdateSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Starts a new transcript; the old one is archived.
     * </pre>
     */
    public dev.sessiond.v1.ResetSessionResponse resetSession(dev.sessiond.v1.ResetSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getResetSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Removes a session; its transcript is archived.
     * </pre>
     */
    public dev.sessiond.v1.DeleteSessionResponse deleteSession(dev.sessiond.v1.DeleteSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads a transcript, live or archived.
     * </pre>
     */
    public dev.sessiond.v1.ListMessagesResponse listMessages(dev.sessiond.v1.ListMessagesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListMessagesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one attachment of a transcript entry with its content.
     * </pre>
     */
    public dev.sessiond.v1.GetAttachmentResponse getAttachment(dev.sessiond.v1.GetAttachmentRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetAttachmentMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns the last entries of several sessions.
     * </pre>
     */
    public dev.sessiond.v1.PreviewSessionsResponse previewSessions(dev.sessiond.v1.PreviewSessionsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getPreviewSessionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists archived transcripts of a session key.
     * </pre>
     */
    public dev.sessiond.v1.ListArchivesResponse listArchives(dev.sessiond.v1.ListArchivesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListArchivesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Removes stale sessions by age and count; a dry run by default.
     * </pre>
     */
    public dev.sessiond.v1.CleanupSessionsResponse cleanupSessions(dev.sessiond.v1.CleanupSessionsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCleanupSessionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Shortens a transcript, recording a checkpoint first.
     * </pre>
     */
    public dev.sessiond.v1.CompactSessionResponse compactSession(dev.sessiond.v1.CompactSessionRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCompactSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists a session's checkpoints, newest first.
     * </pre>
     */
    public dev.sessiond.v1.ListCheckpointsResponse listCheckpoints(dev.sessiond.v1.ListCheckpointsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListCheckpointsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one checkpoint with its transcript.
     * </pre>
     */
    public dev.sessiond.v1.GetCheckpointResponse getCheckpoint(dev.sessiond.v1.GetCheckpointRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetCheckpointMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Creates a new session from a checkpoint's transcript.
     * </pre>
     */
    public dev.sessiond.v1.BranchCheckpointResponse branchCheckpoint(dev.sessiond.v1.BranchCheckpointRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getBranchCheckpointMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Puts a session back to a checkpoint's transcript.
     * </pre>
     */
    public dev.sessiond.v1.RestoreCheckpointResponse restoreCheckpoint(dev.sessiond.v1.RestoreCheckpointRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getRestoreCheckpointMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sets or removes plugin state on a session.
     * </pre>
     */
    public dev.sessiond.v1.UpdatePluginStateResponse updatePluginState(dev.sessiond.v1.UpdatePluginStateRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getUpdatePluginStateMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams every change of every session, resumable by cursor.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, dev.sessiond.v1.WatchSessionsResponse>
        watchSessions(dev.sessiond.v1.WatchSessionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getWatchSessionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns the usage (tokens, cost, runs) of the caller's tenant over a time range,
     * grouped by tenant, agent, model and day as asked.
     * </pre>
     */
    public dev.sessiond.v1.GetUsageResponse getUsage(dev.sessiond.v1.GetUsageRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetUsageMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service SessionService.
   * <pre>
   * Creates, reads, changes and removes sessions and their transcripts.
   * </pre>
   */
  public static final class SessionServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<SessionServiceBlockingStub> {
    private SessionServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SessionServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SessionServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a session, or returns the existing one with `created=false`.
     * </pre>
     */
    public dev.sessiond.v1.CreateSessionResponse createSession(dev.sessiond.v1.CreateSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one session by key.
     * </pre>
     */
    public dev.sessiond.v1.GetSessionResponse getSession(dev.sessiond.v1.GetSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists sessions, newest first, with filters and paging.
     * </pre>
     */
    public dev.sessiond.v1.ListSessionsResponse listSessions(dev.sessiond.v1.ListSessionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListSessionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Finds a session key by key, session id or label.
     * </pre>
     */
    public dev.sessiond.v1.ResolveSessionResponse resolveSession(dev.sessiond.v1.ResolveSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getResolveSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Changes settings of a session.
     * </pre>
     */
    public dev.sessiond.v1.UpdateSessionResponse updateSession(dev.sessiond.v1.UpdateSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdateSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Starts a new transcript; the old one is archived.
     * </pre>
     */
    public dev.sessiond.v1.ResetSessionResponse resetSession(dev.sessiond.v1.ResetSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getResetSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Removes a session; its transcript is archived.
     * </pre>
     */
    public dev.sessiond.v1.DeleteSessionResponse deleteSession(dev.sessiond.v1.DeleteSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads a transcript, live or archived.
     * </pre>
     */
    public dev.sessiond.v1.ListMessagesResponse listMessages(dev.sessiond.v1.ListMessagesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListMessagesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one attachment of a transcript entry with its content.
     * </pre>
     */
    public dev.sessiond.v1.GetAttachmentResponse getAttachment(dev.sessiond.v1.GetAttachmentRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetAttachmentMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns the last entries of several sessions.
     * </pre>
     */
    public dev.sessiond.v1.PreviewSessionsResponse previewSessions(dev.sessiond.v1.PreviewSessionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getPreviewSessionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists archived transcripts of a session key.
     * </pre>
     */
    public dev.sessiond.v1.ListArchivesResponse listArchives(dev.sessiond.v1.ListArchivesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListArchivesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Removes stale sessions by age and count; a dry run by default.
     * </pre>
     */
    public dev.sessiond.v1.CleanupSessionsResponse cleanupSessions(dev.sessiond.v1.CleanupSessionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCleanupSessionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Shortens a transcript, recording a checkpoint first.
     * </pre>
     */
    public dev.sessiond.v1.CompactSessionResponse compactSession(dev.sessiond.v1.CompactSessionRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCompactSessionMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists a session's checkpoints, newest first.
     * </pre>
     */
    public dev.sessiond.v1.ListCheckpointsResponse listCheckpoints(dev.sessiond.v1.ListCheckpointsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListCheckpointsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns one checkpoint with its transcript.
     * </pre>
     */
    public dev.sessiond.v1.GetCheckpointResponse getCheckpoint(dev.sessiond.v1.GetCheckpointRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetCheckpointMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Creates a new session from a checkpoint's transcript.
     * </pre>
     */
    public dev.sessiond.v1.BranchCheckpointResponse branchCheckpoint(dev.sessiond.v1.BranchCheckpointRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getBranchCheckpointMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Puts a session back to a checkpoint's transcript.
     * </pre>
     */
    public dev.sessiond.v1.RestoreCheckpointResponse restoreCheckpoint(dev.sessiond.v1.RestoreCheckpointRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getRestoreCheckpointMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sets or removes plugin state on a session.
     * </pre>
     */
    public dev.sessiond.v1.UpdatePluginStateResponse updatePluginState(dev.sessiond.v1.UpdatePluginStateRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdatePluginStateMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams every change of every session, resumable by cursor.
     * </pre>
     */
    public java.util.Iterator<dev.sessiond.v1.WatchSessionsResponse> watchSessions(
        dev.sessiond.v1.WatchSessionsRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchSessionsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns the usage (tokens, cost, runs) of the caller's tenant over a time range,
     * grouped by tenant, agent, model and day as asked.
     * </pre>
     */
    public dev.sessiond.v1.GetUsageResponse getUsage(dev.sessiond.v1.GetUsageRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetUsageMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service SessionService.
   * <pre>
   * Creates, reads, changes and removes sessions and their transcripts.
   * </pre>
   */
  public static final class SessionServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<SessionServiceFutureStub> {
    private SessionServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SessionServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SessionServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a session, or returns the existing one with `created=false`.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.CreateSessionResponse> createSession(
        dev.sessiond.v1.CreateSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns one session by key.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.GetSessionResponse> getSession(
        dev.sessiond.v1.GetSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists sessions, newest first, with filters and paging.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.ListSessionsResponse> listSessions(
        dev.sessiond.v1.ListSessionsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListSessionsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Finds a session key by key, session id or label.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.ResolveSessionResponse> resolveSession(
        dev.sessiond.v1.ResolveSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getResolveSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Changes settings of a session.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.UpdateSessionResponse> updateSession(
        dev.sessiond.v1.UpdateSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdateSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Starts a new transcript; the old one is archived.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.ResetSessionResponse> resetSession(
        dev.sessiond.v1.ResetSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getResetSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Removes a session; its transcript is archived.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.DeleteSessionResponse> deleteSession(
        dev.sessiond.v1.DeleteSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Reads a transcript, live or archived.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.ListMessagesResponse> listMessages(
        dev.sessiond.v1.ListMessagesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListMessagesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns one attachment of a transcript entry with its content.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.GetAttachmentResponse> getAttachment(
        dev.sessiond.v1.GetAttachmentRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetAttachmentMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns the last entries of several sessions.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.PreviewSessionsResponse> previewSessions(
        dev.sessiond.v1.PreviewSessionsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getPreviewSessionsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists archived transcripts of a session key.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.ListArchivesResponse> listArchives(
        dev.sessiond.v1.ListArchivesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListArchivesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Removes stale sessions by age and count; a dry run by default.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.CleanupSessionsResponse> cleanupSessions(
        dev.sessiond.v1.CleanupSessionsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCleanupSessionsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Shortens a transcript, recording a checkpoint first.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.CompactSessionResponse> compactSession(
        dev.sessiond.v1.CompactSessionRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCompactSessionMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists a session's checkpoints, newest first.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.ListCheckpointsResponse> listCheckpoints(
        dev.sessiond.v1.ListCheckpointsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListCheckpointsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns one checkpoint with its transcript.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.GetCheckpointResponse> getCheckpoint(
        dev.sessiond.v1.GetCheckpointRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetCheckpointMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Creates a new session from a checkpoint's transcript.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.BranchCheckpointResponse> branchCheckpoint(
        dev.sessiond.v1.BranchCheckpointRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getBranchCheckpointMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Puts a session back to a checkpoint's transcript.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.RestoreCheckpointResponse> restoreCheckpoint(
        dev.sessiond.v1.RestoreCheckpointRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getRestoreCheckpointMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Sets or removes plugin state on a session.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.UpdatePluginStateResponse> updatePluginState(
        dev.sessiond.v1.UpdatePluginStateRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdatePluginStateMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns the usage (tokens, cost, runs) of the caller's tenant over a time range,
     * grouped by tenant, agent, model and day as asked.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.GetUsageResponse> getUsage(
        dev.sessiond.v1.GetUsageRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetUsageMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_SESSION = 0;
  private static final int METHODID_GET_SESSION = 1;
  private static final int METHODID_LIST_SESSIONS = 2;
  private static final int METHODID_RESOLVE_SESSION = 3;
  private static final int METHODID_UPDATE_SESSION = 4;
  private static final int METHODID_RESET_SESSION = 5;
  private static final int METHODID_DELETE_SESSION = 6;
  private static final int METHODID_LIST_MESSAGES = 7;
  private static final int METHODID_GET_ATTACHMENT = 8;
  private static final int METHODID_PREVIEW_SESSIONS = 9;
  private static final int METHODID_LIST_ARCHIVES = 10;
  private static final int METHODID_CLEANUP_SESSIONS = 11;
  private static final int METHODID_COMPACT_SESSION = 12;
  private static final int METHODID_LIST_CHECKPOINTS = 13;
  private static final int METHODID_GET_CHECKPOINT = 14;
  private static final int METHODID_BRANCH_CHECKPOINT = 15;
  private static final int METHODID_RESTORE_CHECKPOINT = 16;
  private static final int METHODID_UPDATE_PLUGIN_STATE = 17;
  private static final int METHODID_WATCH_SESSIONS = 18;
  private static final int METHODID_GET_USAGE = 19;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final AsyncService serviceImpl;
    private final int methodId;

    MethodHandlers(AsyncService serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_CREATE_SESSION:
          serviceImpl.createSession((dev.sessiond.v1.CreateSessionRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.CreateSessionResponse>) responseObserver);
          break;
        case METHODID_GET_SESSION:
          serviceImpl.getSession((dev.sessiond.v1.GetSessionRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.GetSessionResponse>) responseObserver);
          break;
        case METHODID_LIST_SESSIONS:
          serviceImpl.listSessions((dev.sessiond.v1.ListSessionsRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.ListSessionsResponse>) responseObserver);
          break;
        case METHODID_RESOLVE_SESSION:
          serviceImpl.resolveSession((dev.sessiond.v1.ResolveSessionRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.ResolveSessionResponse>) responseObserver);
          break;
        case METHODID_UPDATE_SESSION:
          serviceImpl.updateSession((dev.sessiond.v1.UpdateSessionRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.UpdateSessionResponse>) responseObserver);
          break;
        case METHODID_RESET_SESSION:
          serviceImpl.resetSession((dev.sessiond.v1.ResetSessionRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.ResetSessionResponse>) responseObserver);
          break;
        case METHODID_DELETE_SESSION:
          serviceImpl.deleteSession((dev.sessiond.v1.DeleteSessionRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.DeleteSessionResponse>) responseObserver);
          break;
        case METHODID_LIST_MESSAGES:
          serviceImpl.listMessages((dev.sessiond.v1.ListMessagesRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.ListMessagesResponse>) responseObserver);
          break;
        case METHODID_GET_ATTACHMENT:
          serviceImpl.getAttachment((dev.sessiond.v1.GetAttachmentRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.GetAttachmentResponse>) responseObserver);
          break;
        case METHODID_PREVIEW_SESSIONS:
          serviceImpl.previewSessions((dev.sessiond.v1.PreviewSessionsRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.PreviewSessionsResponse>) responseObserver);
          break;
        case METHODID_LIST_ARCHIVES:
          serviceImpl.listArchives((dev.sessiond.v1.ListArchivesRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.ListArchivesResponse>) responseObserver);
          break;
        case METHODID_CLEANUP_SESSIONS:
          serviceImpl.cleanupSessions((dev.sessiond.v1.CleanupSessionsRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.CleanupSessionsResponse>) responseObserver);
          break;
        case METHODID_COMPACT_SESSION:
          serviceImpl.compactSession((dev.sessiond.v1.CompactSessionRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.CompactSessionResponse>) responseObserver);
          break;
        case METHODID_LIST_CHECKPOINTS:
          serviceImpl.listCheckpoints((dev.sessiond.v1.ListCheckpointsRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.ListCheckpointsResponse>) responseObserver);
          break;
        case METHODID_GET_CHECKPOINT:
          serviceImpl.getCheckpoint((dev.sessiond.v1.GetCheckpointRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.GetCheckpointResponse>) responseObserver);
          break;
        case METHODID_BRANCH_CHECKPOINT:
          serviceImpl.branchCheckpoint((dev.sessiond.v1.BranchCheckpointRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.BranchCheckpointResponse>) responseObserver);
          break;
        case METHODID_RESTORE_CHECKPOINT:
          serviceImpl.restoreCheckpoint((dev.sessiond.v1.RestoreCheckpointRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.RestoreCheckpointResponse>) responseObserver);
          break;
        case METHODID_UPDATE_PLUGIN_STATE:
          serviceImpl.updatePluginState((dev.sessiond.v1.UpdatePluginStateRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.UpdatePluginStateResponse>) responseObserver);
          break;
        case METHODID_WATCH_SESSIONS:
          serviceImpl.watchSessions((dev.sessiond.v1.WatchSessionsRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.WatchSessionsResponse>) responseObserver);
          break;
        case METHODID_GET_USAGE:
          serviceImpl.getUsage((dev.sessiond.v1.GetUsageRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.GetUsageResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getCreateSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.CreateSessionRequest,
              dev.sessiond.v1.CreateSessionResponse>(
                service, METHODID_CREATE_SESSION)))
        .addMethod(
          getGetSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.GetSessionRequest,
              dev.sessiond.v1.GetSessionResponse>(
                service, METHODID_GET_SESSION)))
        .addMethod(
          getListSessionsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.ListSessionsRequest,
              dev.sessiond.v1.ListSessionsResponse>(
                service, METHODID_LIST_SESSIONS)))
        .addMethod(
          getResolveSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.ResolveSessionRequest,
              dev.sessiond.v1.ResolveSessionResponse>(
                service, METHODID_RESOLVE_SESSION)))
        .addMethod(
          getUpdateSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.UpdateSessionRequest,
              dev.sessiond.v1.UpdateSessionResponse>(
                service, METHODID_UPDATE_SESSION)))
        .addMethod(
          getResetSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.ResetSessionRequest,
              dev.sessiond.v1.ResetSessionResponse>(
                service, METHODID_RESET_SESSION)))
        .addMethod(
          getDeleteSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.DeleteSessionRequest,
              dev.sessiond.v1.DeleteSessionResponse>(
                service, METHODID_DELETE_SESSION)))
        .addMethod(
          getListMessagesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.ListMessagesRequest,
              dev.sessiond.v1.ListMessagesResponse>(
                service, METHODID_LIST_MESSAGES)))
        .addMethod(
          getGetAttachmentMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.GetAttachmentRequest,
              dev.sessiond.v1.GetAttachmentResponse>(
                service, METHODID_GET_ATTACHMENT)))
        .addMethod(
          getPreviewSessionsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.PreviewSessionsRequest,
              dev.sessiond.v1.PreviewSessionsResponse>(
                service, METHODID_PREVIEW_SESSIONS)))
        .addMethod(
          getListArchivesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.ListArchivesRequest,
              dev.sessiond.v1.ListArchivesResponse>(
                service, METHODID_LIST_ARCHIVES)))
        .addMethod(
          getCleanupSessionsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.CleanupSessionsRequest,
              dev.sessiond.v1.CleanupSessionsResponse>(
                service, METHODID_CLEANUP_SESSIONS)))
        .addMethod(
          getCompactSessionMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.CompactSessionRequest,
              dev.sessiond.v1.CompactSessionResponse>(
                service, METHODID_COMPACT_SESSION)))
        .addMethod(
          getListCheckpointsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.ListCheckpointsRequest,
              dev.sessiond.v1.ListCheckpointsResponse>(
                service, METHODID_LIST_CHECKPOINTS)))
        .addMethod(
          getGetCheckpointMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.GetCheckpointRequest,
              dev.sessiond.v1.GetCheckpointResponse>(
                service, METHODID_GET_CHECKPOINT)))
        .addMethod(
          getBranchCheckpointMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.BranchCheckpointRequest,
              dev.sessiond.v1.BranchCheckpointResponse>(
                service, METHODID_BRANCH_CHECKPOINT)))
        .addMethod(
          getRestoreCheckpointMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.RestoreCheckpointRequest,
              dev.sessiond.v1.RestoreCheckpointResponse>(
                service, METHODID_RESTORE_CHECKPOINT)))
        .addMethod(
          getUpdatePluginStateMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.UpdatePluginStateRequest,
              dev.sessiond.v1.UpdatePluginStateResponse>(
                service, METHODID_UPDATE_PLUGIN_STATE)))
        .addMethod(
          getWatchSessionsMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              dev.sessiond.v1.WatchSessionsRequest,
              dev.sessiond.v1.WatchSessionsResponse>(
                service, METHODID_WATCH_SESSIONS)))
        .addMethod(
          getGetUsageMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.GetUsageRequest,
              dev.sessiond.v1.GetUsageResponse>(
                service, METHODID_GET_USAGE)))
        .build();
  }

  private static abstract class SessionServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    SessionServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.sessiond.v1.SessionServiceProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("SessionService");
    }
  }

  private static final class SessionServiceFileDescriptorSupplier
      extends SessionServiceBaseDescriptorSupplier {
    SessionServiceFileDescriptorSupplier() {}
  }

  private static final class SessionServiceMethodDescriptorSupplier
      extends SessionServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    SessionServiceMethodDescriptorSupplier(java.lang.String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (SessionServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new SessionServiceFileDescriptorSupplier())
              .addMethod(getCreateSessionMethod())
              .addMethod(getGetSessionMethod())
              .addMethod(getListSessionsMethod())
              .addMethod(getResolveSessionMethod())
              .addMethod(getUpdateSessionMethod())
              .addMethod(getResetSessionMethod())
              .addMethod(getDeleteSessionMethod())
              .addMethod(getListMessagesMethod())
              .addMethod(getGetAttachmentMethod())
              .addMethod(getPreviewSessionsMethod())
              .addMethod(getListArchivesMethod())
              .addMethod(getCleanupSessionsMethod())
              .addMethod(getCompactSessionMethod())
              .addMethod(getListCheckpointsMethod())
              .addMethod(getGetCheckpointMethod())
              .addMethod(getBranchCheckpointMethod())
              .addMethod(getRestoreCheckpointMethod())
              .addMethod(getUpdatePluginStateMethod())
              .addMethod(getWatchSessionsMethod())
              .addMethod(getGetUsageMethod())
              .build();
        }
      }
    }
    return result;
  }
}
