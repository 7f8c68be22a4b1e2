// Talks to a running sessiond: creates a session, sends a message with Chat and prints the
// reply as it streams in, then shows that a client which went away can resume from the last
// cursor it saw with WatchChat and miss nothing.
//
//   npx tsx src/example.ts [target] [message]
//
// target defaults to $SESSIOND_TARGET, then 127.0.0.1:50051.
import { createClient, type Transport } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ChatService } from "./gen/sessiond/v1/chat_service_pb.js";
import { type ChatEvent, type Delta, SessionEventReason } from "./gen/sessiond/v1/events_pb.js";
import { SessionService } from "./gen/sessiond/v1/session_service_pb.js";

const target = process.argv[2] || process.env.SESSIOND_TARGET || "127.0.0.1:50051";
const message =
  process.argv[3] ||
  process.env.SESSIOND_MESSAGE ||
  "Hello from TypeScript! sessiond streams this reply back in chunks.";

function connect(): Transport {
  // gRPC over HTTP/2 (h2c); each transport is its own connection.
  return createGrpcTransport({ baseUrl: `http://${target}` });
}

// Puts a delta's text at its offset (in code points): offset 0 after a reconnect carries the
// whole reply so far.
function applyDelta(reply: string[], delta: Delta): string[] {
  return [...reply.slice(0, Number(delta.offset)), ...Array.from(delta.text)];
}

// Whether an event ends its run; throws unless it ended normally.
function ended(event: ChatEvent): boolean {
  switch (event.body.case) {
    case "final":
      return true;
    case "error":
      throw new Error(`run failed: ${event.body.value.errorMessage}`);
    case "aborted":
      throw new Error(`run aborted: ${event.body.value.stopReason}`);
    default:
      return false;
  }
}

function describe(event: ChatEvent): string {
  const body = event.body;
  switch (body.case) {
    case "runStarted":
      return `run_started run=${event.runId}`;
    case "delta":
      return `delta offset=${body.value.offset} ${JSON.stringify(body.value.text)}`;
    case "final":
      return `final stop_reason=${body.value.stopReason} ${JSON.stringify(body.value.message?.text ?? "")}`;
    case "error":
      return `error ${body.value.errorMessage}`;
    case "aborted":
      return `aborted ${body.value.stopReason}`;
    case "sessionChanged":
      return `session_changed ${SessionEventReason[body.value.reason]}`;
    default:
      return body.case ?? "unknown";
  }
}

async function main(): Promise<void> {
  const signal = AbortSignal.timeout(60_000);
  let transport = connect();
  const sessions = createClient(SessionService, transport);
  let chat = createClient(ChatService, transport);

  const created = await sessions.createSession({}, { signal });
  const key = created.session!.key;
  console.log("session", key);

  // 1. Chat: send the message and print the reply as it arrives.
  process.stdout.write("reply: ");
  let reply: string[] = [];
  let cursor = 0n;
  let deltas = 0;
  let finished = false;
  for await (const { event } of chat.chat({ sessionKey: key, text: message }, { signal })) {
    if (!event) continue;
    if (event.cursor > cursor) cursor = event.cursor;
    if (event.body.case === "delta" && !event.body.value.thinking) {
      reply = applyDelta(reply, event.body.value);
      deltas++;
      process.stdout.write(event.body.value.text); // printed as it arrives
      continue;
    }
    if (ended(event)) {
      const stopReason = event.body.case === "final" ? event.body.value.stopReason : "";
      process.stdout.write("\n");
      console.log(`final cursor=${cursor} stop_reason=${stopReason} deltas=${deltas}`);
      finished = true;
      break;
    }
  }
  if (!finished) throw new Error("chat stream ended before the final event");

  // 2. The client goes away; meanwhile another message is sent (by any client: a unary Send)...
  const offline = `again: ${message}`;
  transport = connect();
  chat = createClient(ChatService, transport);
  const sent = await chat.send({ sessionKey: key, text: offline }, { signal });
  console.log(`offline: sent ${JSON.stringify(offline)} run=${sent.runId}`);

  // 3. ...and on reconnect it resumes after the last cursor it saw.
  console.log(`resume after_cursor=${cursor}`);
  reply = [];
  const watch = chat.watchChat({ sessionKey: key, afterCursor: cursor }, { signal });
  for await (const { event } of watch) {
    if (!event) continue;
    console.log(`  cursor=${event.cursor} ${describe(event)}`);
    if (event.body.case === "delta" && !event.body.value.thinking) {
      reply = applyDelta(reply, event.body.value);
    }
    if (event.runId !== sent.runId) continue;
    if (ended(event)) {
      if (event.body.case === "final" && event.body.value.message) {
        reply = Array.from(event.body.value.message.text);
      }
      break; // leaving the loop cancels the stream
    }
  }
  console.log(`resumed reply: ${reply.join("")}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error("error:", err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
