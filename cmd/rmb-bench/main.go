// Command rmb-bench measures RMB on loopback against real processes: a tfgridd chain with the twins,
// an rmb-relay process, and peers in this process. scripts/bench-rmb.sh (make bench-rmb) runs it.
//
//	(a) relay throughput: envelopes pre-signed and pre-encrypted by this load generator are pushed
//	    through the relay by N sender connections to N receiver connections (the relay does no
//	    per-envelope crypto); each pair keeps at most --window envelopes in flight.
//	(b) round trips through rmb/peer (signed, encrypted request and response): latency at a fixed
//	    open-loop rate (--rate), then the rate reached by closed-loop callers at several concurrencies.
//
// CPU time is read from /proc for the relay and the chain and from getrusage for this process.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cosmos/cosmos-sdk/crypto/keys/secp256k1"
	"github.com/gorilla/websocket"

	"github.com/tfgrid/tfgrid/rmb"
	"github.com/tfgrid/tfgrid/rmb/peer"
	"github.com/tfgrid/tfgrid/rmb/twins"
	"github.com/tfgrid/tfgrid/rmb/types"
	"github.com/tfgrid/tfgrid/testnet"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rmb-bench:", err)
		os.Exit(1)
	}
}

var (
	tfgriddBin = flag.String("tfgridd", "build/tfgridd", "tfgridd binary")
	relayBin   = flag.String("relay", "build/rmb-relay", "rmb-relay binary")
	pairs      = flag.Int("pairs", 4, "(a) sender/receiver connection pairs")
	window     = flag.Int("window", 256, "(a) envelopes in flight per pair")
	payload    = flag.Int("payload", 256, "payload bytes (before encryption)")
	durA       = flag.Duration("duration-a", 10*time.Second, "(a) measured time")
	rate       = flag.Int("rate", 500, "(b) fixed round trips per second")
	durB       = flag.Duration("duration-b", 10*time.Second, "(b) measured time per step")
	conc       = flag.String("concurrency", "1,8,32,64", "(b) closed-loop concurrencies")
	relayArgs  = flag.String("relay-args", "", "extra rmb-relay flags (space separated)")
)

type proc struct{ pid int }

// cpu returns the process's user+system CPU seconds.
func (p proc) cpu() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

func selfCPU() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

type cpuSnap struct{ relay, chain, self, steal, idle float64 }

// machineCPU returns the machine's steal and idle CPU seconds (from /proc/stat).
func machineCPU() (steal, idle float64) {
	b, _ := os.ReadFile("/proc/stat")
	f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
	if len(f) > 8 {
		i, _ := strconv.ParseFloat(f[4], 64)
		st, _ := strconv.ParseFloat(f[8], 64)
		return st / 100, i / 100
	}
	return 0, 0
}

type env struct {
	chain *testnet.Chain
	relay *testnet.Relay
	keys  map[string]*secp256k1.PrivKey
	twins map[string]uint64
}

func (e *env) snap() cpuSnap {
	st, id := machineCPU()
	return cpuSnap{relay: proc{e.relay.PID()}.cpu(), chain: proc{e.chain.PID()}.cpu(), self: selfCPU(), steal: st, idle: id}
}

func split(a, b cpuSnap, secs float64) string {
	r, c, s := (b.relay-a.relay)/secs, (b.chain-a.chain)/secs, (b.self-a.self)/secs
	return fmt.Sprintf("relay %.2f cores, peers/load generator %.2f, chain %.2f, idle %.2f, steal %.2f (of %d)", r, s, c,
		(b.idle-a.idle)/secs, (b.steal-a.steal)/secs, runtime.NumCPU())
}

