package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/i18n"
)

// A signed-in agent on a page above their role gets the 403 page in their
// language, never a stack trace; a handler's internal error shows only the
// request id.
func TestErrorPages(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	h, err := newHandler(Deps{I18n: b, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	a := &agent.Agent{Name: "Marco", Role: agent.RoleAgent, Language: "it", Timezone: "Europe/Rome"}
	serve := func(fn httpx.HandlerFunc) (int, string) {
		req := httptest.NewRequest("GET", "/admin", nil)
		req = req.WithContext(withAgent(req.Context(), a))
		w := httptest.NewRecorder()
		if err := fn(w, req); err != nil {
			h.fail(w, req, err)
		}
		body, _ := io.ReadAll(w.Result().Body)
		return w.Code, string(body)
	}
	st, body := serve(func(w http.ResponseWriter, r *http.Request) error {
		if !httpx.Admin.Allows(current(r).Role.Rank()) {
			return errForbidden(httpx.Admin)
		}
		return nil
	})
	if st != 403 || !strings.Contains(body, "Accesso negato") {
		t.Fatalf("403 page: %d %s", st, body)
	}
	st, body = serve(func(w http.ResponseWriter, r *http.Request) error { return io.ErrUnexpectedEOF })
	if st != 500 || !strings.Contains(body, "Qualcosa è andato storto") || strings.Contains(body, "unexpected EOF") {
		t.Fatalf("500 page: %d %s", st, body)
	}
}
