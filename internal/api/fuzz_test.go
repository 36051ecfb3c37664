package api

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sportello/sportello/internal/httpx"
)

// FuzzDecodeTicketPatch: no body, however broken, panics the decoder, and
// every refusal maps to a 4xx status.
func FuzzDecodeTicketPatch(f *testing.F) {
	f.Add([]byte(`{"status":"open","team_id":null,"assignee_id":3,"tags":["a"]}`))
	f.Add([]byte(`{"custom_fields":{"x":[1,{"y":null}]}}`))
	f.Add([]byte(`{"subject":"\ud800"}`))
	f.Add([]byte(`{"team_id":1e400}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPatch, "/api/v1/tickets/1", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		var in updateTicketIn
		if err := httpx.Decode(w, r, 1<<20, &in); err != nil {
			if st := httpx.Status(err); st < 400 || st >= 500 {
				t.Fatalf("decode error mapped to %d: %v", st, err)
			}
		}
	})
}