func run() error {
	flag.Parse()
	dir, err := os.MkdirTemp("", "rmb-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	e := &env{keys: map[string]*secp256k1.PrivKey{}}
	names := []string{"client", "server"}
	for i := range *pairs {
		names = append(names, fmt.Sprintf("s%d", i), fmt.Sprintf("r%d", i))
	}
	for _, n := range names {
		e.keys[n] = secp256k1.GenPrivKey()
	}
	ports, err := testnet.FreePorts(1)
	if err != nil {
		return err
	}
	listen := fmt.Sprintf("127.0.0.1:%d", ports[0])
	relayURL := "ws://" + listen
	t0 := time.Now()
	tfgridd, _ := filepath.Abs(*tfgriddBin)
	chain, err := testnet.StartChain(tfgridd, dir, e.keys)
	if err != nil {
		return err
	}
	defer chain.Stop()
	e.chain = chain
	specs := map[string]testnet.TwinSpec{}
	for _, n := range names {
		pub, _ := rmb.E2EPublicKey(e.keys[n])
		specs[n] = testnet.TwinSpec{Relays: []string{relayURL}, E2EKey: pub}
	}
	if e.twins, err = chain.CreateTwins(specs); err != nil {
		return err
	}
	rb, _ := filepath.Abs(*relayBin)
	e.relay = testnet.NewRelay(rb, listen, filepath.Join(dir, "relay.log"),
		// the benchmark measures the relay, not its default per-twin rate limit
		append([]string{"--grpc", chain.GRPC, "--rpc", chain.RPC, "--data-dir", filepath.Join(dir, "relay"), "--log-level", "warn",
			"--rate-messages", "0", "--rate-bytes", "0"},
			strings.Fields(*relayArgs)...)...)
	if err := e.relay.Start(); err != nil {
		return err
	}
	defer e.relay.Stop()
	fmt.Printf("setup: chain, %d twins and relay (pid %d) in %s; %d cores, %s\n\n", len(names), e.relay.PID(),
		time.Since(t0).Round(time.Second), runtime.NumCPU(), cpuModel())

	probe()
	if err := benchThroughput(e, relayURL); err != nil {
		return err
	}
	return benchRoundTrips(e, relayURL)
}

// probe measures secp256k1 verifications per second with 1 and 2 goroutines: how much CPU this
// machine gives now (on an idle core one verification takes about 170 µs).
func probe() {
	k := secp256k1.GenPrivKey()
	msg := []byte("probe")
	sig, _ := k.Sign(msg)
	pub, _ := rmb.ParsePubKey(k.PubKey().Bytes())
	var res []string
	for _, g := range []int{1, 2} {
		var n atomic.Int64
		var wg sync.WaitGroup
		stop := time.Now().Add(time.Second)
		for range g {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					rmb.VerifySignature(pub, msg, sig)
					n.Add(1)
				}
			}()
		}
		wg.Wait()
		res = append(res, fmt.Sprintf("%d goroutine(s) %d/s (%.0f µs each)", g, n.Load(), 1e6*float64(g)/float64(n.Load())))
	}
	fmt.Printf("machine probe, secp256k1 verifications: %s\n\n", strings.Join(res, ", "))
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			return strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
		}
	}
	return "unknown CPU"
}

func dial(e *env, url, name string) (*websocket.Conn, error) {
	tok, err := rmb.NewToken(e.keys[name], e.twins[name], "", time.Minute, time.Now())
	if err != nil {
		return nil, err
	}
	return peer.Dial(context.Background(), url, tok)
}

