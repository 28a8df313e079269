package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/abusesim/abusesim/scenarios"
	"github.com/abusesim/abusesim/target"
	"github.com/abusesim/abusesim/target/harness"
)

type attackOptions struct {
	url         string
	rate        string
	duration    time.Duration
	connections int
	concurrency int
	method      string
	headers     []string
	bodyFile    string
	out         string
	allowHosts  []string
	protocol    string
	insecure    bool
	timeout     time.Duration
	shard       string
	maxLate     time.Duration
	raw         string

	stdout, stderr io.Writer
	now            func() time.Time
}

func newAttackCmd(stdout, stderr io.Writer) *cobra.Command {
	opts := &attackOptions{stdout: stdout, stderr: stderr, now: time.Now}
	cmd := &cobra.Command{
		Use:   "attack --url URL --rate R --duration D",
		Short: "Send ad-hoc load at one URL and record it like a scenario run",
		Long: `Attack sends requests to one URL on an open-loop schedule (or, with --rate 0,
as fast as --concurrency clients can go) and writes the same results as run:
summary.json (one profile and one class, both "attack"), attack/traffic.csv
and attack/latency.hlog (HdrHistogram interval log). Latency is measured from
each request's intended start, so a stalling server cannot hide.

The URL is a template: {{randid}}, {{seq}} or {{uuid}} in it vary each request.
URLs outside loopback are refused unless --allow-host names their host.`,
		Example: `  # 10,000 req/s for 30 s at a local server
  abusesim attack --url http://127.0.0.1:8080/items/1 --rate 10000 --duration 30s

  # As fast as 64 clients can go, over at most 16 connections
  abusesim attack --url http://127.0.0.1:8080/ --rate 0 --concurrency 64 --connections 16 --duration 10s

  # 600 writes a minute with a body and a header
  abusesim attack --url http://127.0.0.1:8080/record --method POST --body event.json \
    --header 'X-Api-Key: k1' --rate 600/m --duration 1m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAttack(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.url, "url", "", "target URL (required)")
	f.StringVar(&opts.rate, "rate", "", fmt.Sprintf("requests per second, at most %d: 10000, or with a unit, 600/m; "+
		"0 with --concurrency for as fast as possible (required)", scenarios.MaxRPS))
	f.DurationVar(&opts.duration, "duration", 0, "how long to send (required)")
	f.IntVar(&opts.connections, "connections", 0, "cap on open connections (default no cap)")
	f.IntVar(&opts.concurrency, "concurrency", 0,
		"requests in flight at most (default 512); with --rate 0, the number of clients, and then required")
	f.StringVar(&opts.method, "method", "GET", "HTTP method")
	f.StringArrayVar(&opts.headers, "header", nil, "request header \"Name: value\" (repeatable)")
	f.StringVar(&opts.bodyFile, "body", "", "file whose content is the request body")
	f.StringVar(&opts.out, "out", "", "output folder (default results/<UTC time>-attack/)")
	f.StringSliceVar(&opts.allowHosts, "allow-host", nil, "non-loopback host that may be targeted (repeatable)")
	f.StringVar(&opts.protocol, "protocol", "http1", "http1, h2c (HTTP/2 without TLS) or h2 (HTTP/2 over TLS)")
	f.BoolVar(&opts.insecure, "insecure", false, "do not verify the server's TLS certificate")
	f.DurationVar(&opts.timeout, "timeout", 0, "per-request timeout (default 5s)")
	f.DurationVar(&opts.maxLate, "max-lateness", 0, "how long a due request may wait for a free worker before it is dropped (default 1s)")
	f.StringVar(&opts.raw, "raw", "", "also stream every request to this CSV file")
	f.StringVar(&opts.shard, "shard", "", "send slice i of N of the load (i/N, e.g. 2/3); combine with abusesim merge")
	return cmd
}

func (o *attackOptions) harnessOptions() (harness.AttackOptions, error) {
	var h harness.AttackOptions
	switch {
	case o.url == "":
		return h, usagef("--url is required")
	case o.rate == "":
		return h, usagef("--rate is required (requests per second, or 0 with --concurrency)")
	case o.duration <= 0:
		return h, usagef("--duration is required and must be positive")
	case o.connections < 0 || o.concurrency < 0:
		return h, usagef("--connections and --concurrency must not be negative")
	}
	rate, err := target.ParseRate(o.rate)
	if err != nil {
		return h, usagef("--rate: %w", err)
	}
	if rate > scenarios.MaxRPS {
		return h, usagef("--rate %s: at most %d requests per second, as in scenarios", o.rate, scenarios.MaxRPS)
	}
	if rate > 0 && target.NewSchedule([]target.Phase{{Duration: o.duration, StartRPS: rate, EndRPS: rate}}).
		Count(o.duration) == 0 {
		return h, usagef("--rate %s for --duration %s holds no request: raise the rate or the duration",
			o.rate, o.duration)
	}
	if rate == 0 && o.concurrency == 0 {
		return h, usagef("--rate 0 means as fast as possible and needs --concurrency N, the number of clients " +
			"(the default of 512 is only for a positive --rate)")
	}
	protocols := map[string]target.Protocol{"http1": target.ProtocolHTTP1, "h2c": target.ProtocolH2C, "h2": target.ProtocolH2}
	proto, ok := protocols[o.protocol]
	if !ok {
		return h, usagef("--protocol must be http1, h2c or h2, got %q", o.protocol)
	}
	h = harness.AttackOptions{
		URL: o.url, AllowHosts: o.allowHosts, Method: strings.ToUpper(o.method), Rate: rate,
		Duration: o.duration, Concurrency: o.concurrency, Connections: o.connections,
		Protocol: proto, InsecureTLS: o.insecure, Timeout: o.timeout, OutDir: o.out,
		MaxLateness: o.maxLate,
	}
	for _, hd := range o.headers {
		name, value, err := harness.ParseHeader(hd)
		if err != nil {
			return h, usagef("--header: %w", err)
		}
		if h.Headers == nil {
			h.Headers = map[string]string{}
		}
		for prev := range h.Headers {
			if http.CanonicalHeaderKey(prev) == http.CanonicalHeaderKey(name) {
				return h, usagef("--header %s given twice: give each header once (join values with a comma)", name)
			}
		}
		h.Headers[name] = value
	}
	if o.shard != "" {
		if h.Shard, err = harness.ParseShard(o.shard); err != nil {
			return h, usagef("--shard: %w", err)
		}
	}
	if o.bodyFile != "" {
		if h.Body, err = os.ReadFile(o.bodyFile); err != nil {
			return h, usagef("--body: %w", err)
		}
	}
	return h, nil
}

func runAttack(ctx context.Context, opts *attackOptions) error {
	h, err := opts.harnessOptions()
	if err != nil {
		return err
	}
	if err := harness.CheckAttack(h); err != nil {
		if errors.Is(err, target.ErrNonLoopbackHost) {
			return usagef("%w (on the command line: --allow-host HOST)", err)
		}
		return usagef("%w", err)
	}
	if h.OutDir == "" {
		h.OutDir = freshDir(filepath.Join("results", opts.now().UTC().Format("20060102T150405Z")+"-attack"))
	}
	if err := checkWritable(h.OutDir); err != nil {
		return usagef("--out: %w", err)
	}
	if opts.raw != "" {
		f, err := openRaw(opts.raw, h.OutDir)
		if err != nil {
			return err
		}
		defer f.Close()
		h.Raw = f
	}
	h.Progress = &target.Progress{}
	h.Logger = slog.New(newLineHandler(opts.stderr))
	stop := startProgress(opts.stderr, h.Progress, h.Duration, opts.now)
	sum, err := harness.Attack(ctx, h)
	stop()
	if err != nil {
		return err
	}

	printAttack(opts.stdout, sum)
	fmt.Fprintf(opts.stdout, "\nresults: %s (summary.json, attack/traffic.csv, attack/latency.hlog)\n", h.OutDir)
	if sum.Interrupted {
		fmt.Fprintln(opts.stderr, "abusesim: interrupted; the results above are partial")
	}
	return nil
}

func printAttack(w io.Writer, sum *harness.Summary) {
	c := sum.Profiles[0].Classes[0]
	fmt.Fprintf(w, "\nrequests %d in %.1fs (%.1f/s), success %.2f%%, late %d, dropped %d, errors %d\n",
		c.Sent, sum.Profiles[0].ElapsedS, c.AchievedRPS, 100*c.SuccessRatio(), c.Late, c.Dropped, c.Errors)
	fmt.Fprintf(w, "latency from intended start ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
		c.LatencyMs.P50, c.LatencyMs.P90, c.LatencyMs.P99, c.LatencyMs.Max)
	fmt.Fprintf(w, "service time ms:                p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
		c.ServiceLatencyMs.P50, c.ServiceLatencyMs.P90, c.ServiceLatencyMs.P99, c.ServiceLatencyMs.Max)
	fmt.Fprintf(w, "schedule lag ms:                p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n",
		c.ScheduleLagMs.P50, c.ScheduleLagMs.P90, c.ScheduleLagMs.P99, c.ScheduleLagMs.Max)
	if len(c.Status) > 0 {
		fmt.Fprintf(w, "status: %s\n", formatStatus(c.Status))
	} else {
		fmt.Fprintln(w, "status: no HTTP answer")
	}
	if c.Aborted > 0 {
		fmt.Fprintf(w, "aborted: %d requests were still in flight when the run was interrupted\n", c.Aborted)
	}
	printErrorReasons(w, sum)
}

func formatStatus(status map[string]int64) string {
	keys := make([]string, 0, len(status))
	for k := range status {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, status[k])
	}
	return strings.Join(parts, " ")
}
