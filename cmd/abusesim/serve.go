package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/abusesim/abusesim/capacity"
	refserver "github.com/abusesim/abusesim/reference-server"
	"github.com/abusesim/abusesim/target"
)

// seedItemsOnCreate is how many items --create-table writes.
const seedItemsOnCreate = 100

type serveOptions struct {
	profile          string
	config           string
	addr             string
	table            string
	endpoint         string
	createTable      bool
	redisURL         string
	ipHeader         string
	allowNonLoopback bool
	aws              bool

	stdout, stderr io.Writer
	// ready, when set, is told the address the server listens on (tests).
	ready func(addr string)
	// dial and listen, when set, replace the network for DynamoDB and Redis
	// connections and for the listener (tests).
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	listen func(network, addr string) (net.Listener, error)
}

func newServeCmd(stdout, stderr io.Writer) *cobra.Command {
	return newServeCmdWith(&serveOptions{stdout: stdout, stderr: stderr})
}

// newServeCmdWith is newServeCmd filling opts, whose writers and hooks are
// set already.
func newServeCmdWith(opts *serveOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the reference server: the DynamoDB-backed API under test",
		Long: `Serve runs the reference server with one profile of protections
(unprotected, seed or protected, or a YAML file given with --config) in front
of a DynamoDB table. It listens on loopback unless --addr names another
address. With --dynamodb-endpoint it talks to that DynamoDB-compatible
endpoint with fake credentials (abusesim ddb-local is one); with --aws
instead, to AWS through the SDK's default configuration (credentials chain,
region, AWS_ENDPOINT_URL_DYNAMODB). One of the two is required, so a real
table is only ever used when asked for by name.
It stops cleanly on Ctrl-C.

--addr, a --dynamodb-endpoint URL and a --redis address must be on loopback
(127.0.0.0/8, ::1, localhost; a Redis unix socket is local too) unless
--allow-non-loopback is given: the server is a test target with protections
switched off on purpose, and its DynamoDB and Redis hold test data.`,
		Example: `  # The protected profile against a local DynamoDB, creating the table
  abusesim serve --profile protected --dynamodb-endpoint http://127.0.0.1:8000 --create-table

  # The seed article's remediation, with its Redis
  abusesim serve --profile seed --redis redis://127.0.0.1:6379/0 --dynamodb-endpoint http://127.0.0.1:8000

  # An ablation: a profile file of your own
  abusesim serve --config protected-without-cache.yaml --dynamodb-endpoint http://127.0.0.1:8000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.config != "" && cmd.Flags().Changed("profile") {
				return usagef("--profile and --config both name a profile; give one")
			}
			return runServe(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.profile, "profile", refserver.ProfileProtected, "built-in profile: unprotected, seed or protected")
	f.StringVar(&opts.config, "config", "", "profile YAML file (instead of --profile)")
	f.StringVar(&opts.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port, loopback unless --allow-non-loopback)")
	f.StringVar(&opts.table, "table", "Items", "DynamoDB table")
	f.StringVar(&opts.endpoint, "dynamodb-endpoint", "", "DynamoDB endpoint URL, on loopback unless --allow-non-loopback (or --aws)")
	f.BoolVar(&opts.createTable, "create-table", false, "create the table and its GSI when missing, and seed a few items")
	f.StringVar(&opts.redisURL, "redis", "", "Redis URL for limiter and dedupe state, e.g. redis://127.0.0.1:6379/0")
	f.StringVar(&opts.ipHeader, "client-ip-header", "", "trust this header for the client IP (local runs only: anyone can forge it)")
	f.BoolVar(&opts.aws, "aws", false, "use AWS DynamoDB through the SDK's default configuration instead of --dynamodb-endpoint")
	f.BoolVar(&opts.allowNonLoopback, "allow-non-loopback", false,
		"allow --addr, --dynamodb-endpoint and --redis outside loopback (127.0.0.0/8, ::1, localhost)")
	return cmd
}

// validate checks the options before anything connects or listens: every
// address must be on loopback unless allowNonLoopback says otherwise.
func (o *serveOptions) validate() error {
	if o.table == "" {
		return usagef("--table must not be empty")
	}
	if err := checkListenAddr(o.addr, "127.0.0.1:8080", o.allowNonLoopback); err != nil {
		return err
	}

	switch {
	case o.endpoint == "" && !o.aws:
		return usagef("give --dynamodb-endpoint URL (a local DynamoDB such as abusesim ddb-local, " +
			"e.g. http://127.0.0.1:8000), or --aws to use AWS through the SDK's configuration")
	case o.endpoint != "" && o.aws:
		return usagef("give --dynamodb-endpoint or --aws, not both")
	}
	if o.endpoint != "" {
		if err := checkServerURL("--dynamodb-endpoint", o.endpoint, "a URL like http://127.0.0.1:8000",
			o.allowNonLoopback); err != nil {
			return err
		}
	}

	if o.redisURL != "" {
		ro, err := redis.ParseURL(o.redisURL)
		if err != nil {
			return usagef("--redis: %w", err)
		}
		// The URL may hold a password: name only the host.
		host, _, err := net.SplitHostPort(ro.Addr)
		if ro.Network != "unix" && !o.allowNonLoopback && (err != nil || !target.IsLoopbackHost(host)) {
			return usagef("--redis: host %q is not on loopback; add --allow-non-loopback to use it", host)
		}
	}
	return nil
}

func runServe(ctx context.Context, opts *serveOptions) error {
	if err := opts.validate(); err != nil {
		return err
	}
	prof, err := loadServeProfile(opts)
	if err != nil {
		return err
	}
	if prof.RateLimit != nil && prof.RateLimit.Store == refserver.StoreRedis && opts.redisURL == "" {
		return usagef("profile %s keeps its rate limiter in Redis: give --redis redis://127.0.0.1:6379/0 "+
			"(a redis-server on loopback)", prof.Name)
	}
	db, err := dynamoClient(ctx, opts.endpoint, opts.dial)
	if err != nil {
		return err
	}
	var rdb redis.UniversalClient
	if opts.redisURL != "" {
		ro, err := redis.ParseURL(opts.redisURL)
		if err != nil {
			return usagef("--redis: %w", err)
		}
		if opts.dial != nil {
			ro.Dialer = opts.dial
		}
		c := redis.NewClient(ro)
		defer c.Close()
		rdb = c

		pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err = c.Ping(pingCtx).Err()
		cancel()
		if err != nil {
			fmt.Fprintf(opts.stderr, "abusesim: warning: Redis at %s does not answer (%v); "+
				"serving anyway, and the profile's on_store_error decides what its limiter does\n", ro.Addr, err)
		}
	}

	if opts.createTable {
		created, err := refserver.EnsureTable(ctx, db, refserver.TableSpec{Table: opts.table, SeedItems: seedItemsOnCreate})
		if err != nil {
			return err
		}
		if created {
			fmt.Fprintf(opts.stderr, "abusesim: created table %s with index %s and %d items\n",
				opts.table, refserver.DefaultUserIndex, seedItemsOnCreate)
		}
	}

	log := slog.New(newLineHandler(opts.stderr))
	api, err := refserver.New(db, refserver.Config{
		Table: opts.table, Profile: prof, Redis: rdb, ClientIPHeader: opts.ipHeader, Logger: log,
	})
	if err != nil {
		return err
	}
	return listenAndServe(ctx, opts, api, prof.Name)
}

func loadServeProfile(opts *serveOptions) (refserver.Profile, error) {
	if opts.config == "" {
		p, err := refserver.BuiltinProfile(opts.profile)
		if err != nil {
			return p, usagef("--profile: %w", err)
		}
		return p, nil
	}
	data, err := os.ReadFile(opts.config)
	if err != nil {
		return refserver.Profile{}, fmt.Errorf("--config: %w", err)
	}
	p, err := refserver.LoadProfile(data)
	if err != nil {
		return p, fmt.Errorf("%s: %w", opts.config, err)
	}
	return p, nil
}

// dynamoClient talks to endpoint with fake credentials in us-east-1, or,
// with no endpoint, to whatever the SDK's default configuration says. A
// non-nil dial replaces the endpoint client's dialer.
func dynamoClient(ctx context.Context, endpoint string,
	dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*dynamodb.Client, error) {
	if endpoint != "" {
		hc := capacity.LocalHTTPClient(1024)
		if dial != nil {
			hc = hc.WithTransportOptions(func(t *http.Transport) { t.DialContext = dial })
		}
		// Fixed fake keys: local endpoints accept them; AWS would not.
		return capacity.NewDynamoDBClient(endpoint, "", hc), nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w (or give --dynamodb-endpoint)", err)
	}
	return dynamodb.NewFromConfig(cfg), nil
}

// listenAndServe serves h on opts.addr until ctx ends, then shuts down,
// giving requests in flight five seconds.
func listenAndServe(ctx context.Context, opts *serveOptions, h http.Handler, profile string) error {
	listen := net.Listen
	if opts.listen != nil {
		listen = opts.listen
	}
	ln, err := listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	addr := ln.Addr().String()
	fmt.Fprintf(opts.stderr, "abusesim: serving profile %s on http://%s (table %s); Ctrl-C stops\n",
		profile, addr, opts.table)
	if opts.ready != nil {
		opts.ready(addr)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
