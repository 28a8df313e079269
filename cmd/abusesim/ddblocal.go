package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/abusesim/abusesim/capacity"
)

type ddbLocalOptions struct {
	addr             string
	backend          string
	region           string
	burstStart       float64
	allowNonLoopback bool
	verbose          bool

	stdout, stderr io.Writer
	// ready, when set, is told the listening address once it accepts calls.
	ready func(addr string)
}

func newDDBLocalCmd(stdout, stderr io.Writer) *cobra.Command {
	opts := &ddbLocalOptions{stdout: stdout, stderr: stderr}
	cmd := &cobra.Command{
		Use:   "ddb-local",
		Short: "Serve a local DynamoDB that meters, throttles and reports like AWS",
		Long: `ddb-local serves DynamoDB's JSON 1.0 protocol on --addr, so any AWS SDK or
the AWS CLI can use it through an endpoint URL. Every data-plane call is
metered by AWS's capacity rules and throttled by the table's provisioned
throughput, with DynamoDB's own errors; the per-second metrics are served
on the same address through CloudWatch's protocols, RPC v2 CBOR (the Go
SDK) and AWS JSON 1.0 (the AWS CLI, boto3): GetMetricData,
GetMetricStatistics and ListMetrics in namespace AWS/DynamoDB.

--backend embedded (the default) keeps the tables in memory in an embedded
engine (minidyn); --backend URL fronts another DynamoDB-compatible server,
such as dynalite or DynamoDB Local, and applies the same model to it.

Both --addr and a --backend URL must be on loopback unless
--allow-non-loopback is given.

Known SDK fault: an aws-sdk-go-v2 client with retries off may fail about one
call in several hundred on responses over 4 KB with "deserialization failed
... use of closed network connection" (aws-sdk-go-v2 issues 1825, 2737),
after ddb-local has answered. Keep the SDK's retries, or build the client
with capacity.NewDynamoDBClient, which works around it (docs/capacity-model.md).`,
		Example: `  # Serve on the default port, then use it with the AWS CLI
  abusesim ddb-local
  aws dynamodb list-tables --endpoint-url http://127.0.0.1:8000

  # Front dynalite listening on port 4567
  abusesim ddb-local --backend http://127.0.0.1:4567

  # Read consumed capacity back through CloudWatch
  aws cloudwatch get-metric-statistics --endpoint-url http://127.0.0.1:8000 \
    --namespace AWS/DynamoDB --metric-name ConsumedReadCapacityUnits \
    --dimensions Name=TableName,Value=T --statistics Sum --period 60 \
    --start-time 2026-01-01T00:00:00Z --end-time 2026-01-02T00:00:00Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := opts.validate(); err != nil {
				return err
			}
			return runDDBLocal(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.addr, "addr", "127.0.0.1:8000", "address to listen on (host:port)")
	f.StringVar(&opts.backend, "backend", "embedded", `"embedded", or the URL of a DynamoDB-compatible server`)
	f.StringVar(&opts.region, "region", capacity.DefaultRegion, "region used in table ARNs")
	f.Float64Var(&opts.burstStart, "burst-start-seconds", 0,
		"seconds of provisioned capacity a new table's burst pool starts with (0-300)")
	f.BoolVar(&opts.allowNonLoopback, "allow-non-loopback", false,
		"allow --addr and --backend outside loopback (127.0.0.0/8, ::1, localhost)")
	f.BoolVar(&opts.verbose, "verbose", false, "log every call the endpoint cannot meter exactly")
	return cmd
}

func (o *ddbLocalOptions) validate() error {
	if err := checkListenAddr(o.addr, "127.0.0.1:8000", o.allowNonLoopback); err != nil {
		return err
	}
	if o.burstStart < 0 || o.burstStart > capacity.BurstSeconds {
		return usagef("--burst-start-seconds must be 0 to %d, got %g", capacity.BurstSeconds, o.burstStart)
	}
	if o.backend == "embedded" {
		return nil
	}
	return checkServerURL("--backend", o.backend, `"embedded" or a URL like http://127.0.0.1:4567`,
		o.allowNonLoopback)
}

func runDDBLocal(ctx context.Context, opts *ddbLocalOptions) error {
	level := slog.LevelWarn
	if opts.verbose {
		level = slog.LevelDebug
	}
	cfg := capacity.EndpointConfig{
		Region:            opts.region,
		BurstStartSeconds: opts.burstStart,
		Logger:            slog.New(slog.NewTextHandler(opts.stderr, &slog.HandlerOptions{Level: level})),
	}
	if opts.backend != "embedded" {
		b, err := capacity.NewRemoteBackend(opts.backend, nil)
		if err != nil {
			return usagef("--backend: %w", err)
		}
		cfg.Backend = b
	}

	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("ddb-local: listen on %s: %w (is another server using the port? try --addr 127.0.0.1:0)",
			opts.addr, err)
	}
	srv := capacity.NewLocalServer(capacity.NewEndpoint(cfg))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	addr := ln.Addr().String()
	fmt.Fprintf(opts.stdout, "ddb-local: serving DynamoDB and CloudWatch on http://%s (backend %s, region %s)\n",
		addr, opts.backend, opts.region)
	fmt.Fprintf(opts.stdout, "ddb-local: use --endpoint-url http://%s with the AWS CLI or SDKs; Ctrl-C stops\n", addr)
	if opts.ready != nil {
		opts.ready(addr)
	}

	select {
	case err := <-served:
		return fmt.Errorf("ddb-local: serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("ddb-local: stop: %w", err)
	}
	fmt.Fprintln(opts.stdout, "ddb-local: stopped")
	return nil
}