// benchThroughput is (a).
func benchThroughput(e *env, url string) error {
	const perSender = 2000
	fmt.Printf("(a) relay throughput: %d pairs, window %d, %d-byte payloads, pre-signed and pre-encrypted\n", *pairs, *window, *payload)
	t0 := time.Now()
	envs := make([][][]byte, *pairs)
	var wg sync.WaitGroup
	var genErr atomic.Value
	for i := range *pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, r := fmt.Sprintf("s%d", i), fmt.Sprintf("r%d", i)
			rpub, _ := rmb.E2EPublicKey(e.keys[r])
			theirs, _ := rmb.ParsePubKey(rpub)
			body := make([]byte, *payload)
			_, _ = rand.Read(body)
			pt := []byte(`{"data":"` + hex.EncodeToString(body)[:*payload] + `"}`)
			for j := range perSender {
				uid := fmt.Sprintf("%s-%d", s, j)
				src, dst := rmb.Address{Twin: e.twins[s]}, rmb.Address{Twin: e.twins[r]}
				ct, eph, err := rmb.SealEphemeral(theirs, rmb.AAD(uid, src, dst), pt)
				if err != nil {
					genErr.Store(err)
					return
				}
				en := &types.Envelope{Uid: uid, Timestamp: uint64(time.Now().Unix()), Expiration: 3600, Source: src.Proto(),
					Destination: dst.Proto(), Message: &types.Envelope_Request{Request: &types.Request{Command: "bench"}},
					Schema: rmb.SchemaJSON, Payload: &types.Envelope_Cipher{Cipher: ct}, EphemeralKey: eph}
				raw, err := rmb.SignEnvelope(en, e.keys[s])
				if err != nil {
					genErr.Store(err)
					return
				}
				envs[i] = append(envs[i], raw)
			}
		}()
	}
	wg.Wait()
	if err, ok := genErr.Load().(error); ok {
		return err
	}
	fmt.Printf("    generated %d envelopes of %d bytes in %s\n", *pairs*perSender, len(envs[0][0]), time.Since(t0).Round(time.Millisecond))

	var received atomic.Int64
	stop := make(chan struct{})
	var done sync.WaitGroup
	errs := make(chan error, 2**pairs)
	for i := range *pairs {
		sws, err := dial(e, url, fmt.Sprintf("s%d", i))
		if err != nil {
			return err
		}
		rws, err := dial(e, url, fmt.Sprintf("r%d", i))
		if err != nil {
			return err
		}
		credit := make(chan struct{}, *window)
		for range *window {
			credit <- struct{}{}
		}
		done.Add(2)
		go func() { // receiver
			defer done.Done()
			for {
				_ = rws.SetReadDeadline(time.Now().Add(5 * time.Second))
				_, _, err := rws.ReadMessage()
				if err != nil {
					select {
					case <-stop:
					default:
						errs <- fmt.Errorf("receiver %d: %w", i, err)
					}
					return
				}
				received.Add(1)
				credit <- struct{}{}
			}
		}()
		go func() { // sender
			defer done.Done()
			defer sws.Close()
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				case <-credit:
				}
				if err := sws.WriteMessage(websocket.BinaryMessage, envs[i][j%perSender]); err != nil {
					errs <- fmt.Errorf("sender %d: %w", i, err)
					return
				}
			}
		}()
		defer rws.Close()
	}
	time.Sleep(2 * time.Second) // warm-up
	a, n0, t1 := e.snap(), received.Load(), time.Now()
	time.Sleep(*durA)
	b, n1, secs := e.snap(), received.Load(), time.Since(t1).Seconds()
	close(stop)
	select {
	case err := <-errs:
		return err
	default:
	}
	n := n1 - n0
	fmt.Printf("    %d envelopes delivered in %.1f s: %.0f messages/s (%.1f MB/s)\n", n, secs, float64(n)/secs,
		float64(n)*float64(len(envs[0][0]))/secs/1e6)
	fmt.Printf("    CPU: %s\n\n", split(a, b, secs))
	return nil
}

