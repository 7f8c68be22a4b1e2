package dev.sessiond.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Sends messages, runs agent replies and streams their events.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class ChatServiceGrpc {

  private ChatServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "sessiond.v1.ChatService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.SendRequest,
      dev.sessiond.v1.SendResponse> getSendMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Send",
      requestType = dev.sessiond.v1.SendRequest.class,
      responseType = dev.sessiond.v1.SendResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.SendRequest,
      dev.sessiond.v1.SendResponse> getSendMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.SendRequest, dev.sessiond.v1.SendResponse> getSendMethod;
    if ((getSendMethod = ChatServiceGrpc.getSendMethod) == null) {
      synchronized (ChatServiceGrpc.class) {
        if ((getSendMethod = ChatServiceGrpc.getSendMethod) == null) {
          ChatServiceGrpc.getSendMethod = getSendMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.SendRequest, dev.sessiond.v1.SendResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Send"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.SendRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.SendResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChatServiceMethodDescriptorSupplier("Send"))
              .build();
        }
      }
    }
    return getSendMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.SteerRequest,
      dev.sessiond.v1.SteerResponse> getSteerMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Steer",
      requestType = dev.sessiond.v1.SteerRequest.class,
      responseType = dev.sessiond.v1.SteerResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.SteerRequest,
      dev.sessiond.v1.SteerResponse> getSteerMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.SteerRequest, dev.sessiond.v1.SteerResponse> getSteerMethod;
    if ((getSteerMethod = ChatServiceGrpc.getSteerMethod) == null) {
      synchronized (ChatServiceGrpc.class) {
        if ((getSteerMethod = ChatServiceGrpc.getSteerMethod) == null) {
          ChatServiceGrpc.getSteerMethod = getSteerMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.SteerRequest, dev.sessiond.v1.SteerResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Steer"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.SteerRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.SteerResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChatServiceMethodDescriptorSupplier("Steer"))
              .build();
        }
      }
    }
    return getSteerMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.AbortRequest,
      dev.sessiond.v1.AbortResponse> getAbortMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Abort",
      requestType = dev.sessiond.v1.AbortRequest.class,
      responseType = dev.sessiond.v1.AbortResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.AbortRequest,
      dev.sessiond.v1.AbortResponse> getAbortMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.AbortRequest, dev.sessiond.v1.AbortResponse> getAbortMethod;
    if ((getAbortMethod = ChatServiceGrpc.getAbortMethod) == null) {
      synchronized (ChatServiceGrpc.class) {
        if ((getAbortMethod = ChatServiceGrpc.getAbortMethod) == null) {
          ChatServiceGrpc.getAbortMethod = getAbortMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.AbortRequest, dev.sessiond.v1.AbortResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Abort"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.AbortRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.AbortResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChatServiceMethodDescriptorSupplier("Abort"))
              .build();
        }
      }
    }
    return getAbortMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.ChatRequest,
      dev.sessiond.v1.ChatResponse> getChatMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Chat",
      requestType = dev.sessiond.v1.ChatRequest.class,
      responseType = dev.sessiond.v1.ChatResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.ChatRequest,
      dev.sessiond.v1.ChatResponse> getChatMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.ChatRequest, dev.sessiond.v1.ChatResponse> getChatMethod;
    if ((getChatMethod = ChatServiceGrpc.getChatMethod) == null) {
      synchronized (ChatServiceGrpc.class) {
        if ((getChatMethod = ChatServiceGrpc.getChatMethod) == null) {
          ChatServiceGrpc.getChatMethod = getChatMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.ChatRequest, dev.sessiond.v1.ChatResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Chat"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ChatRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ChatResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChatServiceMethodDescriptorSupplier("Chat"))
              .build();
        }
      }
    }
    return getChatMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.WatchChatRequest,
      dev.sessiond.v1.WatchChatResponse> getWatchChatMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchChat",
      requestType = dev.sessiond.v1.WatchChatRequest.class,
      responseType = dev.sessiond.v1.WatchChatResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.WatchChatRequest,
      dev.sessiond.v1.WatchChatResponse> getWatchChatMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.WatchChatRequest, dev.sessiond.v1.WatchChatResponse> getWatchChatMethod;
    if ((getWatchChatMethod = ChatServiceGrpc.getWatchChatMethod) == null) {
      synchronized (ChatServiceGrpc.class) {
        if ((getWatchChatMethod = ChatServiceGrpc.getWatchChatMethod) == null) {
          ChatServiceGrpc.getWatchChatMethod = getWatchChatMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.WatchChatRequest, dev.sessiond.v1.WatchChatResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchChat"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.WatchChatRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.WatchChatResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChatServiceMethodDescriptorSupplier("WatchChat"))
              .build();
        }
      }
    }
    return getWatchChatMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.GetRunRequest,
      dev.sessiond.v1.GetRunResponse> getGetRunMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetRun",
      requestType = dev.sessiond.v1.GetRunRequest.class,
      responseType = dev.sessiond.v1.GetRunResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.GetRunRequest,
      dev.sessiond.v1.GetRunResponse> getGetRunMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.GetRunRequest, dev.sessiond.v1.GetRunResponse> getGetRunMethod;
    if ((getGetRunMethod = ChatServiceGrpc.getGetRunMethod) == null) {
      synchronized (ChatServiceGrpc.class) {
        if ((getGetRunMethod = ChatServiceGrpc.getGetRunMethod) == null) {
          ChatServiceGrpc.getGetRunMethod = getGetRunMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.GetRunRequest, dev.sessiond.v1.GetRunResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetRun"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.GetRunRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.GetRunResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChatServiceMethodDescriptorSupplier("GetRun"))
              .build();
        }
      }
    }
    return getGetRunMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.WaitRunRequest,
      dev.sessiond.v1.WaitRunResponse> getWaitRunMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WaitRun",
      requestType = dev.sessiond.v1.WaitRunRequest.class,
      responseType = dev.sessiond.v1.WaitRunResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.WaitRunRequest,
      dev.sessiond.v1.WaitRunResponse> getWaitRunMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.WaitRunRequest, dev.sessiond.v1.WaitRunResponse> getWaitRunMethod;
    if ((getWaitRunMethod = ChatServiceGrpc.getWaitRunMethod) == null) {
      synchronized (ChatServiceGrpc.class) {
        if ((getWaitRunMethod = ChatServiceGrpc.getWaitRunMethod) == null) {
          ChatServiceGrpc.getWaitRunMethod = getWaitRunMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.WaitRunRequest, dev.sessiond.v1.WaitRunResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WaitRun"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.WaitRunRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.WaitRunResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChatServiceMethodDescriptorSupplier("WaitRun"))
              .build();
        }
      }
    }
    return getWaitRunMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.ListRunsRequest,
      dev.sessiond.v1.ListRunsResponse> getListRunsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListRuns",
      requestType = dev.sessiond.v1.ListRunsRequest.class,
      responseType = dev.sessiond.v1.ListRunsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.ListRunsRequest,
      dev.sessiond.v1.ListRunsResponse> getListRunsMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.ListRunsRequest, dev.sessiond.v1.ListRunsResponse> getListRunsMethod;
    if ((getListRunsMethod = ChatServiceGrpc.getListRunsMethod) == null) {
      synchronized (ChatServiceGrpc.class) {
        if ((getListRunsMethod = ChatServiceGrpc.getListRunsMethod) == null) {
          ChatServiceGrpc.getListRunsMethod = getListRunsMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.ListRunsRequest, dev.sessiond.v1.ListRunsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListRuns"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ListRunsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.ListRunsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChatServiceMethodDescriptorSupplier("ListRuns"))
              .build();
        }
      }
    }
    return getListRunsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.sessiond.v1.InjectMessageRequest,
      dev.sessiond.v1.InjectMessageResponse> getInjectMessageMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "InjectMessage",
      requestType = dev.sessiond.v1.InjectMessageRequest.class,
      responseType = dev.sessiond.v1.InjectMessageResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.sessiond.v1.InjectMessageRequest,
      dev.sessiond.v1.InjectMessageResponse> getInjectMessageMethod() {
    io.grpc.MethodDescriptor<dev.sessiond.v1.InjectMessageRequest, dev.sessiond.v1.InjectMessageResponse> getInjectMessageMethod;
    if ((getInjectMessageMethod = ChatServiceGrpc.getInjectMessageMethod) == null) {
      synchronized (ChatServiceGrpc.class) {
        if ((getInjectMessageMethod = ChatServiceGrpc.getInjectMessageMethod) == null) {
          ChatServiceGrpc.getInjectMessageMethod = getInjectMessageMethod =
              io.grpc.MethodDescriptor.<dev.sessiond.v1.InjectMessageRequest, dev.sessiond.v1.InjectMessageResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "InjectMessage"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.InjectMessageRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.sessiond.v1.InjectMessageResponse.getDefaultInstance()))
              .setSchemaDescriptor(new ChatServiceMethodDescriptorSupplier("InjectMessage"))
              .build();
        }
      }
    }
    return getInjectMessageMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static ChatServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ChatServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ChatServiceStub>() {
        @java.lang.Override
        public ChatServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ChatServiceStub(channel, callOptions);
        }
      };
    return ChatServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static ChatServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ChatServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ChatServiceBlockingV2Stub>() {
        @java.lang.Override
        public ChatServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ChatServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return ChatServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static ChatServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ChatServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ChatServiceBlockingStub>() {
        @java.lang.Override
        public ChatServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ChatServiceBlockingStub(channel, callOptions);
        }
      };
    return ChatServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static ChatServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<ChatServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<ChatServiceFutureStub>() {
        @java.lang.Override
        public ChatServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new ChatServiceFutureStub(channel, callOptions);
        }
      };
    return ChatServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Sends messages, runs agent replies and streams their events.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Stores a user message and starts (or queues) a run.
     * </pre>
     */
    default void send(dev.sessiond.v1.SendRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.SendResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSendMethod(), responseObserver);
    }

    /**
     * <pre>
     * Interrupts the active run, then sends as Send does.
     * </pre>
     */
    default void steer(dev.sessiond.v1.SteerRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.SteerResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSteerMethod(), responseObserver);
    }

    /**
     * <pre>
     * Stops the active run (or a queued one) of a session.
     * </pre>
     */
    default void abort(dev.sessiond.v1.AbortRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.AbortResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getAbortMethod(), responseObserver);
    }

    /**
     * <pre>
     * Sends and streams that run's events until it ends.
     * </pre>
     */
    default void chat(dev.sessiond.v1.ChatRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ChatResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getChatMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams every event of one session, resumable by cursor.
     * </pre>
     */
    default void watchChat(dev.sessiond.v1.WatchChatRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.WatchChatResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchChatMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns a run's state.
     * </pre>
     */
    default void getRun(dev.sessiond.v1.GetRunRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.GetRunResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetRunMethod(), responseObserver);
    }

    /**
     * <pre>
     * Waits until a run ends or the timeout passes.
     * </pre>
     */
    default void waitRun(dev.sessiond.v1.WaitRunRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.WaitRunResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWaitRunMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists a session's runs, newest first.
     * </pre>
     */
    default void listRuns(dev.sessiond.v1.ListRunsRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ListRunsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListRunsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Appends an assistant message to a transcript without a run.
     * </pre>
     */
    default void injectMessage(dev.sessiond.v1.InjectMessageRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.InjectMessageResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getInjectMessageMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service ChatService.
   * <pre>
   * Sends messages, runs agent replies and streams their events.
   * </pre>
   */
  public static abstract class ChatServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return ChatServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service ChatService.
   * <pre>
   * Sends messages, runs agent replies and streams their events.
   * </pre>
   */
  public static final class ChatServiceStub
      extends io.grpc.stub.AbstractAsyncStub<ChatServiceStub> {
    private ChatServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ChatServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ChatServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Stores a user message and starts (or queues) a run.
     * </pre>
     */
    public void send(dev.sessiond.v1.SendRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.SendResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSendMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Interrupts the active run, then sends as Send does.
     * </pre>
     */
    public void steer(dev.sessiond.v1.SteerRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.SteerResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSteerMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Stops the active run (or a queued one) of a session.
     * </pre>
     */
    public void abort(dev.sessiond.v1.AbortRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.AbortResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getAbortMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Sends and streams that run's events until it ends.
     * </pre>
     */
    public void chat(dev.sessiond.v1.ChatRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ChatResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getChatMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Streams every event of one session, resumable by cursor.
     * </pre>
     */
    public void watchChat(dev.sessiond.v1.WatchChatRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.WatchChatResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchChatMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns a run's state.
     * </pre>
     */
    public void getRun(dev.sessiond.v1.GetRunRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.GetRunResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetRunMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Waits until a run ends or the timeout passes.
     * </pre>
     */
    public void waitRun(dev.sessiond.v1.WaitRunRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.WaitRunResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getWaitRunMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists a session's runs, newest first.
     * </pre>
     */
    public void listRuns(dev.sessiond.v1.ListRunsRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.ListRunsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListRunsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Appends an assistant message to a transcript without a run.
     * </pre>
     */
    public void injectMessage(dev.sessiond.v1.InjectMessageRequest request,
        io.grpc.stub.StreamObserver<dev.sessiond.v1.InjectMessageResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getInjectMessageMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service ChatService.
   * <pre>
   * Sends messages, runs agent replies and streams their events.
   * </pre>
   */
  public static final class ChatServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<ChatServiceBlockingV2Stub> {
    private ChatServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ChatServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ChatServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Stores a user message and starts (or queues) a run.
     * </pre>
     */
    public dev.sessiond.v1.SendResponse send(dev.sessiond.v1.SendRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getSendMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Interrupts the active run, then sends as Send does.
     * </pre>
     */
    public dev.sessiond.v1.SteerResponse steer(dev.sessiond.v1.SteerRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getSteerMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Stops the active run (or a queued one) of a session.
     * </pre>
     */
    public dev.sessiond.v1.AbortResponse abort(dev.sessiond.v1.AbortRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getAbortMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sends and streams that run's events until it ends.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, dev.sessiond.v1.ChatResponse>
        chat(dev.sessiond.v1.ChatRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getChatMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams every event of one session, resumable by cursor.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, dev.sessiond.v1.WatchChatResponse>
        watchChat(dev.sessiond.v1.WatchChatRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getWatchChatMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns a run's state.
     * </pre>
     */
    public dev.sessiond.v1.GetRunResponse getRun(dev.sessiond.v1.GetRunRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetRunMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Waits until a run ends or the timeout passes.
     * </pre>
     */
    public dev.sessiond.v1.WaitRunResponse waitRun(dev.sessiond.v1.WaitRunRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getWaitRunMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists a session's runs, newest first.
     * </pre>
     */
    public dev.sessiond.v1.ListRunsResponse listRuns(dev.sessiond.v1.ListRunsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListRunsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Appends an assistant message to a transcript without a run.
     * </pre>
     */
    public dev.sessiond.v1.InjectMessageResponse injectMessage(dev.sessiond.v1.InjectMessageRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getInjectMessageMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service ChatService.
   * <pre>
   * Sends messages, runs agent replies and streams their events.
   * </pre>
   */
  public static final class ChatServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<ChatServiceBlockingStub> {
    private ChatServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ChatServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ChatServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Stores a user message and starts (or queues) a run.
     * </pre>
     */
    public dev.sessiond.v1.SendResponse send(dev.sessiond.v1.SendRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSendMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Interrupts the active run, then sends as Send does.
     * </pre>
     */
    public dev.sessiond.v1.SteerResponse steer(dev.sessiond.v1.SteerRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSteerMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Stops the active run (or a queued one) of a session.
     * </pre>
     */
    public dev.sessiond.v1.AbortResponse abort(dev.sessiond.v1.AbortRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAbortMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sends and streams that run's events until it ends.
     * </pre>
     */
    public java.util.Iterator<dev.sessiond.v1.ChatResponse> chat(
        dev.sessiond.v1.ChatRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getChatMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams every event of one session, resumable by cursor.
     * </pre>
     */
    public java.util.Iterator<dev.sessiond.v1.WatchChatResponse> watchChat(
        dev.sessiond.v1.WatchChatRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchChatMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns a run's state.
     * </pre>
     */
    public dev.sessiond.v1.GetRunResponse getRun(dev.sessiond.v1.GetRunRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetRunMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Waits until a run ends or the timeout passes.
     * </pre>
     */
    public dev.sessiond.v1.WaitRunResponse waitRun(dev.sessiond.v1.WaitRunRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getWaitRunMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists a session's runs, newest first.
     * </pre>
     */
    public dev.sessiond.v1.ListRunsResponse listRuns(dev.sessiond.v1.ListRunsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListRunsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Appends an assistant message to a transcript without a run.
     * </pre>
     */
    public dev.sessiond.v1.InjectMessageResponse injectMessage(dev.sessiond.v1.InjectMessageRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getInjectMessageMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service ChatService.
   * <pre>
   * Sends messages, runs agent replies and streams their events.
   * </pre>
   */
  public static final class ChatServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<ChatServiceFutureStub> {
    private ChatServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected ChatServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new ChatServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Stores a user message and starts (or queues) a run.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.SendResponse> send(
        dev.sessiond.v1.SendRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSendMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Interrupts the active run, then sends as Send does.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.SteerResponse> steer(
        dev.sessiond.v1.SteerRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSteerMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Stops the active run (or a queued one) of a session.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.AbortResponse> abort(
        dev.sessiond.v1.AbortRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getAbortMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns a run's state.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.GetRunResponse> getRun(
        dev.sessiond.v1.GetRunRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetRunMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Waits until a run ends or the timeout passes.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.WaitRunResponse> waitRun(
        dev.sessiond.v1.WaitRunRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getWaitRunMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists a session's runs, newest first.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.ListRunsResponse> listRuns(
        dev.sessiond.v1.ListRunsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListRunsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Appends an assistant message to a transcript without a run.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.sessiond.v1.InjectMessageResponse> injectMessage(
        dev.sessiond.v1.InjectMessageRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getInjectMessageMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_SEND = 0;
  private static final int METHODID_STEER = 1;
  private static final int METHODID_ABORT = 2;
  private static final int METHODID_CHAT = 3;
  private static final int METHODID_WATCH_CHAT = 4;
  private static final int METHODID_GET_RUN = 5;
  private static final int METHODID_WAIT_RUN = 6;
  private static final int METHODID_LIST_RUNS = 7;
  private static final int METHODID_INJECT_MESSAGE = 8;

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
        case METHODID_SEND:
          serviceImpl.send((dev.sessiond.v1.SendRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.SendResponse>) responseObserver);
          break;
        case METHODID_STEER:
          serviceImpl.steer((dev.sessiond.v1.SteerRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.SteerResponse>) responseObserver);
          break;
        case METHODID_ABORT:
          serviceImpl.abort((dev.sessiond.v1.AbortRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.AbortResponse>) responseObserver);
          break;
        case METHODID_CHAT:
          serviceImpl.chat((dev.sessiond.v1.ChatRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.ChatResponse>) responseObserver);
          break;
        case METHODID_WATCH_CHAT:
          serviceImpl.watchChat((dev.sessiond.v1.WatchChatRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.WatchChatResponse>) responseObserver);
          break;
        case METHODID_GET_RUN:
          serviceImpl.getRun((dev.sessiond.v1.GetRunRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.GetRunResponse>) responseObserver);
          break;
        case METHODID_WAIT_RUN:
          serviceImpl.waitRun((dev.sessiond.v1.WaitRunRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.WaitRunResponse>) responseObserver);
          break;
        case METHODID_LIST_RUNS:
          serviceImpl.listRuns((dev.sessiond.v1.ListRunsRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.ListRunsResponse>) responseObserver);
          break;
        case METHODID_INJECT_MESSAGE:
          serviceImpl.injectMessage((dev.sessiond.v1.InjectMessageRequest) request,
              (io.grpc.stub.StreamObserver<dev.sessiond.v1.InjectMessageResponse>) responseObserver);
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
          getSendMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.SendRequest,
              dev.sessiond.v1.SendResponse>(
                service, METHODID_SEND)))
        .addMethod(
          getSteerMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.SteerRequest,
              dev.sessiond.v1.SteerResponse>(
                service, METHODID_STEER)))
        .addMethod(
          getAbortMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.AbortRequest,
              dev.sessiond.v1.AbortResponse>(
                service, METHODID_ABORT)))
        .addMethod(
          getChatMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              dev.sessiond.v1.ChatRequest,
              dev.sessiond.v1.ChatResponse>(
                service, METHODID_CHAT)))
        .addMethod(
          getWatchChatMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              dev.sessiond.v1.WatchChatRequest,
              dev.sessiond.v1.WatchChatResponse>(
                service, METHODID_WATCH_CHAT)))
        .addMethod(
          getGetRunMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.GetRunRequest,
              dev.sessiond.v1.GetRunResponse>(
                service, METHODID_GET_RUN)))
        .addMethod(
          getWaitRunMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.WaitRunRequest,
              dev.sessiond.v1.WaitRunResponse>(
                service, METHODID_WAIT_RUN)))
        .addMethod(
          getListRunsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.ListRunsRequest,
              dev.sessiond.v1.ListRunsResponse>(
                service, METHODID_LIST_RUNS)))
        .addMethod(
          getInjectMessageMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.sessiond.v1.InjectMessageRequest,
              dev.sessiond.v1.InjectMessageResponse>(
                service, METHODID_INJECT_MESSAGE)))
        .build();
  }

  private static abstract class ChatServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    ChatServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.sessiond.v1.ChatServiceProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("ChatService");
    }
  }

  private static final class ChatServiceFileDescriptorSupplier
      extends ChatServiceBaseDescriptorSupplier {
    ChatServiceFileDescriptorSupplier() {}
  }

  private static final class ChatServiceMethodDescriptorSupplier
      extends ChatServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    ChatServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (ChatServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new ChatServiceFileDescriptorSupplier())
              .addMethod(getSendMethod())
              .addMethod(getSteerMethod())
              .addMethod(getAbortMethod())
              .addMethod(getChatMethod())
              .addMethod(getWatchChatMethod())
              .addMethod(getGetRunMethod())
              .addMethod(getWaitRunMethod())
              .addMethod(getListRunsMethod())
              .addMethod(getInjectMessageMethod())
              .build();
        }
      }
    }
    return result;
  }
}
