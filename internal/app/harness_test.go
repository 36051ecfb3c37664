package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/config"
	"github.com/sportello/sportello/internal/team"
	"github.com/sportello/sportello/internal/testdb"
)

// desk is a running Sportello over a real database and a real TCP
// listener on 127.0.0.1, with one API token per role.
type desk struct {
	t      *testing.T
	d      *app.Desk
	srv    *httptest.Server
	token  map[string]string // role → bearer token ("" for anonymous)
	agents map[string]*agent.Agent
	teamID int64 // the team the lead and the agent belong to
	db     testdb.DB
}

var roles = []string{"anonymous", "agent", "lead", "admin"}

func newDesk(t *testing.T, db testdb.DB) *desk {
	t.Helper()
	k := &desk{t: t, token: map[string]string{"anonymous": ""}, agents: map[string]*agent.Agent{}}
	k.reopen(db, app.Options{})
	d, ctx := k.d, context.Background()
	now := time.Now().UTC()
	for _, role := range []string{"admin", "lead", "agent"} {
		hash, _ := auth.HashPassword("password-" + role)
		a := &agent.Agent{Email: role + "@example.com", Name: strings.ToUpper(role[:1]) + role[1:] + " Person", Role: agent.Role(role),
			Language: "it", Timezone: "Europe/Rome", Availability: agent.Online, Active: true, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
		if err := d.Store.CreateAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
		secret, _, err := d.Auth.NewToken(ctx, a.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		k.token[role] = secret
		k.agents[role] = a
	}
	tm := &team.Team{Name: "Supporto L1", Tier: 1, MemberIDs: []int64{k.agents["lead"].ID, k.agents["agent"].ID}, CreatedAt: now, UpdatedAt: now}
	if err := d.Store.CreateTeam(ctx, tm); err != nil {
		t.Fatal(err)
	}
	k.teamID = tm.ID
	return k
}

// reopen builds a desk over db (again, after a restart) and serves it.
func (k *desk) reopen(db testdb.DB, opt app.Options) {
	k.t.Helper()
	cfg := config.Defaults()
	cfg.DataDir, cfg.DatabaseURL = db.DataDir, db.URL
	if err := cfg.Validate(); err != nil {
		k.t.Fatal(err)
	}
	d, err := app.New(context.Background(), cfg, opt)
	if err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(func() { d.Close() })
	srv := httptest.NewServer(d.Handler())
	k.t.Cleanup(srv.Close)
	k.d, k.srv, k.db = d, srv, db
}

// resp is a decoded answer.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

func (r resp) String() string { return string(r.Body) }

// num reads a numeric JSON field as int64.
func (r resp) num(key string) int64 {
	f, _ := r.JSON[key].(float64)
	return int64(f)
}

// do sends a request as role; body may be a string (sent as is) or a value
// (sent as JSON).
func (k *desk) do(role, method, path string, body any) resp {
	k.t.Helper()
	return k.doWith(role, method, path, body, nil)
}

// doWith is do with extra request headers.
func (k *desk) doWith(role, method, path string, body any, headers map[string]string) resp {
	k.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			k.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, k.srv.URL+path, rd)
	if err != nil {
		k.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok := k.token[role]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for h, v := range headers {
		req.Header.Set(h, v)
	}
	c := *k.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Do(req)
	if err != nil {
		k.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{Status: res.StatusCode, Header: res.Header, Body: raw}
	_ = json.Unmarshal(raw, &out.JSON)
	return out
}

// must checks the status and returns the answer.
func (k *desk) must(want int, role, method, path string, body any) resp {
	k.t.Helper()
	r := k.do(role, method, path, body)
	if r.Status != want {
		k.t.Fatalf("%s %s as %s: status %d, want %d: %s", method, path, role, r.Status, want, r)
	}
	return r
}

// problemField returns the first field named in a problem document.
func problemField(r resp) string {
	errs, _ := r.JSON["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	m, _ := errs[0].(map[string]any)
	s, _ := m["field"].(string)
	return s
}
