// Command bench measures abusesim's load generator side by side with
// vegeta and wrk against the same trivial loopback server, in one run, and
// prints the figures docs/performance.md reports. It starts and stops
// everything it uses; every process it runs talks to loopback only.
//
//	go run ./target/bench -abusesim /tmp/abusesim -server /tmp/server \
//	    -vegeta /tmp/gobin/vegeta -wrk wrk -exp all
//
// Experiments (-exp, comma-separated or "all"):
//   - throughput: each tool as fast as -connections connections go, for
//     -duration; requests per second and CPU seconds per 1,000 requests
//   - accuracy: abusesim at -rate (default 10,000/s) for -accuracy-for;
//     achieved rate against target and scheduling lag p99
//   - memory: abusesim at 5,000/s for -memory-short and -memory-long;
//     peak resident memory of each run and their ratio
//   - omission: 1,000/s for 10 s against a server that stalls once for 1 s;
//     corrected p99.9 against the service-time histogram
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	abusesim, server, vegeta, wrk string
	exps                          map[string]bool
	connections                   int
	duration                      time.Duration
	rate                          int
	accuracyFor                   time.Duration
	memoryShort, memoryLong       time.Duration
	stallFor                      time.Duration
	tmp                           string
}

func main() {
	var o options
	var exps string
	flag.StringVar(&o.abusesim, "abusesim", "", "abusesim binary (required)")
	flag.StringVar(&o.server, "server", "", "target/bench/server binary (required)")
	flag.StringVar(&o.vegeta, "vegeta", "", "vegeta binary (throughput; skipped when empty)")
	flag.StringVar(&o.wrk, "wrk", "", "wrk binary (throughput; skipped when empty)")
	flag.StringVar(&exps, "exp", "all", "experiments: throughput,accuracy,memory,omission or all")
	flag.IntVar(&o.connections, "connections", 50, "connections for the throughput runs")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each throughput run")
	flag.IntVar(&o.rate, "rate", 10000, "target rate of the accuracy run, req/s")
	flag.DurationVar(&o.accuracyFor, "accuracy-for", 30*time.Second, "length of the accuracy run")
	flag.DurationVar(&o.memoryShort, "memory-short", time.Minute, "short memory run")
	flag.DurationVar(&o.memoryLong, "memory-long", 10*time.Minute, "long memory run")
	flag.DurationVar(&o.stallFor, "stall-for", time.Second, "how long the server stalls in the omission run")
	flag.Parse()
	if o.abusesim == "" || o.server == "" {
		log.Fatal("bench: -abusesim and -server are required")
	}
	o.exps = map[string]bool{}
	for _, e := range strings.Split(exps, ",") {
		o.exps[strings.TrimSpace(e)] = true
	}
	all := o.exps["all"]
	dir, err := os.MkdirTemp("", "abusesim-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	o.tmp = dir

	fmt.Printf("# abusesim bench, %s, %d CPUs, load average at start: %s\n",
		time.Now().UTC().Format(time.RFC3339), numCPU(), loadAvg())
	if all || o.exps["throughput"] {
		throughput(o)
	}
	if all || o.exps["accuracy"] {
		accuracy(o)
	}
	if all || o.exps["memory"] {
		memory(o)
	}
	if all || o.exps["omission"] {
		omission(o)
	}
	fmt.Printf("# load average at end: %s\n", loadAvg())
}

// startServer starts the trivial server and returns its base URL and a
// stop function.
func startServer(o options, args ...string) (string, func()) {
	cmd := exec.Command(o.server, append([]string{"-addr", "127.0.0.1:0", "-max-run", "30m"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		log.Fatalf("bench: start server: %v", err)
	}
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		log.Fatalf("bench: read server address: %v", err)
	}
	return "http://" + strings.TrimSpace(addr), func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

// measured is one process's run: its output, CPU seconds and peak RSS.
type measured struct {
	stdout   []byte
	cpuS     float64
	maxRSSKB int64
	wall     time.Duration
	rssKB    []int64 // resident set at the marks runSampled was given
	rssMaxKB int64   // the highest resident set runSampled read before its last mark
}

func run(name string, args ...string) measured {
	cmd := exec.Command(name, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	if err := cmd.Run(); err != nil {
		log.Fatalf("bench: %s %s: %v\n%s", name, strings.Join(args, " "), err, errOut.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	return measured{stdout: append(out.Bytes(), errOut.Bytes()...), cpuS: cpu, maxRSSKB: ru.Maxrss, wall: time.Since(start)}
}

type classFigures struct {
	Sent, OK, Dropped, Late int64
	AchievedRPS             float64 `json:"achieved_rps"`
	LatencyMs               pct     `json:"latency_ms"`
	ServiceLatencyMs        pct     `json:"service_latency_ms"`
	ScheduleLagMs           pct     `json:"schedule_lag_ms"`
}

type pct struct{ P50, P90, P99, Max float64 }

func readClass(dir string) classFigures {
	data, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		log.Fatal(err)
	}
	var s struct {
		Profiles []struct {
			ElapsedS float64 `json:"elapsed_s"`
			Classes  []classFigures
		}
	}
	if err := json.Unmarshal(data, &s); err != nil {
		log.Fatal(err)
	}
	return s.Profiles[0].Classes[0]
}

func throughput(o options) {
	url, stop := startServer(o)
	defer stop()
	c := strconv.Itoa(o.connections)
	d := o.duration.String()
	fmt.Printf("\n## throughput: as fast as possible, %s connections, %s each, same server\n", c, d)
	fmt.Println("tool      requests   req/s     CPU s   CPU s per 1000 req")

	out := filepath.Join(o.tmp, "tp")
	m := run(o.abusesim, "attack", "--url", url+"/", "--rate", "0", "--concurrency", c, "--connections", c,
		"--duration", d, "--out", out)
	f := readClass(out)
	abRPS := float64(f.Sent) / o.duration.Seconds()
	report("abusesim", f.Sent, abRPS, m.cpuS)

	if o.vegeta != "" {
		res := filepath.Join(o.tmp, "vegeta.bin")
		cmd := exec.Command(o.vegeta, "attack", "-rate=0", "-max-workers="+c, "-workers="+c, "-connections="+c,
			"-duration="+d, "-output="+res)
		cmd.Stdin = strings.NewReader("GET " + url + "/\n")
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		if err := cmd.Run(); err != nil {
			log.Fatalf("bench: vegeta: %v: %s", err, errOut.String())
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		rep := run(o.vegeta, "report", "-type=json", res)
		var r struct {
			Requests int64
		}
		if err := json.Unmarshal(rep.stdout, &r); err != nil {
			log.Fatalf("bench: vegeta report: %v", err)
		}
		vRPS := float64(r.Requests) / o.duration.Seconds()
		report("vegeta", r.Requests, vRPS, cpu)
		fmt.Printf("abusesim/vegeta throughput ratio: %.2f\n", abRPS/vRPS)
	}
	if o.wrk != "" {
		m := run(o.wrk, "-t2", "-c"+c, "-d"+d, url+"/")
		n := regexp.MustCompile(`(\d+) requests in`).FindSubmatch(m.stdout)
		if n == nil {
			log.Fatalf("bench: wrk output: %s", m.stdout)
		}
		req, _ := strconv.ParseInt(string(n[1]), 10, 64)
		report("wrk", req, float64(req)/o.duration.Seconds(), m.cpuS)
	}
}

func report(tool string, req int64, rps, cpuS float64) {
	fmt.Printf("%-9s %9d %8.0f %8.2f %10.3f\n", tool, req, rps, cpuS, 1000*cpuS/float64(max(req, 1)))
}

func accuracy(o options) {
	url, stop := startServer(o)
	defer stop()
	fmt.Printf("\n## accuracy: %d req/s for %s\n", o.rate, o.accuracyFor)
	out := filepath.Join(o.tmp, "acc")
	m := run(o.abusesim, "attack", "--url", url+"/", "--rate", strconv.Itoa(o.rate), "--duration", o.accuracyFor.String(),
		"--out", out)
	f := readClass(out)
	target := float64(o.rate) * o.accuracyFor.Seconds()
	fmt.Printf("due %.0f, sent %d (%.3f %% of due), dropped %d, late %d\n",
		target, f.Sent, 100*float64(f.Sent)/target, f.Dropped, f.Late)
	fmt.Printf("achieved rate %.1f req/s over the wall time (%.3f %% of target)\n", f.AchievedRPS, 100*f.AchievedRPS/float64(o.rate))
	fmt.Printf("scheduling lag ms: p50 %.3f p90 %.3f p99 %.3f max %.3f\n",
		f.ScheduleLagMs.P50, f.ScheduleLagMs.P90, f.ScheduleLagMs.P99, f.ScheduleLagMs.Max)
	fmt.Printf("abusesim CPU %.2f s (user + system), %.3f s per 1000 req\n", m.cpuS, 1000*m.cpuS/float64(max(f.Sent, 1)))
}

func memory(o options) {
	url, stop := startServer(o)
	defer stop()
	fmt.Printf("\n## memory: 5000 req/s, %s against %s\n", o.memoryShort, o.memoryLong)
	var rss [2]int64
	for i, d := range []time.Duration{o.memoryShort, o.memoryLong} {
		// The long run's resident set is also read while it runs, at the
		// short run's length and just before its end, so the two figures
		// come from one process as well as from two.
		var marks []time.Duration
		if i == 1 {
			marks = []time.Duration{o.memoryShort, d - 2*time.Second}
		}
		m := runSampled(marks, o.abusesim, "attack", "--url", url+"/", "--rate", "5000", "--duration", d.String(),
			"--out", filepath.Join(o.tmp, fmt.Sprint("mem", i)))
		rss[i] = m.maxRSSKB
		fmt.Printf("%s: peak RSS %.1f MiB, CPU %.1f s\n", d, float64(m.maxRSSKB)/1024, m.cpuS)
		for j, kb := range m.rssKB {
			fmt.Printf("  RSS at %s: %.1f MiB\n", marks[j], float64(kb)/1024)
		}
		if len(m.rssKB) == 2 && m.rssKB[0] > 0 {
			fmt.Printf("  RSS at %s / at %s, same process: %.2f\n", marks[1], marks[0], float64(m.rssKB[1])/float64(m.rssKB[0]))
			fmt.Printf("  highest RSS read once a second until %s: %.1f MiB\n", marks[1], float64(m.rssMaxKB)/1024)
		}
	}
	fmt.Printf("peak RSS long/short: %.2f\n", float64(rss[1])/float64(rss[0]))
}

// runSampled is run, also reading the process's resident set size (VmRSS)
// once a second while it lives: rssKB holds its value at each of marks
// after the start (0 for a mark it does not live to), and rssMaxKB the
// highest value read before the last mark, so a peak while results are
// written at the end can be told from one during the run.
func runSampled(marks []time.Duration, name string, args ...string) measured {
	cmd := exec.Command(name, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	if err := cmd.Start(); err != nil {
		log.Fatalf("bench: %s: %v", name, err)
	}
	rss := make([]int64, len(marks))
	var rssMax int64
	exited := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		next := 0
		for {
			select {
			case <-exited:
				return
			case <-tick.C:
			}
			kb := vmRSSKB(cmd.Process.Pid)
			at := time.Since(start)
			for next < len(marks) && at >= marks[next] {
				rss[next] = kb
				next++
			}
			if next < len(marks) || len(marks) == 0 {
				rssMax = max(rssMax, kb)
			}
		}
	}()
	err := cmd.Wait()
	close(exited)
	<-done
	if err != nil {
		log.Fatalf("bench: %s %s: %v\n%s", name, strings.Join(args, " "), err, errOut.String())
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	return measured{stdout: append(out.Bytes(), errOut.Bytes()...), cpuS: cpu, maxRSSKB: ru.Maxrss,
		wall: time.Since(start), rssKB: rss, rssMaxKB: rssMax}
}

// vmRSSKB reads a live process's resident set size in KiB, 0 if it cannot.
func vmRSSKB(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

func omission(o options) {
	url, stop := startServer(o, "-stall-after", "5s", "-stall-for", o.stallFor.String())
	defer stop()
	fmt.Printf("\n## coordinated omission: 1000 req/s for 10 s, the server stalls once for %s after 5 s\n", o.stallFor)
	out := filepath.Join(o.tmp, "co")
	run(o.abusesim, "attack", "--url", url+"/", "--rate", "1000", "--duration", "10s",
		"--concurrency", "1", "--connections", "1", "--max-lateness", "30s", "--out", out)
	hist := filepath.Join(out, "attack", "histograms.json")
	p999, svc999, svcOver := coFigures(hist)
	f := readClass(out)
	fmt.Printf("sent %d, late %d, dropped %d\n", f.Sent, f.Late, f.Dropped)
	fmt.Printf("corrected (from intended start): p99 %.1f ms, p99.9 %.1f ms, max %.1f ms\n", f.LatencyMs.P99, p999, f.LatencyMs.Max)
	fmt.Printf("service time (from actual send): p99 %.2f ms, p99.9 %.2f ms, max %.1f ms; requests over 500 ms: %d\n",
		f.ServiceLatencyMs.P99, svc999, f.ServiceLatencyMs.Max, svcOver)
	// Requests due during the stall wait for its end: the one due as it
	// begins waits the whole stall, the one due 1 ms later 1 ms less, and so
	// on. So the 0.1 % slowest of the run's requests (10 of 10,000) are
	// those due in the stall's first 10 ms, and a perfect recorder's p99.9
	// is the stall less 10 ms (the 11th slowest request, plus its service
	// time).
	ideal := o.stallFor - time.Duration(float64(f.Sent)*0.001/1000*float64(time.Second))
	fmt.Printf("a perfect recorder's corrected p99.9 for this stall: %.1f ms (stall less the 0.1 %% slowest requests' spacing); measured/ideal %.3f\n",
		float64(ideal)/1e6, p999/(float64(ideal)/1e6))
}

func numCPU() int {
	data, _ := os.ReadFile("/proc/cpuinfo")
	return bytes.Count(data, []byte("processor\t:"))
}

func loadAvg() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
