package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/blob"
	"github.com/sportello/sportello/internal/testdb"
)

// Issue 9, defect 11: two nodes on one PostgreSQL database, each with its
// own (empty) data folder: an attachment uploaded through node A downloads
// from node B, whole and by byte range across a chunk boundary; and files
// an earlier version left in a node's folder move into the database.
func TestAttachmentsAcrossNodes(t *testing.T) {
	db := testdb.Postgres(t)
	ctx := context.Background()
	// A file in node B's folder from before: it must move in at start.
	oldDir := t.TempDir()
	old, err := blob.New(oldDir + "/attachments")
	if err != nil {
		t.Fatal(err)
	}
	oldSum, _, err := old.Put(ctx, []byte("fattura del 2025, PDF finto"))
	if err != nil {
		t.Fatal(err)
	}
	var srv [2]*httptest.Server
	var desks [2]*app.Desk
	for i, dir := range []string{t.TempDir(), oldDir} {
		d := startNode(t, db, dir)
		srv[i] = httptest.NewServer(d.Handler())
		t.Cleanup(srv[i].Close)
		desks[i] = d
	}
	now := time.Now().UTC()
	a := &agent.Agent{Email: "admin@example.com", Name: "Admin", Role: agent.RoleAdmin, Language: "it", Timezone: "Europe/Rome",
		Availability: agent.Online, Active: true, PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	if err := desks[0].Store.CreateAgent(ctx, a); err != nil {
		t.Fatal(err)
	}
	tok, _, err := desks[0].Auth.NewToken(ctx, a.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	call := func(node int, method, path, body string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv[node].URL+path, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res, raw
	}
	content := make([]byte, 600<<10) // three chunks
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range content {
		content[i] = byte(rnd.IntN(256))
	}
	body := fmt.Sprintf(`{"subject":"Foto del danno","body":"in allegato","requester":{"email":"c@example.it"},"attachments":[{"filename":"danno.bin","content_base64":%q}]}`,
		base64.StdEncoding.EncodeToString(content))
	res, raw := call(0, "POST", "/api/v1/tickets", body)
	if res.StatusCode != 201 {
		t.Fatalf("upload through node A: %d %s", res.StatusCode, raw)
	}
	var created struct {
		Messages []struct {
			Attachments []struct {
				ID int64 `json:"id"`
			} `json:"attachments"`
		} `json:"messages"`
	}
	if err := jsonUnmarshal(raw, &created); err != nil || len(created.Messages) == 0 || len(created.Messages[0].Attachments) != 1 {
		t.Fatalf("created ticket: %v %s", err, raw)
	}
	path := fmt.Sprintf("/api/v1/attachments/%d", created.Messages[0].Attachments[0].ID)
	res, got := call(1, "GET", path, "")
	if res.StatusCode != 200 || !bytes.Equal(got, content) {
		t.Fatalf("download through node B: %d, %d bytes, equal %v", res.StatusCode, len(got), bytes.Equal(got, content))
	}
	from, to := 256<<10-10, 256<<10+9 // across the first chunk boundary
	res, got = call(1, "GET", path, "", "Range", fmt.Sprintf("bytes=%d-%d", from, to))
	if res.StatusCode != 206 || !bytes.Equal(got, content[from:to+1]) {
		t.Fatalf("range through node B: %d, %d bytes", res.StatusCode, len(got))
	}
	if ok, err := desks[0].Store.Blobs().Has(ctx, oldSum); err != nil || !ok {
		t.Fatalf("the old folder's file was not moved into the database: %v %v", ok, err)
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
