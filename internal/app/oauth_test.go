package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"

	"github.com/sportello/sportello/internal/testdb"
	"github.com/sportello/sportello/internal/ticket"
)

// authServer is the test's own OAuth2 authorisation server: it hands out
// a code for the registered client, trades it for tokens when the PKCE
// verifier matches, and renews access tokens with the refresh token.
// Its first access token expires at once, so the desk must renew it.
type authServer struct {
	*httptest.Server
	mu        sync.Mutex
	challenge string
	access    string // the one valid access token
	refreshes int
}

func newAuthServer(t *testing.T) *authServer {
	a := &authServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("client_id") != "bottega-client" || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("access_type") != "offline" {
			http.Error(w, "bad request", 400)
			return
		}
		a.mu.Lock()
		a.challenge = q.Get("code_challenge")
		a.mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=code-1&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.FormValue("client_id"), r.FormValue("client_secret")
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		refuse := func(code string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error": code})
		}
		if id != "bottega-client" || secret != "client-secret-42" {
			refuse("invalid_client")
			return
		}
		out := map[string]any{"token_type": "Bearer"}
		switch r.FormValue("grant_type") {
		case "authorization_code":
			sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
			if r.FormValue("code") != "code-1" || base64.RawURLEncoding.EncodeToString(sum[:]) != a.challenge {
				refuse("invalid_grant")
				return
			}
			a.access = "access-1"
			out["access_token"], out["refresh_token"], out["expires_in"] = a.access, "refresh-1", 1
		case "refresh_token":
			if r.FormValue("refresh_token") != "refresh-1" {
				refuse("invalid_grant")
				return
			}
			a.refreshes++
			a.access = fmt.Sprintf("access-%d", a.refreshes+1)
			out["access_token"], out["expires_in"] = a.access, 3600
		default:
			refuse("unsupported_grant_type")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	return a
}

func (a *authServer) valid(tok string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return tok != "" && tok == a.access
}

// xoauthSession is the in-memory IMAP server's session with XOAUTH2 as
// its only sign-in: the bearer token must be the one the authorisation
// server last issued.
type xoauthSession struct {
	*imapmemserver.UserSession
	auth *authServer
	user *imapmemserver.User
	seen *[]string
}

func (s *xoauthSession) AuthenticateMechanisms() []string { return []string{"XOAUTH2"} }

func (s *xoauthSession) Authenticate(mech string) (sasl.Server, error) {
	if mech != "XOAUTH2" {
		return nil, errors.New("only XOAUTH2")
	}
	return xoauthServer(func(user, token string) error {
		*s.seen = append(*s.seen, token)
		if user != "desk@bottega.example" || !s.auth.valid(token) {
			return errors.New("invalid token")
		}
		s.UserSession = imapmemserver.NewUserSession(s.user)
		return nil
	}), nil
}

func (s *xoauthSession) Login(string, string) error { return errors.New("passwords are not accepted") }

type xoauthServer func(user, token string) error

func (f xoauthServer) Next(resp []byte) ([]byte, bool, error) {
	var user, token string
	for _, kv := range strings.Split(string(resp), "\x01") {
		if v, ok := strings.CutPrefix(kv, "user="); ok {
			user = v
		}
		if v, ok := strings.CutPrefix(kv, "auth=Bearer "); ok {
			token = v
		}
	}
	return nil, true, f(user, token)
}

// A mailbox connected with OAuth2, on both databases: the admin goes to
// the test's own authorisation server and back, the desk trades the code
// (with PKCE) for tokens kept sealed and never shown, renews the expired
// access token with the refresh token, and signs in to an IMAP server
// that accepts only XOAUTH2 with the valid token; a state made for
// another admin is refused.
func TestMailboxOAuth2(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		ctx := context.Background()
		as := newAuthServer(t)
		mem := imapmemserver.New()
		user := imapmemserver.NewUser("desk@bottega.example", "never-used")
		if err := user.Create("INBOX", nil); err != nil {
			t.Fatal(err)
		}
		mem.AddUser(user)
		var seen []string
		srv := imapserver.New(&imapserver.Options{
			NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
				return &xoauthSession{auth: as, user: user, seen: &seen}, nil, nil
			},
			InsecureAuth: true,
			Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		host, port, _ := net.SplitHostPort(ln.Addr().String())
		created := k.must(201, "admin", "POST", "/api/v1/mailboxes", map[string]any{"address": "desk@bottega.example", "team_id": k.teamID,
			"imap": map[string]any{"host": host, "port": mustAtoi(t, port), "tls": "none", "user": "desk@bottega.example"},
			"auth": "oauth2", "oauth": map[string]any{"provider": "custom", "auth_url": as.URL + "/authorize", "token_url": as.URL + "/token",
				"client_id": "bottega-client", "client_secret": "client-secret-42", "scopes": []string{"mail"}}})
		id := created.num("id")
		if strings.Contains(created.String(), "client-secret-42") {
			t.Fatalf("the client secret came back: %s", created)
		}

		// The admin's browser: desk → provider → desk.
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		get := func(role, u string) *http.Response {
			req, _ := http.NewRequest("GET", u, nil)
			if role != "" {
				req.Header.Set("Authorization", "Bearer "+k.token[role])
			}
			res, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}
		start := get("admin", fmt.Sprintf("%s/api/v1/mailboxes/%d/oauth/start", k.srv.URL, id))
		if start.StatusCode != http.StatusFound || !strings.HasPrefix(start.Header.Get("Location"), as.URL+"/authorize?") {
			t.Fatalf("start: %d %s", start.StatusCode, start.Header.Get("Location"))
		}
		back := get("", start.Header.Get("Location"))
		if back.StatusCode != http.StatusFound {
			t.Fatalf("the provider refused the request: %d", back.StatusCode)
		}
		cb, _ := url.Parse(back.Header.Get("Location"))
		callback := k.srv.URL + cb.Path + "?" + cb.RawQuery
		if r := get("lead", callback); r.StatusCode != http.StatusForbidden {
			t.Errorf("a lead finishing the admin's connection: %d", r.StatusCode)
		}
		if r := k.do("admin", "GET", "/api/v1/mailbox-oauth/callback?code=code-1&state=1.1.9999999999.forged", nil); r.Status != 422 || problemField(r) != "state" {
			t.Errorf("a forged state: %d %s", r.Status, r)
		}
		if r := get("admin", callback); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != fmt.Sprintf("/admin/mailboxes/%d?connected=1", id) {
			t.Fatalf("callback: %d %s", r.StatusCode, r.Header.Get("Location"))
		}
		mbJSON := k.must(200, "admin", "GET", "/api/v1/mailboxes", nil).String()
		if !strings.Contains(mbJSON, `"connected":true`) || strings.Contains(mbJSON, "refresh-1") || strings.Contains(mbJSON, "access-1") {
			t.Fatalf("the mailbox as the API shows it: %s", mbJSON)
		}
		mb, err := k.d.Store.Mailbox(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(mb.OAuth.RefreshToken, "refresh-1") || mb.OAuth.RefreshToken == "" {
			t.Fatalf("the refresh token is stored as %q", mb.OAuth.RefreshToken)
		}

		// The first access token has expired: the poll renews it and signs
		// in with XOAUTH2.
		if _, err := user.Append("INBOX", literal{strings.NewReader("From: Cliente <c@example.it>\r\nTo: desk@bottega.example\r\nSubject: Via OAuth\r\nMessage-ID: <oauth-1@example.it>\r\n\r\nCiao\r\n")}, &imap.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		if n, err := k.d.IMAPPoller().Poll(ctx, mb); err != nil || n != 1 {
			t.Fatalf("poll with OAuth2: %d, %v (tokens tried %v)", n, err, seen)
		}
		if as.refreshes != 1 || seen[len(seen)-1] != "access-2" {
			t.Errorf("refreshes %d, tokens presented %v", as.refreshes, seen)
		}
		ts, _ := k.d.Tickets.List(ctx, ticket.System, ticket.Filter{Limit: 10})
		if len(ts) != 1 || ts[0].Subject != "Via OAuth" {
			t.Fatalf("tickets: %+v", ts)
		}
		// The renewed token was kept: the next sign-in needs no refresh.
		mb, _ = k.d.Store.Mailbox(ctx, id)
		if r := k.must(200, "admin", "POST", fmt.Sprintf("/api/v1/mailboxes/%d/test", id), nil); check(r, "imap")["ok"] != true || as.refreshes != 1 {
			t.Errorf("the connection check: %s (refreshes %d)", r, as.refreshes)
		}
	})
}
