package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/testdb"
)

// syncBuffer is a bytes.Buffer safe to read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := app.Run(context.Background(), args, func(string) string { return "" }, app.IO{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return out.String() + errb.String(), err
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func dbFlags(db testdb.DB) []string {
	f := []string{"--data", db.DataDir}
	if db.URL != "" {
		f = append(f, "--database", db.URL)
	}
	return f
}

// The README's first command: the server starts, prints the admin's
// one-time login, answers /healthz, works with a token from the CLI, and
// shuts down cleanly when its context ends (SIGINT/SIGTERM in main).
func TestServeCommand(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		addr := freeAddr(t)
		ctx, cancel := context.WithCancel(context.Background())
		out := &syncBuffer{}
		done := make(chan error, 1)
		go func() {
			done <- app.Run(ctx, append([]string{"--addr", addr, "--log-format", "json"}, dbFlags(db)...),
				func(string) string { return "" }, app.IO{In: strings.NewReader(""), Out: out, Err: io.Discard})
		}()
		var res *http.Response
		for i := 0; i < 100; i++ {
			var err error
			if res, err = http.Get("http://" + addr + "/healthz"); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if res == nil || res.StatusCode != 200 {
			t.Fatalf("/healthz did not answer 200: %v\n%s", res, out)
		}
		res.Body.Close()
		m := regexp.MustCompile(`email:\s+(\S+)\s+password:\s+(\S+)`).FindStringSubmatch(out.String())
		if m == nil || !strings.Contains(out.String(), "http://"+addr+"/login") {
			t.Fatalf("no admin login printed:\n%s", out)
		}
		body := fmt.Sprintf(`{"email":%q,"password":%q}`, m[1], m[2])
		lr, err := http.Post("http://"+addr+"/api/v1/auth/login", "application/json", strings.NewReader(body))
		if err != nil || lr.StatusCode != 200 {
			t.Fatalf("the printed password does not sign in: %v %v", err, lr)
		}
		lr.Body.Close()

		tok, err := run(t, "", append([]string{"token", "add", "--email", m[1], "--name", "test"}, dbFlags(db)...)...)
		if err != nil {
			t.Fatal(err, tok)
		}
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(tok))
		me, err := http.DefaultClient.Do(req)
		if err != nil || me.StatusCode != 200 {
			t.Fatalf("CLI token refused: %v %v", err, me)
		}
		me.Body.Close()

		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("shutdown: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("server did not shut down")
		}
		// A second start finds the admin and prints no password.
		ctx2, cancel2 := context.WithCancel(context.Background())
		out2 := &syncBuffer{}
		go func() {
			done <- app.Run(ctx2, append([]string{"--addr", addr}, dbFlags(db)...), func(string) string { return "" }, app.IO{Out: out2, Err: io.Discard})
		}()
		for i := 0; i < 100 && !strings.Contains(out2.String(), "running at"); i++ {
			time.Sleep(50 * time.Millisecond)
		}
		cancel2()
		<-done
		if strings.Contains(out2.String(), "password") {
			t.Errorf("second start printed a password:\n%s", out2)
		}
	})
}

func TestUserAndMigrateCommands(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		f := dbFlags(db)
		out, err := run(t, "a-long-enough-password\n", append([]string{"user", "add", "--email", "Sara@Example.com", "--name", "Sara Conti", "--role", "lead"}, f...)...)
		if err != nil || !strings.Contains(out, "added lead Sara Conti <sara@example.com>") || strings.Contains(out, "password:") {
			t.Fatalf("user add: %v\n%s", err, out)
		}
		out, err = run(t, "", append([]string{"user", "add", "--email", "tom@example.com", "--name", "Tom", "--role", "agent"}, f...)...)
		if err != nil || !regexp.MustCompile(`password: \S{10,}`).MatchString(out) {
			t.Fatalf("user add with a generated password: %v\n%s", err, out)
		}
		if _, err := run(t, "", append([]string{"user", "add", "--email", "bad", "--name", "X", "--role", "boss"}, f...)...); err == nil ||
			!strings.Contains(err.Error(), "email") || !strings.Contains(err.Error(), "role") {
			t.Fatalf("bad user add: %v", err)
		}
		if _, err := run(t, "short\n", append([]string{"user", "passwd", "--email", "tom@example.com"}, f...)...); err == nil {
			t.Fatal("a short password must be refused")
		}
		if out, err := run(t, "another-long-password\n", append([]string{"user", "passwd", "--email", "tom@example.com"}, f...)...); err != nil || !strings.Contains(out, "password changed") {
			t.Fatalf("passwd: %v %s", err, out)
		}
		if _, err := run(t, "", append([]string{"token", "add", "--email", "nobody@example.com", "--name", "x"}, f...)...); err == nil {
			t.Fatal("token for an unknown agent")
		}
		out, err = run(t, "", append([]string{"migrate", "status"}, f...)...)
		if err != nil || !strings.Contains(out, "00001") || !strings.Contains(out, "applied") {
			t.Fatalf("migrate status: %v\n%s", err, out)
		}
		if out, err := run(t, "", "version"); err != nil || !strings.HasPrefix(out, "sportello ") {
			t.Fatalf("version: %v %s", err, out)
		}
		if _, err := run(t, "", "frobnicate"); err == nil {
			t.Fatal("unknown command accepted")
		}
		if _, err := run(t, "", "--addr", "nonsense", "--data", t.TempDir()); err == nil || !strings.Contains(err.Error(), "--addr") {
			t.Fatalf("bad --addr: %v", err)
		}
	})
}

func TestEnvironmentConfiguresServe(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	env := map[string]string{"SPORTELLO_DATA": dir, "SPORTELLO_ADDR": addr, "SPORTELLO_BASE_URL": "https://help.example.com"}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, nil, func(k string) string { return env[k] }, app.IO{Out: out, Err: io.Discard})
	}()
	for i := 0; i < 100 && !strings.Contains(out.String(), "running at"); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "https://help.example.com/login") {
		t.Fatalf("env not applied:\n%s", out)
	}
}
