// Command nbhd-floor is bench-england's yardstick for warm tiles. It copies
// the answers a running nbhd gives to a list of paths, with and without
// gzip, headers included, and serves the same bytes from memory with bare
// net/http: no router, no middleware, no cache lookup, no deadlines. Run
// beside nbhd with the same load, its rate is what Go's HTTP server and the
// kernel allow on the machine for exactly those responses, and the gap to
// nbhd's is what nbhd's own code costs.
//
//	nbhd-floor --from http://127.0.0.1:PORT [--addr 127.0.0.1:0] LIST...
//
// Each LIST holds one path per line. It prints "nbhd-floor is serving on
// http://ADDR" once the copies are made and serves until interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nbhd-floor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "base URL of the nbhd whose answers are copied")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *from == "" || fs.NArg() == 0 {
		fmt.Fprintln(stderr, "usage: nbhd-floor --from URL [--addr HOST:PORT] LIST...")
		return 2
	}
	f, err := copyAll(ctx, *from, fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "nbhd-floor: %v\n", err)
		return 1
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "nbhd-floor: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(stdout, "nbhd-floor is serving on http://%s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(stderr, "nbhd-floor: %v\n", err)
		return 1
	}
	return 0
}
