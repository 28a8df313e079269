package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/abusesim/abusesim/capacity"
	refserver "github.com/abusesim/abusesim/reference-server"
	"github.com/abusesim/abusesim/scenarios"
	"github.com/abusesim/abusesim/target"
)

// ClientIPHeader carries a traffic class's source address when the host
// cannot bind extra loopback addresses (macOS has only 127.0.0.1 unless
// aliased): the generator sends the class's address in this header and the
// reference server reads the client from it instead of the connection.
const ClientIPHeader = "X-Abusesim-Client-Ip"

// Options configure Run. The zero value of every field but Scenario means
// what the scenario says.
type Options struct {
	Scenario *scenarios.Scenario
	// Profiles overrides the scenario's list of profiles, in run order.
	Profiles []string
	// OutDir receives summary.json, per-profile CSV files and the charts.
	// Empty: nothing is written.
	OutDir string
	// Logger receives progress: a line as each profile starts and ends,
	// and notes such as the loopback fallback. Nil discards.
	Logger *slog.Logger
	// Progress, when set, follows the traffic as it goes (all profiles).
	Progress *target.Progress
	// Shard runs only one slice of the traffic; see target.Shard.
	Shard target.Shard
	// Raw, when set, receives one CSV line per request of every profile
	// (target.RawHeader; the profile in its first column).
	Raw io.Writer
	// Redis serves the profiles that keep limiter state in Redis (the
	// seed profile). Nil: Run starts a private redis-server on loopback
	// for each such profile, so every profile starts from empty state.
	Redis redis.UniversalClient
}

// Run plays the scenario against each profile in turn, each on a fresh
// stack and table, and returns the summary. When ctx is cancelled it stops
// the profile in progress, keeps what it recorded, skips the rest and
// returns the partial summary with Interrupted set and no error; files in
// OutDir are valid at every point.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	sc := opts.Scenario
	if sc == nil {
		return nil, fmt.Errorf("harness: no scenario")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	profiles, err := Profiles(sc, opts.Profiles)
	if err != nil {
		return nil, err
	}

	plan, err := newPlan(sc)
	if err != nil {
		return nil, err
	}
	plan.progress, plan.shard, plan.raw = opts.Progress, opts.Shard, opts.Raw
	plan.redis = opts.Redis
	// What the generator would refuse (an identity pool too short for the
	// shard count, say) is refused now, before any table is seeded. The
	// address stands in for the reference server's, not yet started.
	check := target.Config{BaseURL: "http://127.0.0.1/", Duration: plan.duration, Seed: plan.seed,
		Classes: plan.classes, Shard: plan.shard}
	if err := check.Validate(); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	if opts.OutDir != "" {
		if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
			return nil, fmt.Errorf("harness: create output folder: %w", err)
		}
	}

	sum := &Summary{
		Scenario:  sc.Name,
		StartedAt: time.Now().UTC(),
		DurationS: sc.Duration.Seconds(),
		Seed:      sc.Seed,
		Notes:     plan.notes,
		Profiles:  []ProfileSummary{}, // [] in summary.json when none finished, never null
		Shard:     shardLabel(opts.Shard),
	}
	for _, n := range plan.notes {
		log.Warn(n)
	}

	var series []profileSeries
	for _, p := range profiles {
		if ctx.Err() != nil {
			sum.Interrupted = true
			break
		}
		log.Info("profile starting", "profile", p.Name, "duration", sc.Duration)
		ps, ser, err := runProfile(ctx, plan, p, log)
		if errors.Is(err, errSetupInterrupted) {
			sum.Interrupted = true
			break
		}
		if err != nil {
			return sum, fmt.Errorf("harness: profile %s: %w", p.Name, err)
		}
		if ctx.Err() != nil {
			sum.Interrupted = true
		}
		sum.Profiles = append(sum.Profiles, ps)
		sum.recordThresholds(checkThresholds(sc, ps))
		series = append(series, ser)
		log.Info("profile done", "profile", p.Name, "elapsed", time.Duration(ps.ElapsedS*float64(time.Second)).Round(time.Millisecond))

		if opts.OutDir != "" {
			if err := writeProfile(opts.OutDir, ser); err != nil {
				return sum, err
			}
			if err := sum.WriteJSON(filepath.Join(opts.OutDir, "summary.json")); err != nil {
				return sum, fmt.Errorf("harness: %w", err)
			}
		}
	}

	if opts.OutDir != "" {
		if err := sum.WriteJSON(filepath.Join(opts.OutDir, "summary.json")); err != nil {
			return sum, fmt.Errorf("harness: %w", err)
		}
		if err := writeCharts(opts.OutDir, sum, series); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// Profiles resolves the profiles a run plays, in order: names (a --profiles
// list) when given, else the scenario's own list. A name is a built-in
// reference-server profile or one the scenario defines from a base with
// overrides. An unknown or repeated name in names is an error wrapping
// ErrBadProfiles; a problem in the scenario's list is a *scenarios.Error
// at its place in the file.
func Profiles(sc *scenarios.Scenario, names []string) ([]refserver.Profile, error) {
	if len(names) == 0 {
		return scenarioProfiles(sc)
	}
	profiles := make([]refserver.Profile, 0, len(names))
	for i, name := range names {
		if slices.Contains(names[:i], name) {
			return nil, fmt.Errorf("%w: %q is listed twice", ErrBadProfiles, name)
		}
		p, err := scenarioProfile(sc, name)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadProfiles, err)
		}
		profiles = append(profiles, p)
	}
	return profiles, nil
}