// benchRoundTrips is (b).
func benchRoundTrips(e *env, url string) error {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	l, err := twins.Connect(ctx, e.chain.GRPC, e.chain.RPC, twins.Options{Logger: quiet})
	if err != nil {
		return err
	}
	defer l.Close()
	body := make([]byte, *payload/2)
	_, _ = rand.Read(body)
	req := map[string]string{"data": hex.EncodeToString(body)}
	server, err := peer.New(ctx, e.keys["server"], e.twins["server"], []string{url}, peer.Options{Lookup: l, Logger: quiet,
		HandlerConcurrency: 256, Handlers: map[string]peer.Handler{"echo": func(_ context.Context, r *peer.Request) (any, error) {
			if !r.Encrypted {
				return nil, fmt.Errorf("request arrived unencrypted")
			}
			return map[string]bool{"ok": true}, nil
		}}})
	if err != nil {
		return err
	}
	defer server.Close()
	client, err := peer.New(ctx, e.keys["client"], e.twins["client"], []string{url}, peer.Options{Lookup: l, Logger: quiet})
	if err != nil {
		return err
	}
	defer client.Close()
	callOnce := func() (time.Duration, error) {
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		start := time.Now()
		var out map[string]bool
		err := client.Call(c, e.twins["server"], "echo", req, &out)
		return time.Since(start), err
	}
	for range 200 { // warm-up: caches, ECDH keys
		if _, err := callOnce(); err != nil {
			return err
		}
	}

	if dir := os.Getenv("RMB_BENCH_PROFILE"); dir != "" {
		runtime.SetBlockProfileRate(100000)
		runtime.SetMutexProfileFraction(10)
		f, err := os.Create(filepath.Join(dir, "cpu.pprof"))
		if err != nil {
			return err
		}
		_ = pprof.StartCPUProfile(f)
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
			for _, name := range []string{"block", "mutex"} {
				if g, err := os.Create(filepath.Join(dir, name+".pprof")); err == nil {
					_ = pprof.Lookup(name).WriteTo(g, 0)
					g.Close()
				}
			}
		}()
	}
	fmt.Printf("(b) signed + encrypted request→response through rmb/peer, %d-byte payload\n", *payload)
	// open loop at a fixed rate
	var mu sync.Mutex
	var lat []time.Duration
	var lateness []time.Duration // how late each call started (the load generator's own delays)
	type slow struct{ at, d time.Duration }
	var slows []slow
	var failed atomic.Int64
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(*rate)
	a, t1 := e.snap(), time.Now()
	total := int(durB.Seconds() * float64(*rate))
	for i := range total {
		sched := t1.Add(time.Duration(i) * interval)
		time.Sleep(time.Until(sched))
		wg.Add(1)
		go func() {
			defer wg.Done()
			late := time.Since(sched)
			_, err := callOnce()
			d := time.Since(sched) // from the scheduled start: a late start counts (no coordinated omission)
			mu.Lock()
			lateness = append(lateness, late)
			mu.Unlock()
			if err != nil {
				failed.Add(1)
				return
			}
			mu.Lock()
			lat = append(lat, d)
			if d > 20*time.Millisecond {
				slows = append(slows, slow{sched.Sub(t1), d})
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if os.Getenv("RMB_BENCH_DEBUG") != "" {
		for _, s := range slows {
			fmt.Printf("      slow call scheduled at %s: %s\n", s.at.Round(time.Millisecond), s.d.Round(time.Millisecond))
		}
	}
	b, secs := e.snap(), time.Since(t1).Seconds()
	p50, p99, pmax := pct(lat, 0.50), pct(lat, 0.99), pct(lat, 1)
	fmt.Printf("    fixed %d round trips/s for %.0f s: %d ok, %d failed; latency p50 %s, p99 %s, max %s\n", *rate, durB.Seconds(),
		len(lat), failed.Load(), p50, p99, pmax)
	fmt.Printf("    of which the load generator started calls late by: p50 %s, p99 %s, max %s\n", pct(lateness, 0.5), pct(lateness, 0.99), pct(lateness, 1))
	fmt.Printf("    CPU: %s\n", split(a, b, secs))

	// closed loop
	best := 0.0
	for _, cs := range strings.Split(*conc, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(cs))
		if err != nil || c <= 0 {
			return fmt.Errorf("--concurrency %q", *conc)
		}
		var n atomic.Int64
		var mu sync.Mutex
		var lat []time.Duration
		stop := time.Now().Add(*durB)
		a, t1 := e.snap(), time.Now()
		var wg sync.WaitGroup
		for range c {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stop) {
					d, err := callOnce()
					if err != nil {
						failed.Add(1)
						continue
					}
					n.Add(1)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		b, secs := e.snap(), time.Since(t1).Seconds()
		r := float64(n.Load()) / secs
		best = max(best, r)
		fmt.Printf("    closed loop, %2d callers: %6.0f round trips/s, p50 %s, p99 %s; CPU: %s\n", c, r, pct(lat, 0.5), pct(lat, 0.99), split(a, b, secs))
	}
	fmt.Printf("    highest sustained: %.0f round trips/s (failed calls overall: %d)\n", best, failed.Load())
	return nil
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p*float64(len(s))) - 1
	if i < 0 {
		i = 0
	}
	return s[i].Round(10 * time.Microsecond)
}
