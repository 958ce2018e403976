// Command smlocal runs the local Secrets Manager emulator (package
// github.com/dbvault/dbvault/functions/rotator/smlocal) on an address:
//
//	go run ./tools/cmd/smlocal -addr 127.0.0.1:4566 [-state FILE] [-lambda-endpoint URL]
//
// It is for tests and local use only: it verifies no signature, so anyone
// who reaches it reads every secret. -addr must be a loopback address
// (127.0.0.0/8, ::1, localhost) unless -allow-non-loopback is given.
//
// It prints exactly one line, "listening on http://ADDR", once it accepts
// connections, and serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/dbvault/dbvault/functions/rotator/smlocal"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "smlocal:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("smlocal", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:4566", "address to listen on (host:port; port 0 picks a free one)")
	state := fs.String("state", "", "JSON state file, loaded at start and rewritten atomically after each change (default: in memory)")
	lambda := fs.String("lambda-endpoint", "", "base URL of a Lambda Runtime Interface Emulator that runs the rotation function, e.g. http://127.0.0.1:9000")
	region := fs.String("region", "us-east-1", "region in the ARNs")
	account := fs.String("account", "123456789012", "account id in the ARNs")
	remote := fs.Bool("allow-non-loopback", false, "allow an -addr that is not a loopback address (the emulator verifies no signature: anyone who reaches it reads every secret)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !*remote && !loopback(*addr) {
		return fmt.Errorf("-addr %s is not a loopback address; the emulator is for tests and local use only (it verifies no signature, so anyone who reaches it reads every secret). Use 127.0.0.1:PORT, or add -allow-non-loopback if you mean it", *addr)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	opts := smlocal.Options{
		Region: *region, Account: *account, StatePath: *state,
		Logger: slog.New(slog.NewJSONHandler(os.Stderr, nil)),
	}
	if *lambda != "" {
		opts.Rotator = smlocal.LambdaEndpoint(*lambda)
	}
	srv, err := smlocal.New(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Printf("listening on http://%s\n", ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loopback reports whether addr (host:port) listens on loopback only: an
// IP in 127.0.0.0/8 or ::1, or "localhost". An empty host (all
// interfaces) is not.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