func scenarioProfiles(sc *scenarios.Scenario) ([]refserver.Profile, error) {
	if len(sc.Profiles) == 0 {
		return nil, fmt.Errorf("harness: %w", errNoProfiles)
	}
	profiles := make([]refserver.Profile, 0, len(sc.Profiles))
	for i, name := range sc.Profiles {
		p, err := scenarioProfile(sc, name)
		if err == nil {
			profiles = append(profiles, p)
			continue
		}
		for _, spec := range sc.ProfileSpecs {
			if spec.Name == name && spec.At.Line > 0 {
				return nil, spec.At.Errorf("%v", err)
			}
		}
		return nil, fmt.Errorf("harness: profiles[%d]: %w", i, err)
	}
	return profiles, nil
}

// ErrBadProfiles marks a profile list given to Run (not the scenario's own)
// that names an unknown profile or one twice.
var ErrBadProfiles = errors.New("bad profile list")

// plan is the scenario resolved into what the stack and generator take.
type plan struct {
	table    tableSpec
	duration time.Duration
	seed     int64
	classes  []target.Class
	// clientIPHeader is set when classes cannot bind their own source
	// addresses and send them in ClientIPHeader instead.
	clientIPHeader string
	notes          []string
	progress       *target.Progress
	shard          target.Shard
	rawHeaded      bool // the raw file already holds target.RawHeader
	raw            io.Writer
	redis          redis.UniversalClient
}

func newPlan(sc *scenarios.Scenario) (*plan, error) {
	t := sc.Table
	p := &plan{
		table: tableSpec{
			Name:              t.Name,
			PartitionKey:      t.PartitionKey,
			BillingMode:       t.BillingMode,
			RCU:               t.RCU,
			WCU:               t.WCU,
			BurstStartSeconds: t.BurstStartSeconds,
			Items:             t.Items.Count,
			KeyPattern:        t.Items.KeyPattern,
			ItemBytes:         t.Items.SizeBytes,
		},
		duration: sc.Duration,
		seed:     sc.Seed,
	}

	for _, c := range sc.Classes {
		tc, err := targetClass(sc, c)
		if err != nil {
			return nil, fmt.Errorf("harness: class %s: %w", c.Name, err)
		}
		p.classes = append(p.classes, tc)
	}

	p.notes = append(p.notes, sharedSourceNotes(p.classes)...)

	// Distinct loopback source addresses let the server tell classes apart
	// by connection, as it would tell real clients apart. Where the host
	// cannot bind them, send the address in a header instead.
	for i := range p.classes {
		c := &p.classes[i]
		if !c.SourceAddr.IsValid() || target.CanBind(c.SourceAddr) {
			continue
		}
		if p.clientIPHeader == "" {
			p.clientIPHeader = ClientIPHeader
			p.notes = append(p.notes, fmt.Sprintf(
				"this host cannot bind %s as a source address; classes connect from the default "+
					"address and the reference server identifies them by the %s header instead "+
					"(on macOS, alias the addresses to use real sources: sudo ifconfig lo0 alias %s)",
				c.SourceAddr, ClientIPHeader, c.SourceAddr))
		}
	}
	if p.clientIPHeader != "" {
		for i := range p.classes {
			c := &p.classes[i]
			if !c.SourceAddr.IsValid() {
				continue
			}
			c.Headers = withHeader(c.Headers, ClientIPHeader, c.SourceAddr.String())
			c.SourceAddr = netip.Addr{}
		}
	}
	return p, nil
}

