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
)

// seedItemsOnCreate is how many items --create-table writes.
const seedItemsOnCreate = 100

type serveOptions struct {
	profile     string
	config      string
	addr        string
	table       string
	endpoint    string
	createTable bool
	redisURL    string
	ipHeader    string

	stdout, stderr io.Writer
	// ready, when set, is told the address the server listens on (tests).
	ready func(addr string)
}

func newServeCmd(stdout, stderr io.Writer) *cobra.Command {
	opts := &serveOptions{stdout: stdout, stderr: stderr}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the reference server: the DynamoDB-backed API under test",
		Long: `Serve runs the reference server with one profile of protections
(unprotected, seed or protected, or a YAML file given with --config) in front
of a DynamoDB table. It listens on loopback unless --addr names another
address. With --dynamodb-endpoint it talks to that DynamoDB-compatible
endpoint with fake credentials; without it, to AWS through the SDK's default
configuration (credentials chain, region, AWS_ENDPOINT_URL_DYNAMODB).
It stops cleanly on Ctrl-C.`,
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
			if opts.table == "" {
				return usagef("--table must not be empty")
			}
			return runServe(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.profile, "profile", refserver.ProfileProtected, "built-in profile: unprotected, seed or protected")
	f.StringVar(&opts.config, "config", "", "profile YAML file (instead of --profile)")
	f.StringVar(&opts.addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&opts.table, "table", "Items", "DynamoDB table")
	f.StringVar(&opts.endpoint, "dynamodb-endpoint", "", "DynamoDB endpoint URL (default: AWS, from the SDK's configuration)")
	f.BoolVar(&opts.createTable, "create-table", false, "create the table and its GSI when missing, and seed a few items")
	f.StringVar(&opts.redisURL, "redis", "", "Redis URL for limiter and dedupe state, e.g. redis://127.0.0.1:6379/0")
	f.StringVar(&opts.ipHeader, "client-ip-header", "", "trust this header for the client IP (local runs only: anyone can forge it)")
	return cmd
}

func runServe(ctx context.Context, opts *serveOptions) error {
	prof, err := loadServeProfile(opts)
	if err != nil {
		return err
	}
	db, err := dynamoClient(ctx, opts.endpoint)
	if err != nil {
		return err
	}
	var rdb redis.UniversalClient
	if opts.redisURL != "" {
		ro, err := redis.ParseURL(opts.redisURL)
		if err != nil {
			return usagef("--redis: %w", err)
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
// with no endpoint, to whatever the SDK's default configuration says.
func dynamoClient(ctx context.Context, endpoint string) (*dynamodb.Client, error) {
	if endpoint != "" {
		// Fixed fake keys: local endpoints accept them; AWS would not.
		return capacity.NewDynamoDBClient(endpoint, "", capacity.LocalHTTPClient(1024)), nil
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
	ln, err := net.Listen("tcp", opts.addr)
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
