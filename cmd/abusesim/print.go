package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/abusesim/abusesim/target/harness"
)

// printSummary writes the profiles side by side: traffic per class, then
// capacity and cost per profile.
func printSummary(w io.Writer, sum *harness.Summary) {
	fmt.Fprintf(w, "\nscenario %s, %gs per profile", sum.Scenario, sum.DurationS)
	if sum.Interrupted && len(sum.Profiles) > 0 {
		fmt.Fprintf(w, " (interrupted: the last profile ran %.1fs)", sum.Profiles[len(sum.Profiles)-1].ElapsedS)
	}
	fmt.Fprint(w, "\n\n")

	var dropped int64
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "profile\tclass\trequests\tsuccess\t429\t5xx\terrors\tdropped\tp50 ms\tp99 ms\t")
	for _, p := range sum.Profiles {
		for _, c := range p.Classes {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t\n",
				p.Name, c.Name, c.Sent, successCell(c), c.Status["429"], count5xx(c.Status), c.Errors,
				c.Dropped, c.LatencyMs.P50, c.LatencyMs.P99)
			dropped += c.Dropped
		}
	}
	tw.Flush()
	printErrorReasons(w, sum)
	if dropped > 0 {
		fmt.Fprintf(w, "note: %d requests were dropped: every worker was busy past their start time; "+
			"raise the class's workers or lower its rate (the server may simply be too slow)\n", dropped)
	}
	fmt.Fprintln(w)

	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "profile\tRCU consumed\tpeak RCU/s\tprov RCU\tWCU consumed\tprov WCU\tthrottle events\ton-demand $/h\tprovisioned $\t")
	for _, p := range sum.Profiles {
		c := p.Capacity
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%d\t%.1f\t%d\t%d\t%.4f\t%.6f\t\n",
			p.Name, c.ConsumedRCU, c.PeakRCUPerSecond, c.ProvisionedRCU, c.ConsumedWCU, c.ProvisionedWCU,
			c.ReadThrottleEvents+c.WriteThrottleEvents, p.Cost.OnDemandUSDPerHour, p.Cost.ProvisionedUSD)
	}
	tw.Flush()
}

// printErrorReasons says why requests got no answer, class by class, most
// frequent reason first.
func printErrorReasons(w io.Writer, sum *harness.Summary) {
	for _, p := range sum.Profiles {
		for _, c := range p.Classes {
			if c.Errors == 0 {
				continue
			}
			reasons := make([]string, 0, len(c.ErrorReasons))
			for r := range c.ErrorReasons {
				reasons = append(reasons, r)
			}
			sort.Slice(reasons, func(i, j int) bool {
				ni, nj := c.ErrorReasons[reasons[i]], c.ErrorReasons[reasons[j]]
				return ni > nj || ni == nj && reasons[i] < reasons[j]
			})
			parts := make([]string, len(reasons))
			for i, r := range reasons {
				parts[i] = fmt.Sprintf("%d %s", c.ErrorReasons[r], r)
			}
			noun := "requests"
			if c.Errors == 1 {
				noun = "request"
			}
			fmt.Fprintf(w, "note: %s %s: %d %s got no answer: %s\n", p.Name, c.Name, c.Errors, noun,
				strings.Join(parts, "; "))
		}
	}
}

// successCell is the share of 2xx answers, or "-" when nothing was sent.
func successCell(c harness.ClassSummary) string {
	if c.Sent == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*c.SuccessRatio())
}

func count5xx(status map[string]int64) int64 {
	var n int64
	for k, v := range status {
		if strings.HasPrefix(k, "5") {
			n += v
		}
	}
	return n
}

// lineHandler is a slog handler that prints each record as one plain line,
// "abusesim: message key=value ...", for people rather than log parsers.
type lineHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	attrs []slog.Attr
}

func newLineHandler(w io.Writer) *lineHandler { return &lineHandler{mu: &sync.Mutex{}, w: w} }

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("abusesim: ")
	if r.Level >= slog.LevelWarn {
		b.WriteString("note: ")
	}
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	b.WriteByte('\n')

	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &lineHandler{mu: h.mu, w: h.w, attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }
