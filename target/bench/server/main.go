// Command server is the trivial loopback HTTP server the benchmarks in
// target/bench aim at: every request gets 200 and a two-byte body. With
// -stall-after and -stall-for it stops answering once, for a while, to
// show coordinated omission. It listens on loopback only and exits after
// -max-run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	stallAfter := flag.Duration("stall-after", 0, "stall once, this long after the first request (0: never)")
	stallFor := flag.Duration("stall-for", time.Second, "how long the stall lasts")
	maxRun := flag.Duration("max-run", 15*time.Minute, "exit after this long")
	h2c := flag.Bool("h2c", false, "also accept HTTP/2 without TLS")
	flag.Parse()

	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		log.Fatalf("server: -addr %s is not a loopback address", *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("server: %v", err)
	}
	fmt.Println(ln.Addr().String()) // the benchmark script reads the port from here
	os.Stdout.Sync()

	var (
		once       sync.Once
		stallStart time.Time
		stallEnd   time.Time
	)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if *stallAfter > 0 {
			once.Do(func() {
				stallStart = time.Now().Add(*stallAfter)
				stallEnd = stallStart.Add(*stallFor)
			})
			if now := time.Now(); now.After(stallStart) && now.Before(stallEnd) {
				time.Sleep(time.Until(stallEnd))
			}
		}
		w.Write([]byte("ok"))
	})
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	if *h2c {
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *maxRun)
	defer cancel()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("server: %v", err)
	}
}
