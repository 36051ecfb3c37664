package ticket

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	xhtml "golang.org/x/net/html"
	"pgregory.net/rapid"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/fault"
)

func TestTransitions(t *testing.T) {
	allowed := map[Status][]Status{
		StatusNew:     {StatusOpen, StatusPending, StatusOnHold, StatusSolved},
		StatusOpen:    {StatusPending, StatusOnHold, StatusSolved},
		StatusPending: {StatusOpen, StatusOnHold, StatusSolved},
		StatusOnHold:  {StatusOpen, StatusPending, StatusSolved},
		StatusSolved:  {StatusOpen, StatusClosed},
		StatusClosed:  {},
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			want := from == to || slices.Contains(allowed[from], to)
			if got := CanTransition(from, to); got != want {
				t.Errorf("%s → %s: %v, want %v", from, to, got, want)
			}
		}
	}
}

func newTicket() *Ticket {
	return &Ticket{ID: 7, Subject: "Stampante", Status: StatusNew, Priority: PriorityNormal, RequesterID: 1, CustomFields: Fields{}}
}

var admin = Actor{Type: ActorAgent, ID: 1, Role: agent.RoleAdmin}

func TestApplyRecordsEachChange(t *testing.T) {
	tk := newTicket()
	now := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	team := int64(3)
	st, pr := StatusSolved, PriorityUrgent
	evs, err := Apply(tk, Patch{Status: &st, Priority: &pr, TeamID: Ref{Set: true, ID: &team}, AddTags: []string{"Rete Fissa", "vip", "vip"}}, admin, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Field+":"+e.Before+">"+e.After)
		if e.ActorType != ActorAgent || *e.ActorID != 1 || !e.CreatedAt.Equal(now) || e.TicketID != 7 {
			t.Errorf("event %+v", e)
		}
	}
	want := []string{"priority:normal>urgent", "team:>3", "tags:>rete-fissa,vip", "status:new>solved"}
	if !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
	if tk.SolvedAt == nil || !tk.UpdatedAt.Equal(now) {
		t.Errorf("timestamps not kept: %+v", tk)
	}
	// Reopen counts.
	op := StatusOpen
	evs, err = Apply(tk, Patch{Status: &op}, admin, now.Add(time.Hour), nil)
	if err != nil || tk.ReopenCount != 1 || len(evs) != 2 || evs[1].Field != "reopened" {
		t.Errorf("reopen: %v %+v %v", err, evs, tk.ReopenCount)
	}
	// A no-op patch changes nothing and records nothing.
	evs, err = Apply(tk, Patch{Status: &op, Priority: &pr}, admin, now.Add(2*time.Hour), nil)
	if err != nil || len(evs) != 0 || !tk.UpdatedAt.Equal(now.Add(time.Hour)) {
		t.Errorf("no-op patch: %v %+v", err, evs)
	}
}

func TestApplyRefusals(t *testing.T) {
	closed := newTicket()
	closed.Status = StatusClosed
	if _, err := Apply(closed, Patch{Subject: ptr("x")}, admin, time.Now(), nil); !errors.Is(err, ErrClosed) || !errors.Is(err, fault.Conflict) {
		t.Errorf("closed ticket: %v", err)
	}
	agentActor := Actor{Type: ActorAgent, ID: 5, Role: agent.RoleAgent}
	other := int64(9)
	_, err := Apply(newTicket(), Patch{AssigneeID: Ref{Set: true, ID: &other}}, agentActor, time.Now(), nil)
	assertField(t, err, "assignee_id", "permission")
	self := int64(5)
	tk := newTicket()
	if _, err := Apply(tk, Patch{AssigneeID: Ref{Set: true, ID: &self}}, agentActor, time.Now(), nil); err != nil || tk.Status != StatusOpen {
		t.Errorf("taking a new ticket opens it: %v %s", err, tk.Status)
	}
	defs := []FieldDef{{Key: "prodotto", Type: FieldSelect, Options: []string{"Casa", "Pro"}, Active: true},
		{Key: "scadenza", Type: FieldDate, Active: true}, {Key: "importo", Type: FieldNumber, Active: true}}
	for _, c := range []struct {
		in    map[string]any
		field string
		rule  string
	}{
		{map[string]any{"prodotto": "Business"}, "custom_fields.prodotto", "enum"},
		{map[string]any{"scadenza": "31/12/2026"}, "custom_fields.scadenza", "date"},
		{map[string]any{"importo": "dieci"}, "custom_fields.importo", "number"},
		{map[string]any{"colore": "rosso"}, "custom_fields.colore", "unknown_field"},
	} {
		_, err := Apply(newTicket(), Patch{CustomFields: c.in}, admin, time.Now(), defs)
		assertField(t, err, c.field, c.rule)
	}
	tk = newTicket()
	if _, err := Apply(tk, Patch{CustomFields: map[string]any{"prodotto": "Pro", "importo": 12.5, "scadenza": "2026-12-31"}}, admin, time.Now(), defs); err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(tk, Patch{CustomFields: map[string]any{"prodotto": nil}}, admin, time.Now(), defs); err != nil || tk.CustomFields["prodotto"] != nil {
		t.Errorf("null clears a field: %v %v", err, tk.CustomFields)
	}
}

