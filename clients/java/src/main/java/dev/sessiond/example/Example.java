package dev.sessiond.example;

import dev.sessiond.v1.ChatEvent;
import dev.sessiond.v1.ChatRequest;
import dev.sessiond.v1.ChatResponse;
import dev.sessiond.v1.ChatServiceGrpc;
import dev.sessiond.v1.CreateSessionRequest;
import dev.sessiond.v1.Delta;
import dev.sessiond.v1.SendRequest;
import dev.sessiond.v1.SendResponse;
import dev.sessiond.v1.SessionServiceGrpc;
import dev.sessiond.v1.WatchChatRequest;
import dev.sessiond.v1.WatchChatResponse;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * Talks to a running sessiond: creates a session, sends a message with Chat and prints the
 * reply as it streams in, then shows that a client which went away can resume from the last
 * cursor it saw with WatchChat and miss nothing.
 *
 * <pre>mvn -q compile exec:java -Dexec.args="[target] [message]"</pre>
 *
 * target defaults to $SESSIOND_TARGET, then 127.0.0.1:50051.
 */
public final class Example {
  private Example() {}

  public static void main(String[] args) throws Exception {
    String target = arg(args, 0, "SESSIOND_TARGET", "127.0.0.1:50051");
    String message =
        arg(args, 1, "SESSIOND_MESSAGE", "Hello from Java! sessiond streams this reply back in chunks.");
    try {
      run(target, message);
    } catch (Exception e) {
      System.err.println("error: " + e);
      System.exit(1);
    }
  }

  private static String arg(String[] args, int i, String env, String fallback) {
    if (args.length > i && !args[i].isEmpty()) {
      return args[i];
    }
    String value = System.getenv(env);
    return value != null && !value.isEmpty() ? value : fallback;
  }

  private static ManagedChannel connect(String target) {
    return Grpc.newChannelBuilder(target, InsecureChannelCredentials.create()).build();
  }

  private static void run(String target, String message) throws Exception {
    ManagedChannel channel = connect(target);
    var sessions = SessionServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    var chat = ChatServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);

    String key = sessions.createSession(CreateSessionRequest.getDefaultInstance()).getSession().getKey();
    System.out.println("session " + key);

    // 1. Chat: send the message and print the reply as it arrives.
    System.out.print("reply: ");
    System.out.flush();
    StringBuilder reply = new StringBuilder();
    long cursor = 0;
    int deltas = 0;
    boolean finished = false;
    Iterator<ChatResponse> stream =
        chat.chat(ChatRequest.newBuilder().setSessionKey(key).setText(message).build());
    while (stream.hasNext()) {
      ChatEvent event = stream.next().getEvent();
      cursor = Math.max(cursor, event.getCursor());
      if (event.hasDelta() && !event.getDelta().getThinking()) {
        applyDelta(reply, event.getDelta());
        deltas++;
        System.out.print(event.getDelta().getText()); // printed as it arrives
        System.out.flush();
        continue;
      }
      if (ended(event)) {
        System.out.println();
        System.out.printf(
            "final cursor=%d stop_reason=%s deltas=%d%n",
            cursor, event.getFinal().getStopReason(), deltas);
        finished = true;
        break;
      }
    }
    if (!finished) {
      throw new IllegalStateException("chat stream ended before the final event");
    }
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS); // the client goes away...

    // 2. ...while it is away, another message is sent (by any client: here a unary Send)...
    String offline = "again: " + message;
    channel = connect(target);
    chat = ChatServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    SendResponse sent = chat.send(SendRequest.newBuilder().setSessionKey(key).setText(offline).build());
    System.out.printf("offline: sent \"%s\" run=%s%n", offline, sent.getRunId());

    // 3. ...and on reconnect it resumes after the last cursor it saw. WatchChat follows the
    // session forever, so the call runs in a context that is cancelled once the run has ended.
    System.out.printf("resume after_cursor=%d%n", cursor);
    reply.setLength(0);
    try (Context.CancellableContext watching = Context.current().withCancellation()) {
      Context previous = watching.attach();
      try {
        Iterator<WatchChatResponse> watch =
            chat.watchChat(
                WatchChatRequest.newBuilder().setSessionKey(key).setAfterCursor(cursor).build());
        while (watch.hasNext()) {
          ChatEvent event = watch.next().getEvent();
          System.out.printf("  cursor=%d %s%n", event.getCursor(), describe(event));
          if (event.hasDelta() && !event.getDelta().getThinking()) {
            applyDelta(reply, event.getDelta());
          }
          if (!event.getRunId().equals(sent.getRunId())) {
            continue;
          }
          if (ended(event)) {
            if (event.getFinal().hasMessage()) {
              reply.setLength(0);
              reply.append(event.getFinal().getMessage().getText());
            }
            break;
          }
        }
      } finally {
        watching.detach(previous);
      }
    }
    System.out.println("resumed reply: " + reply);
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  /** Puts a delta's text at its offset, counted in code points. */
  private static void applyDelta(StringBuilder reply, Delta delta) {
    int points = reply.codePointCount(0, reply.length());
    int offset = (int) Math.min(delta.getOffset(), points);
    reply.setLength(reply.offsetByCodePoints(0, offset));
    reply.append(delta.getText());
  }

  /** Whether an event ends its run; throws unless it ended normally. */
  private static boolean ended(ChatEvent event) {
    switch (event.getBodyCase()) {
      case FINAL:
        return true;
      case ERROR:
        throw new IllegalStateException("run failed: " + event.getError().getErrorMessage());
      case ABORTED:
        throw new IllegalStateException("run aborted: " + event.getAborted().getStopReason());
      default:
        return false;
    }
  }

  private static String describe(ChatEvent event) {
    switch (event.getBodyCase()) {
      case RUN_STARTED:
        return "run_started run=" + event.getRunId();
      case DELTA:
        return "delta offset=" + event.getDelta().getOffset() + " \"" + event.getDelta().getText() + "\"";
      case FINAL:
        return "final stop_reason="
            + event.getFinal().getStopReason()
            + " \""
            + event.getFinal().getMessage().getText()
            + "\"";
      case ERROR:
        return "error " + event.getError().getErrorMessage();
      case ABORTED:
        return "aborted " + event.getAborted().getStopReason();
      case SESSION_CHANGED:
        return "session_changed " + event.getSessionChanged().getReason();
      default:
        return event.getBodyCase().name().toLowerCase();
    }
  }
}
