// Command example talks to a running sessiond: it creates a session, sends a message with Chat
// and prints the reply as it streams in, then shows that a client which went away can resume
// from the last cursor it saw with WatchChat and miss nothing.
//
//	go run ./cmd/example [target] [message]
//
// target defaults to $SESSIOND_TARGET, then 127.0.0.1:50051.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	sessiondv1 "github.com/sessiond/sessiond/clients/go/gen/sessiond/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

func main() {
	target := arg(1, "SESSIOND_TARGET", "127.0.0.1:50051")
	message := arg(2, "SESSIOND_MESSAGE", "Hello from Go! sessiond streams this reply back in chunks.")
	if err := run(target, message); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func arg(i int, env, fallback string) string {
	if len(os.Args) > i && os.Args[i] != "" {
		return os.Args[i]
	}
	if v := os.Getenv(env); v != "" {
		return v
	}
	return fallback
}

func run(target, message string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	sessions := sessiondv1.NewSessionServiceClient(conn)
	chat := sessiondv1.NewChatServiceClient(conn)

	created, err := sessions.CreateSession(ctx, &sessiondv1.CreateSessionRequest{})
	if err != nil {
		return fmt.Errorf("CreateSession: %w", err)
	}
	key := created.GetSession().GetKey()
	fmt.Println("session", key)

	// 1. Chat: send the message and print the reply as it arrives.
	stream, err := chat.Chat(ctx, &sessiondv1.ChatRequest{SessionKey: key, Text: message})
	if err != nil {
		return fmt.Errorf("Chat: %w", err)
	}
	fmt.Print("reply: ")
	var reply []rune
	var cursor int64
	deltas := 0
	for {
		resp, err := stream.Recv()
		if err == io.EOF {
			return fmt.Errorf("chat stream ended before the final event")
		}
		if err != nil {
			return fmt.Errorf("Chat: %w", err)
		}
		ev := resp.GetEvent()
		cursor = max(cursor, ev.GetCursor())
		if d := ev.GetDelta(); d != nil && !d.GetThinking() {
			reply = applyDelta(reply, d)
			deltas++
			fmt.Print(d.GetText()) // printed as it arrives
			continue
		}
		if done, err := ended(ev); done {
			fmt.Println()
			if err != nil {
				return err
			}
			fmt.Printf("final cursor=%d stop_reason=%s deltas=%d\n",
				cursor, ev.GetFinal().GetStopReason(), deltas)
			break
		}
	}
	conn.Close() // the client goes away...

	// 2. ...while it is away, another message is sent (by any client: here a unary Send)...
	offline := "again: " + message
	conn2, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn2.Close()
	chat = sessiondv1.NewChatServiceClient(conn2)
	sent, err := chat.Send(ctx, &sessiondv1.SendRequest{SessionKey: key, Text: offline})
	if err != nil {
		return fmt.Errorf("Send: %w", err)
	}
	fmt.Printf("offline: sent %q run=%s\n", offline, sent.GetRunId())

	// 3. ...and on reconnect it resumes after the last cursor it saw.
	fmt.Printf("resume after_cursor=%d\n", cursor)
	watch, err := chat.WatchChat(ctx, &sessiondv1.WatchChatRequest{SessionKey: key, AfterCursor: cursor})
	if err != nil {
		return fmt.Errorf("WatchChat: %w", err)
	}
	reply = nil
	for {
		resp, err := watch.Recv()
		if err != nil {
			return fmt.Errorf("WatchChat: %w", err)
		}
		ev := resp.GetEvent()
		fmt.Printf("  cursor=%d %s\n", ev.GetCursor(), describe(ev))
		if d := ev.GetDelta(); d != nil && !d.GetThinking() {
			reply = applyDelta(reply, d)
		}
		if ev.GetRunId() != sent.GetRunId() {
			continue
		}
		if done, err := ended(ev); done {
			if err != nil {
				return err
			}
			if m := ev.GetFinal().GetMessage(); m != nil {
				reply = []rune(m.GetText())
			}
			break
		}
	}
	fmt.Println("resumed reply:", string(reply))
	return nil
}

// applyDelta puts a delta's text at its offset (in code points): offset 0 after a
// reconnect carries the whole reply so far.
func applyDelta(reply []rune, d *sessiondv1.Delta) []rune {
	off := int(d.GetOffset())
	if off > len(reply) {
		off = len(reply)
	}
	return append(reply[:off:off], []rune(d.GetText())...)
}

// ended tells whether ev ends its run, with an error unless it ended normally.
func ended(ev *sessiondv1.ChatEvent) (bool, error) {
	switch body := ev.GetBody().(type) {
	case *sessiondv1.ChatEvent_Final:
		return true, nil
	case *sessiondv1.ChatEvent_Error:
		return true, fmt.Errorf("run failed: %s", body.Error.GetErrorMessage())
	case *sessiondv1.ChatEvent_Aborted:
		return true, fmt.Errorf("run aborted: %s", body.Aborted.GetStopReason())
	}
	return false, nil
}

func describe(ev *sessiondv1.ChatEvent) string {
	switch body := ev.GetBody().(type) {
	case *sessiondv1.ChatEvent_RunStarted:
		return "run_started run=" + ev.GetRunId()
	case *sessiondv1.ChatEvent_Delta:
		return fmt.Sprintf("delta offset=%d %q", body.Delta.GetOffset(), body.Delta.GetText())
	case *sessiondv1.ChatEvent_Final:
		return fmt.Sprintf("final stop_reason=%s %q",
			body.Final.GetStopReason(), body.Final.GetMessage().GetText())
	case *sessiondv1.ChatEvent_Error:
		return "error " + body.Error.GetErrorMessage()
	case *sessiondv1.ChatEvent_Aborted:
		return "aborted " + body.Aborted.GetStopReason()
	case *sessiondv1.ChatEvent_SessionChanged:
		return "session_changed " + body.SessionChanged.GetReason().String()
	case *sessiondv1.ChatEvent_Tool:
		return "tool " + body.Tool.GetName()
	case *sessiondv1.ChatEvent_Heartbeat:
		return "heartbeat"
	case *sessiondv1.ChatEvent_Compaction:
		return "compaction"
	}
	return "unknown"
}
