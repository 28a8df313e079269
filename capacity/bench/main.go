// Command bench measures what ddb-local's metering and limiting cost: it
// plays the same GetItem/PutItem mix (80/20, real aws-sdk-go-v2 clients over
// loopback HTTP) against bare minidyn and against the capacity endpoint in
// front of minidyn, in the same run, alternating rounds, and prints each
// one's throughput and their ratio against the targets (metering costs at
// most 20 % of throughput; ddb-local sustains at least 10,000 ops/s).
//
//	go run ./capacity/bench [-duration 5s] [-rounds 2] [-workers 32] [-client raw|sdk]
//	                        [-cpuprofile FILE] [-mutexprofile FILE]
//
// With -client raw (the default) the clients post prepared JSON bodies, so
// the figures measure the servers rather than the SDK's signing and
// encoding, which on a 2-core machine would take most of the CPU; -client
// sdk uses the real SDK for every call.
//
// Each round also reports the process's CPU time per call (clients
// included), and the run the median per-round ratio of bare minidyn's CPU
// per call to ddb-local's. On a CPU-bound machine throughput is the inverse
// of CPU per call, so the two ratios agree on a quiet machine; on a shared
// one the CPU ratio is the steadier, as other processes' load does not
// count in it. -cpuprofile and -mutexprofile profile the whole run; each
// server's work carries the label server=bare or server=ddb-local, so
// go tool pprof -tagfocus splits the profile by server.
//
// Figures depend on the machine and on what else runs on it: say so when
// quoting them.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/truora/minidyn/server"

	"github.com/abusesim/abusesim/capacity"
)

const (
	table        = "bench"
	items        = 1000
	maxOverhead  = 0.20
	minOpsPerSec = 10000
)

func main() {
	duration := flag.Duration("duration", 5*time.Second, "length of each measured round")
	rounds := flag.Int("rounds", 2, "rounds per target, alternating")
	workers := flag.Int("workers", 32, "concurrent clients")
	mode := flag.String("client", "raw", `"raw" (prepared JSON over HTTP) or "sdk" (aws-sdk-go-v2)`)
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	mutexProfile := flag.String("mutexprofile", "", "write a mutex contention profile of the whole run to this file")
	flag.Parse()
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	if *mode != "raw" && *mode != "sdk" {
		fmt.Fprintf(os.Stderr, "bench: -client must be raw or sdk, got %q\n", *mode)
		os.Exit(2)
	}

	stop, err := startProfiles(*cpuProfile, *mutexProfile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	err = run(*duration, *rounds, *workers, *mode)
	if errStop := stop(); err == nil {
		err = errStop
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(duration time.Duration, rounds, workers int, mode string) error {
	ctx := context.Background()
	bareURL, stopBare, err := serve(server.NewServer(), "bare")
	if err != nil {
		return err
	}
	defer stopBare()
	// The endpoint's table is provisioned far above what the mix can use,
	// so every limit is checked on every call but none refuses one.
	localURL, stopLocal, err := serve(capacity.NewEndpoint(capacity.EndpointConfig{}), "ddb-local")
	if err != nil {
		return err
	}
	defer stopLocal()

	targets := []struct {
		name string
		url  string
		db   *dynamodb.Client
		best float64
	}{
		{name: "bare minidyn", url: bareURL, db: client(bareURL, workers)},
		{name: "ddb-local (minidyn + capacity model)", url: localURL, db: client(localURL, workers)},
	}
	for _, t := range targets {
		if err := setup(ctx, t.db); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}

	fmt.Printf("GetItem/PutItem 80/20 over loopback HTTP, %s client, %d workers, %d rounds of %s, GOMAXPROCS %d\n",
		mode, workers, rounds, duration, runtime.GOMAXPROCS(0))
	raw := &http.Client{Transport: &http.Transport{MaxIdleConns: 2 * workers, MaxIdleConnsPerHost: 2 * workers}}
	var ratios []float64    // per round, ddb-local over bare
	var cpuRatios []float64 // per round, bare's CPU per call over ddb-local's
	var got, cpu [2]float64
	for r := range rounds {
		for i := range targets {
			call := sdkCall(targets[i].db)
			if mode == "raw" {
				call = rawCall(raw, targets[i].url)
			}
			cpuBefore := processCPU()
			ops, n, errs := measure(ctx, call, duration, workers, uint64(r))
			perOp := (processCPU() - cpuBefore).Seconds() * 1e6 / float64(max(n, 1))
			fmt.Printf("  round %d  %-38s %9.0f ops/s  %6.1f CPU µs/op  (%d errors)\n",
				r+1, targets[i].name, ops, perOp, errs)
			targets[i].best = max(targets[i].best, ops)
			got[i] = ops
			cpu[i] = perOp
		}
		ratios = append(ratios, got[1]/got[0])
		cpuRatios = append(cpuRatios, cpu[0]/cpu[1])
	}
	slices.Sort(ratios)
	slices.Sort(cpuRatios)
	fmt.Printf("median per-round CPU-per-op ratio bare/ddb-local: %.3f (the process's CPU time per call, clients\n"+
		"  included; what other processes take does not count, so on a shared machine it is the steadier figure)\n",
		cpuRatios[len(cpuRatios)/2])
	fmt.Printf("median per-round ratio ddb-local/bare: %.3f (rounds alternate, so other load on the machine\n"+
		"  hits both; on a busy machine prefer it to the best-of ratio)\n", ratios[len(ratios)/2])

	bare, local := targets[0].best, targets[1].best
	overhead := 1 - local/bare
	fmt.Printf("best: bare %.0f ops/s, ddb-local %.0f ops/s, ratio %.3f (metering costs %.1f %%)\n",
		bare, local, local/bare, 100*overhead)
	fmt.Printf("target overhead <= %.0f %% (best of): %s; (median round): %s\n", 100*maxOverhead,
		verdict(overhead <= maxOverhead), verdict(1-ratios[len(ratios)/2] <= maxOverhead))
	fmt.Printf("target ddb-local >= %d ops/s: %s\n", minOpsPerSec, verdict(local >= minOpsPerSec))
	return nil
}

// startProfiles starts the profiles asked for and returns what writes them.
func startProfiles(cpuPath, mutexPath string) (stop func() error, err error) {
	var cpu *os.File
	if cpuPath != "" {
		if cpu, err = os.Create(cpuPath); err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(cpu); err != nil {
			cpu.Close()
			return nil, err
		}
	}
	if mutexPath != "" {
		runtime.SetMutexProfileFraction(5)
	}
	return func() error {
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				return err
			}
		}
		if mutexPath == "" {
			return nil
		}
		f, err := os.Create(mutexPath)
		if err != nil {
			return err
		}
		if err := pprof.Lookup("mutex").WriteTo(f, 0); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}, nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// serve runs h on a loopback port.
// serve serves h on a loopback port. Its goroutines, and so every
// connection's, carry the profiler label server=label, so a CPU profile of
// the run splits by server (go tool pprof -tagfocus server=ddb-local).
func serve(h http.Handler, label string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	pprof.Do(context.Background(), pprof.Labels("server", label), func(context.Context) {
		go srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed on Close
	})
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

func client(url string, workers int) *dynamodb.Client {
	return capacity.NewDynamoDBClient(url, "", capacity.LocalHTTPClient(workers*2), capacity.RetryConnectionErrorsOnly)
}

func setup(ctx context.Context, db *dynamodb.Client) error {
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModeProvisioned,
		ProvisionedThroughput: &types.ProvisionedThroughput{
			ReadCapacityUnits: aws.Int64(capacity.TableQuotaUnits), WriteCapacityUnits: aws.Int64(capacity.TableQuotaUnits),
		},
	})
	if err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	for i := range items {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item(i)}); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	return nil
}

