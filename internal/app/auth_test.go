package app_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/testdb"
)

// Sessions: sign in sets an HttpOnly, SameSite=Lax cookie that works for
// the API; sign out ends it; repeated failures lock the account, even for
// the right password; deactivation ends sessions and tokens at once.
func TestSessionsLockoutAndDeactivation(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		post := func(path, body string) *http.Response {
			t.Helper()
			res, err := c.Post(k.srv.URL+path, "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return res
		}
		get := func(path string) int {
			res, err := c.Get(k.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		res := post("/api/v1/auth/login", `{"email":"Agent@Example.com","password":"password-agent"}`)
		if res.StatusCode != 200 {
			t.Fatalf("login: %d", res.StatusCode)
		}
		var sc *http.Cookie
		for _, ck := range res.Cookies() {
			if ck.Name == "sportello_session" {
				sc = ck
			}
		}
		if sc == nil || !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Secure {
			t.Fatalf("session cookie %+v", sc)
		}
		if st := get("/api/v1/me"); st != 200 {
			t.Fatalf("/me with the session cookie: %d", st)
		}
		// A cross-site form post with the cookie is refused.
		req, _ := http.NewRequest("POST", k.srv.URL+"/api/v1/tickets", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		cr, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		cr.Body.Close()
		if cr.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST: %d, want 403", cr.StatusCode)
		}
		if res := post("/api/v1/auth/logout", ``); res.StatusCode != 204 {
			t.Fatalf("logout: %d", res.StatusCode)
		}
		if st := get("/api/v1/me"); st != 401 {
			t.Fatalf("/me after logout: %d", st)
		}

		for i := 0; i < 5; i++ {
			if res := post("/api/v1/auth/login", `{"email":"lead@example.com","password":"nope-nope-nope"}`); res.StatusCode != 401 {
				t.Fatalf("failure %d: %d", i, res.StatusCode)
			}
		}
		if res := post("/api/v1/auth/login", `{"email":"lead@example.com","password":"password-lead"}`); res.StatusCode != 429 {
			t.Fatalf("locked account accepted the right password: %d", res.StatusCode)
		}
		// An unknown account answers like a wrong password.
		if res := post("/api/v1/auth/login", `{"email":"ghost@example.com","password":"whatever-long"}`); res.StatusCode != 401 {
			t.Fatalf("unknown account: %d", res.StatusCode)
		}
		// Admin resets the locked lead's password: the lock goes.
		pw := k.must(200, "admin", "POST", fmt.Sprintf("/api/v1/agents/%d/password", k.agents["lead"].ID), nil).JSON["password"].(string)
		if res := post("/api/v1/auth/login", fmt.Sprintf(`{"email":"lead@example.com","password":%q}`, pw)); res.StatusCode != 200 {
			t.Fatalf("login with the reset password: %d", res.StatusCode)
		}

		// Change own password: wrong current one is named.
		r := k.do("agent", "PUT", "/api/v1/me/password", map[string]any{"current_password": "bad", "new_password": "a-new-long-password"})
		if r.Status != 422 || problemField(r) != "current_password" {
			t.Errorf("wrong current password: %s", r)
		}
		r = k.do("agent", "PUT", "/api/v1/me/password", map[string]any{"current_password": "password-agent", "new_password": "short"})
		if r.Status != 422 || problemField(r) != "new_password" {
			t.Errorf("short new password: %s", r)
		}
		k.must(204, "agent", "PUT", "/api/v1/me/password", map[string]any{"current_password": "password-agent", "new_password": "a-new-long-password"})

		// Deactivation: the agent's token stops working at once.
		k.must(200, "agent", "GET", "/api/v1/me", nil)
		k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/agents/%d", k.agents["agent"].ID), map[string]any{"active": false})
		k.must(401, "agent", "GET", "/api/v1/me", nil)
		tokens, _ := k.d.Store.Tokens(context.Background(), k.agents["agent"].ID)
		if len(tokens) != 0 {
			t.Errorf("deactivated agent keeps %d tokens", len(tokens))
		}
	})
}

func TestTokensThroughTheAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		tok := k.must(201, "agent", "POST", "/api/v1/tokens", map[string]any{"name": "CRM"})
		secret, _ := tok.JSON["token"].(string)
		if !strings.HasPrefix(secret, "spt_") {
			t.Fatalf("token %s", tok)
		}
		list := k.must(200, "agent", "GET", "/api/v1/tokens", nil)
		if strings.Contains(list.String(), secret) || !strings.Contains(list.String(), `"CRM"`) {
			t.Errorf("token list must never show secrets: %s", list)
		}
		k.token["crm"] = secret
		k.must(200, "crm", "GET", "/api/v1/me", nil)
		// Another agent cannot revoke it; its owner can.
		k.must(404, "lead", "DELETE", fmt.Sprintf("/api/v1/tokens/%d", tok.num("id")), nil)
		k.must(204, "agent", "DELETE", fmt.Sprintf("/api/v1/tokens/%d", tok.num("id")), nil)
		k.must(401, "crm", "GET", "/api/v1/me", nil)
	})
}

func TestAttachments(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")
		num := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "Foto del danno", "body": "Vedi allegato",
			"requester": map[string]any{"email": "foto@example.com"}, "team_id": k.teamID,
			"attachments": []any{map[string]any{"filename": "danno.html", "content_base64": base64.StdEncoding.EncodeToString(png)}}}).num("number")
		got := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", num), nil)
		att := got.JSON["messages"].([]any)[0].(map[string]any)["attachments"].([]any)[0].(map[string]any)
		if att["content_type"] != "image/png" || att["size"].(float64) != float64(len(png)) {
			t.Errorf("type must be sniffed, not taken from the name: %v", att)
		}
		dl := k.must(200, "agent", "GET", att["url"].(string), nil)
		if string(dl.Body) != string(png) || dl.Header.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.HasPrefix(dl.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("download: %v", dl.Header)
		}
		big := base64.StdEncoding.EncodeToString(make([]byte, 10<<20+1))
		r := k.do("agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", num), map[string]any{"kind": "reply", "body": "x",
			"attachments": []any{map[string]any{"filename": "big.bin", "content_base64": big}}})
		if r.Status != 422 || problemField(r) != "attachments[0].content" {
			t.Errorf("oversized attachment: %.300s", r)
		}
		// Someone who cannot see the ticket cannot fetch its files.
		other := k.must(201, "admin", "POST", "/api/v1/teams", map[string]any{"name": "Altro"}).num("id")
		k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/tickets/%d", num), map[string]any{"team_id": other})
		k.must(404, "agent", "GET", att["url"].(string), nil)
	})
}
