// Package redistest starts a real redis-server for tests: on a free loopback port, without
// persistence, stopped (by its PID) when the test ends. When redis-server is missing it installs
// Debian's package with apt-get (running apt-get update first if the install fails), so no test is
// skipped for lack of it.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var installOnce sync.Once
var installErr error

// Binary returns the path of redis-server, installing it when missing.
func Binary() (string, error) {
	if p, err := exec.LookPath("redis-server"); err == nil {
		return p, nil
	}
	installOnce.Do(func() {
		install := func() error {
			cmd := exec.Command("apt-get", "install", "-y", "--no-install-recommends", "redis-server")
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			out, err := cmd.CombinedOutput()
			if err != nil {
				return fmt.Errorf("apt-get install redis-server: %v\n%s", err, tail(out))
			}
			return nil
		}
		if err := install(); err != nil {
			up := exec.Command("apt-get", "update")
			if out, uerr := up.CombinedOutput(); uerr != nil {
				installErr = fmt.Errorf("%v; apt-get update: %v\n%s", err, uerr, tail(out))
				return
			}
			installErr = install()
		}
	})
	if installErr != nil {
		return "", installErr
	}
	return exec.LookPath("redis-server")
}

func tail(b []byte) string {
	s := string(b)
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}

// Server is a running redis-server.
type Server struct {
	URL  string // redis://127.0.0.1:PORT/0
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs a redis-server for t, stopped when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := StartProcess()
	if err != nil {
		t.Fatalf("redis: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartProcess runs a redis-server on a free loopback port; call Stop.
func StartProcess() (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	dir, err := os.MkdirTemp("", "rmb-redis-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--protected-mode", "yes")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &Server{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), Addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{})}
	var logMu sync.Mutex
	var log []string
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			logMu.Lock()
			log = append(log, sc.Text())
			logMu.Unlock()
		}
	}()
	go func() { _ = cmd.Wait(); os.RemoveAll(dir); close(s.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond); err == nil {
			_, _ = c.Write([]byte("PING\r\n"))
			buf := make([]byte, 7)
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := c.Read(buf)
			c.Close()
			if strings.HasPrefix(string(buf[:n]), "+PONG") {
				return s, nil
			}
		}
		select {
		case <-s.done:
			logMu.Lock()
			defer logMu.Unlock()
			return nil, fmt.Errorf("redis-server exited at start-up:\n%s", strings.Join(log, "\n"))
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("redis-server on %s did not answer PING within 10 s", s.Addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop terminates the server (SIGTERM, then SIGKILL after 5 s) and waits for it.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}