func assertField(t *testing.T, err error, field, rule string) {
	t.Helper()
	var ve *fault.ValidationError
	if !errors.As(err, &ve) || ve.Problems[0].Field != field || ve.Problems[0].Rule != rule {
		t.Errorf("want %s/%s, got %v", field, rule, err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestVisibility(t *testing.T) {
	team, other, me := int64(1), int64(2), int64(5)
	a := Actor{Type: ActorAgent, ID: me, Role: agent.RoleAgent, TeamIDs: []int64{team}}
	cases := []struct {
		t    Ticket
		want bool
	}{
		{Ticket{TeamID: &team}, true},
		{Ticket{TeamID: &other}, false},
		{Ticket{TeamID: &other, AssigneeID: &me}, true},
		{Ticket{}, true},
	}
	for i, c := range cases {
		if got := a.CanSee(&c.t); got != c.want {
			t.Errorf("case %d: %v", i, got)
		}
	}
	if !admin.CanSee(&Ticket{TeamID: &other}) {
		t.Error("admins see everything")
	}
}

// Property: whatever sequence of status moves is attempted, the ticket only
// ever follows allowed transitions, every accepted change is recorded as an
// event whose before/after chain is unbroken, and closed is final.
func TestStatusHistoryIsConsistent(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tk := newTicket()
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var history []Event
		steps := rapid.IntRange(1, 40).Draw(t, "steps")
		for i := 0; i < steps; i++ {
			to := rapid.SampledFrom(Statuses).Draw(t, "to")
			before := tk.Status
			now = now.Add(time.Minute)
			evs, err := Apply(tk, Patch{Status: &to}, admin, now, nil)
			switch {
			case before == StatusClosed:
				if !errors.Is(err, ErrClosed) || tk.Status != StatusClosed {
					t.Fatalf("closed ticket changed: %v", err)
				}
			case CanTransition(before, to):
				if err != nil {
					t.Fatalf("%s → %s refused: %v", before, to, err)
				}
			default:
				if err == nil {
					t.Fatalf("%s → %s accepted", before, to)
				}
				tk.Status = before // Apply's contract: discard on error
				continue
			}
			history = append(history, evs...)
		}
		cur := string(StatusNew)
		reopens := 0
		for _, e := range history {
			switch e.Field {
			case "status":
				if e.Before != cur {
					t.Fatalf("broken chain: event says %s → %s but ticket was %s", e.Before, e.After, cur)
				}
				if e.Before == string(StatusSolved) && e.After == string(StatusOpen) {
					reopens++
				}
				cur = e.After
			}
		}
		if cur != string(tk.Status) || reopens != tk.ReopenCount {
			t.Fatalf("history ends at %s with %d reopens, ticket is %s with %d", cur, reopens, tk.Status, tk.ReopenCount)
		}
	})
}

func TestSanitizer(t *testing.T) {
	s := NewSanitizer()
	text, html, err := s.Body("body", "", `<p onclick="x()">Ciao <b>Mario</b></p><script>alert(1)</script><img src="https://tracker.example/p.gif"><img src="cid:logo@x"><a href="javascript:alert(1)">link</a><a href="https://ok.example">ok</a>`)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"script", "onclick", "tracker.example", "javascript:"} {
		if strings.Contains(html, bad) {
			t.Errorf("sanitised HTML still has %q: %s", bad, html)
		}
	}
	for _, good := range []string{"<b>Mario</b>", `src="cid:logo@x"`, `href="https://ok.example"`, `rel="nofollow`} {
		if !strings.Contains(html, good) {
			t.Errorf("sanitised HTML lost %q: %s", good, html)
		}
	}
	if !strings.HasPrefix(text, "Ciao Mario") {
		t.Errorf("derived text %q", text)
	}
	_, html, _ = s.Body("body", "a < b\n\nnuovo paragrafo\nriga", "")
	if html != "<p>a &lt; b</p><p>nuovo paragrafo<br>riga</p>" {
		t.Errorf("text to HTML: %s", html)
	}
	if _, _, err := s.Body("body", "   ", "<p> </p>"); err == nil {
		t.Error("an empty body must be refused")
	}
}

// FuzzSanitizeBody: whatever comes in, the stored HTML carries no script,
// event handler or javascript: URL, and the call never panics.
func FuzzSanitizeBody(f *testing.F) {
	f.Add("", `<p>Ciao</p><script>x</script>`)
	f.Add("testo", `<a href="jav&#x09;ascript:alert(1)">x</a>`)
	f.Add("", `<img src=x onerror=alert(1)><svg><script>1</script></svg>`)
	f.Add("", `<<script>script>alert(1)<</script>/script>`)
	s := NewSanitizer()
	f.Fuzz(func(t *testing.T, text, html string) {
		_, out, err := s.Body("body", text, html)
		if err != nil {
			return
		}
		// Inspect what a browser would parse, not the text: escaped text
		// that merely reads "onerror=" is harmless.
		z := xhtml.NewTokenizer(strings.NewReader(out))
		for {
			tt := z.Next()
			if tt == xhtml.ErrorToken {
				return
			}
			if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
				continue
			}
			tok := z.Token()
			switch tok.Data {
			case "script", "iframe", "object", "embed", "style", "form", "input", "svg", "math", "base", "meta", "link":
				t.Fatalf("sanitised output keeps <%s>: %q", tok.Data, out)
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.Join(strings.Fields(a.Val), ""))
				if strings.HasPrefix(a.Key, "on") || a.Key == "style" || strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "data:") ||
					(a.Key == "src" && !strings.HasPrefix(v, "cid:")) {
					t.Fatalf("sanitised output keeps %s=%q on <%s>: %q", a.Key, a.Val, tok.Data, out)
				}
			}
		}
	})
}