func item(i int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"id":      &types.AttributeValueMemberS{Value: fmt.Sprintf("item-%04d", i)},
		"payload": &types.AttributeValueMemberS{Value: "a payload of some two hundred bytes, give or take"},
		"n":       &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
	}
}

// caller makes one call of the mix: a GetItem, or a PutItem when put is
// set, of item i.
type caller func(ctx context.Context, put bool, i int) error

func sdkCall(db *dynamodb.Client) caller {
	return func(ctx context.Context, put bool, i int) error {
		var err error
		if put {
			_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item(i)})
		} else {
			_, err = db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table),
				Key: map[string]types.AttributeValue{"id": item(i)["id"]}})
		}
		return err
	}
}

// rawCall posts prepared JSON bodies, as an SDK would send them.
func rawCall(hc *http.Client, url string) caller {
	gets := make([][]byte, items)
	puts := make([][]byte, items)
	for i := range items {
		gets[i] = []byte(fmt.Sprintf(`{"TableName":%q,"Key":{"id":{"S":"item-%04d"}}}`, table, i))
		puts[i] = []byte(fmt.Sprintf(`{"TableName":%q,"Item":{"id":{"S":"item-%04d"},`+
			`"payload":{"S":"a payload of some two hundred bytes, give or take"},"n":{"N":"%d"}}}`, table, i, i))
	}
	return func(ctx context.Context, put bool, i int) error {
		body, op := gets[i], "GetItem"
		if put {
			body, op = puts[i], "PutItem"
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: status %d", op, resp.StatusCode)
		}
		return nil
	}
}

// processCPU returns the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs the mix for d and returns operations per second, operations
// and errors.
func measure(ctx context.Context, call caller, d time.Duration, workers int, seed uint64) (float64, int64, int64) {
	var ops, errs atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for time.Now().Before(deadline) {
				if err := call(ctx, rng.IntN(10) >= 8, rng.IntN(items)); err != nil {
					errs.Add(1)
				}
				ops.Add(1)
			}
		}()
	}
	start := time.Now()
	wg.Wait()
	return float64(ops.Load()) / time.Since(start).Seconds(), ops.Load(), errs.Load()
}