// sharedSourceNotes warns when classes send from the same single source
// address: a per-client limit then cannot tell them apart, so one class's
// traffic spends the other's allowance.
func sharedSourceNotes(classes []target.Class) []string {
	var notes []string
	first := map[netip.Addr]string{}
	for _, c := range classes {
		if !c.SourceAddr.IsValid() {
			continue
		}
		if other, ok := first[c.SourceAddr]; ok {
			notes = append(notes, fmt.Sprintf("classes %s and %s both send from %s: the server "+
				"cannot tell them apart, so a per-client limit counts them together", other, c.Name, c.SourceAddr))
			continue
		}
		first[c.SourceAddr] = c.Name
	}
	return notes
}

func withHeader(h map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(h)+1)
	for hk, hv := range h {
		out[hk] = hv
	}
	out[k] = v
	return out
}

// targetClass converts a scenario class into the generator's form.
func targetClass(sc *scenarios.Scenario, c scenarios.Class) (target.Class, error) {
	return c.Target(sc.Table)
}

// profileSeries is what a profile recorded over time, for CSV and charts.
type profileSeries struct {
	name    string
	start   time.Time
	result  *target.Result
	samples []capacity.Sample
	summary ProfileSummary
}

// runProfile runs the plan's traffic against one profile on a fresh stack.
func runProfile(ctx context.Context, p *plan, prof refserver.Profile, log *slog.Logger) (ProfileSummary, profileSeries, error) {
	setup := context.WithoutCancel(ctx)
	cfg := refserver.Config{
		Profile:        prof,
		ClientIPHeader: p.clientIPHeader,
		Logger:         log,
		Redis:          p.redis,
	}
	if cfg.Redis == nil && needsRedis(prof) {
		r, err := startPrivateRedis(ctx)
		if err != nil {
			return ProfileSummary{}, profileSeries{}, fmt.Errorf("profile %s keeps its limiter in Redis: %w", prof.Name, err)
		}
		defer r.close()
		cfg.Redis = r.client
	}
	st, err := startStack(ctx, p.table, cfg, log)
	if err != nil && ctx.Err() != nil {
		return ProfileSummary{}, profileSeries{}, errSetupInterrupted
	}
	if err != nil {
		return ProfileSummary{}, profileSeries{}, err
	}
	defer st.close()

	monCtx, stopMonitor := context.WithCancel(setup)
	type monResult struct {
		samples []capacity.Sample
		err     error
	}
	monDone := make(chan monResult, 1)
	// The monitor reads the local endpoint through CloudWatch's protocol, as
	// it would read AWS, so local and AWS runs share the monitor code.
	cw := &capacity.CloudWatchSource{Client: capacity.NewCloudWatchClient(st.ddbURL, region, nil)}
	mon := &capacity.Monitor{Source: cw, Table: p.table.Name, Interval: time.Second}
	go func() {
		s, err := mon.Run(monCtx)
		monDone <- monResult{s, err}
	}()

	res, err := target.Run(ctx, target.Config{
		BaseURL:   st.apiURL,
		Duration:  p.duration,
		Seed:      p.seed,
		Classes:   p.classes,
		Progress:  p.progress,
		Shard:     p.shard,
		Raw:       p.raw,
		RawTag:    prof.Name,
		RawAppend: p.rawHeaded,
		Logger:    log,
	})
	// Every profile's requests go to the same raw file, under one header.
	p.rawHeaded = true
	stopMonitor()
	mr := <-monDone
	if err != nil {
		return ProfileSummary{}, profileSeries{}, fmt.Errorf("generate load: %w", err)
	}
	if res.RawErr != nil {
		return ProfileSummary{}, profileSeries{}, fmt.Errorf("write raw requests: %w", res.RawErr)
	}
	if mr.err != nil {
		return ProfileSummary{}, profileSeries{}, fmt.Errorf("monitor capacity: %w", mr.err)
	}

	samples := mr.samples

	ps := ProfileSummary{Name: prof.Name, ElapsedS: res.Elapsed.Seconds()}
	for _, c := range res.Classes {
		ps.Classes = append(ps.Classes, classSummary(c, res.Elapsed))
	}
	ps.Capacity = capacitySummary(p.table, samples)
	ps.Cost = profileCost(ps.Capacity, res.Elapsed)
	return ps, profileSeries{name: prof.Name, start: res.Start, result: res, samples: samples, summary: ps}, nil
}
