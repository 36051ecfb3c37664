package app_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/testdb"
)

// chromiumPath is Debian's Chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// newBrowserTab starts its own headless Chromium (its own profile, so its
// own cookies) and returns a tab context.
func newBrowserTab(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("browser tests need %s (apt-get install chromium; CI installs it)", chromiumPath)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first call starts the browser; it must not carry a timeout, or
	// the timeout would stop the browser itself.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// step runs browser actions, bounded in time.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// value evaluates JavaScript in the page.
func value[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// typeInto focuses a field and types text as key events. Fields with a
// type-ahead change their own attributes as the text changes, and
// chromedp.SendKeys reads the element's attributes while its DOM events
// update them (a data race in chromedp 0.23 that -race reports); key
// events go to the focused element without reading it.
func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Focus(chromedp.CSS(sel)), chromedp.KeyEvent(text))
}

func signIn(base, email, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(chromedp.ID("email")),
		typeInto("#email", email),
		typeInto("#password", password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("[data-inbox]")),
	)
}

func TestBrowserWorkspace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		base := k.srv.URL
		first := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Il modem non si accende",
			"body": "Da stamattina il modem è spento.", "requester": map[string]any{"email": "chiara@example.it", "name": "Chiara Greco"},
			"team_id": k.teamID}).num("number")

		a := newBrowserTab(t) // the agent
		b := newBrowserTab(t) // the lead, in another browser
		step(t, a, "agent signs in", signIn(base, "agent@example.com", "password-agent"))
		step(t, b, "lead signs in", signIn(base, "lead@example.com", "password-lead"))

		// The agent opens the ticket from the inbox and replies.
		step(t, a, "open from inbox",
			chromedp.Navigate(base+"/?view=teams"),
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr[data-number="%d"] a[data-open]`, first))),
			chromedp.WaitVisible(chromedp.ID("composer")),
			typeInto("#body", "Buongiorno Chiara, grazie: le mando un tecnico domani entro le 12."),
			chromedp.Click(chromedp.CSS(`#composer button[type=submit]`)),
			chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"msg-reply")]//div[contains(., "le mando un tecnico")]`)),
		)

		// The lead watches their teams' queue; a ticket created through the
		// API appears without a reload.
		step(t, b, "lead's queue",
			chromedp.Navigate(base+"/?view=teams"),
			chromedp.WaitVisible(chromedp.CSS("[data-inbox]")),
			chromedp.WaitReady(chromedp.CSS(`html[data-live="on"]`)),
		)
		value[string](t, b, `window.__noReload = "still here"`)
		created := time.Now()
		second := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Fattura di ottobre non ricevuta",
			"body": "Non trovo la fattura.", "requester": map[string]any{"email": "nuovo@example.it"}, "team_id": k.teamID}).num("number")
		step(t, b, "new ticket appears live", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-number="%d"]`, second))))
		if marker := value[string](t, b, `window.__noReload || ""`); marker != "still here" {
			t.Fatal("the page was reloaded to show the new ticket")
		}
		t.Logf("%s: new ticket visible in the other browser %s after creation", db.Engine, time.Since(created).Round(time.Millisecond))

		// Presence: the lead is on the ticket; the agent arrives and the
		// lead sees them.
		ticketURL := fmt.Sprintf("%s/tickets/%d", base, first)
		step(t, b, "lead on the ticket", chromedp.Navigate(ticketURL), chromedp.WaitVisible(chromedp.ID("composer")),
			chromedp.WaitReady(chromedp.CSS(`html[data-live="on"]`)))
		step(t, a, "agent on the ticket", chromedp.Navigate(ticketURL), chromedp.WaitVisible(chromedp.ID("composer")))
		step(t, b, "lead sees the agent", chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#presence [data-agent="%d"]`, k.agents["agent"].ID))))
		if who := value[string](t, b, `document.getElementById("presence").textContent`); !strings.Contains(who, "Agent Person") {
			t.Errorf("presence shows %q", who)
		}

		// A colleague replies while the lead is typing: the lead is warned,
		// by the colleague's name (issue 9).
		step(t, b, "lead types a reply", typeInto("#body", "Sto verificando"))
		k.must(201, "agent", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", first), map[string]any{"kind": "reply", "body": "Ho già risposto io"})
		step(t, b, "lead is warned of the colleague's reply", chromedp.WaitVisible(chromedp.ID("new-message")))
		if msg := value[string](t, b, `document.getElementById("new-message").textContent`); !strings.Contains(msg, "Agent Person") {
			t.Errorf("the warning says %q", msg)
		}
		value[bool](t, b, `document.getElementById("body").value = ""; document.getElementById("body").blur(); true`)

		// Shortcuts: ? opens the list, g i goes to the inbox, j and Enter
		// open the selected ticket, a assigns it to me.
		step(t, b, "? opens the shortcuts", chromedp.KeyEvent("?"), chromedp.WaitVisible(chromedp.ID("help")))
		if !value[bool](t, b, `document.getElementById("help").open`) {
			t.Error("? did not open the shortcuts dialog")
		}
		step(t, b, "Escape closes it", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.ID("help")))
		step(t, b, "g i goes to the inbox", chromedp.KeyEvent("g"), chromedp.KeyEvent("i"), chromedp.WaitVisible(chromedp.CSS("[data-inbox]")))
		step(t, b, "j and Enter open a ticket",
			chromedp.Navigate(base+"/?view=teams"),
			chromedp.WaitVisible(chromedp.CSS("tr.selected")),
			chromedp.KeyEvent("j"),
			chromedp.WaitVisible(chromedp.CSS("tr.selected:nth-child(2)")),
			chromedp.KeyEvent(kb.Enter),
			chromedp.WaitVisible(chromedp.ID("composer")),
		)
		step(t, b, "a assigns to me", chromedp.KeyEvent("a"),
			chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"event")][contains(., "Lead Person")]`)))
		if path := value[string](t, b, `location.pathname`); !strings.HasPrefix(path, "/tickets/") {
			t.Errorf("Enter on the inbox led to %s", path)
		}

		// Switching language changes the page.
		step(t, a, "back to the inbox", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("[data-inbox]")))
		if h1 := value[string](t, a, `document.querySelector("h1").textContent`); h1 != "Le mie" {
			t.Errorf("Italian inbox heading %q", h1)
		}
		step(t, a, "one-click language switch in the user menu",
			chromedp.Click(chromedp.CSS(`[data-user-menu] summary`)),
			chromedp.Click(chromedp.CSS(`form.lang-form button`)),
			chromedp.WaitVisible(chromedp.Search(`//h1[text()="Mine"]`)),
		)
	})
}

// contrastJS lists the visible text on the page whose colour against its
// background is below WCAG AA: 4.5:1, or 3:1 for large text (24 px, or
// 18.66 px bold). The background is the first opaque one up the tree.
const contrastJS = `(() => {
  const rgb = (s) => { const m = s.match(/[\d.]+/g) || []; return m.map(Number); };
  const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const bg = (el) => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); } return [255, 255, 255]; };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || !el.getClientRects().length) continue;
    const st = getComputedStyle(el);
    if (st.visibility === "hidden" || el.closest(".sr-only,[hidden],dialog:not([open]),details:not([open]) > :not(summary)")) continue;
    const fg = rgb(st.color).slice(0, 3), back = bg(el);
    const [a, b] = [lum(fg), lum(back)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(st.fontSize), bold = Number(st.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) bad.push(el.tagName + "." + el.className + " '" + n.textContent.trim().slice(0, 30) + "' " + ratio.toFixed(2) + ":1");
  }
  return bad;
})()`

// The search box from the keyboard, and WCAG AA contrast of the text on
// every main page.
func TestBrowserSearchAndContrast(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		base := k.srv.URL
		n := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Stampante dell'ufficio guasta",
			"body": "La stampante fa un rumore strano.", "requester": map[string]any{"email": "chiara@example.it", "name": "Chiara Greco"},
			"team_id": k.teamID, "priority": "urgent", "tags": []string{"hardware"}}).num("number")
		k.must(201, "admin", "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", n), map[string]any{"kind": "note", "body": "Chiamato il tecnico."})
		// SLA badges on rows and in the ticket header are part of the check.
		if _, err := k.d.SLA.InstallStarter(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := k.d.SLA.Scan(context.Background()); err != nil {
			t.Fatal(err)
		}
		a := newBrowserTab(t)
		step(t, a, "lead signs in", signIn(base, "lead@example.com", "password-lead"))
		step(t, a, "/ focuses the search box and searches",
			// The shortcut works once the page's script runs (it marks
			// the page live): a key pressed before that is a plain key.
			chromedp.WaitReady(chromedp.CSS(`html[data-live="on"]`)),
			chromedp.KeyEvent("/"),
			chromedp.WaitReady(chromedp.CSS(`#top-search:focus`)),
			typeInto("#top-search", "stampanti"+kb.Enter),
			chromedp.WaitVisible(chromedp.CSS(`.result mark`)),
		)
		if got := value[string](t, a, `document.querySelector(".result mark").textContent`); got != "Stampante" {
			t.Errorf("highlighted %q", got)
		}
		pages := []string{"/", "/?view=open&sort=deadline", fmt.Sprintf("/tickets/%d", n), "/search?q=stampante", "/contacts", "/organisations", "/profile", "/admin/teams", "/notices"}
		for _, p := range pages {
			step(t, a, "open "+p, chromedp.Navigate(base+p), chromedp.WaitReady(chromedp.CSS("main")))
			if bad := value[[]string](t, a, contrastJS); len(bad) > 0 {
				t.Errorf("%s: text below WCAG AA contrast: %v", p, bad)
			}
		}
		// The check itself finds pale text.
		value[bool](t, a, `(() => { const p = document.createElement("p"); p.textContent = "testo chiaro"; p.style.color = "#bbbbbb"; document.querySelector("main").append(p); return true })()`)
		if bad := value[[]string](t, a, contrastJS); len(bad) != 1 || !strings.Contains(bad[0], "testo chiaro") {
			t.Errorf("the contrast check missed pale text: %v", bad)
		}
	})
}

// When a deadline passes, the assignee's open inbox shows it without a
// reload: the notice count in the header rises and the row turns red.
func TestBrowserSLALive(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		clk := &frozen{}
		clk.Set("2026-03-02 09:00")
		k := newDeskWith(t, db, app.Options{Now: clk.Now})
		k.must(201, "admin", "POST", "/api/v1/sla-policies", map[string]any{"name": "Chat", "warn_minutes": 10,
			"targets": map[string]any{"normal": map[string]any{"first_reply": map[string]any{"minutes": 60}}}})
		n := k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": "La chat non risponde", "body": "Aspetto da un'ora.",
			"requester": map[string]any{"email": "elena@example.it"}, "team_id": k.teamID, "assignee_id": k.agents["agent"].ID}).num("number")
		a := newBrowserTab(t)
		step(t, a, "agent signs in and the inbox goes live", signIn(k.srv.URL, "agent@example.com", "password-agent"),
			chromedp.WaitReady(chromedp.CSS(`html[data-live="on"]`)),
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-number="%d"] [data-sla="ok"]`, n))))
		if got := value[int](t, a, `document.querySelectorAll(".unread-count").length`); got != 0 {
			t.Fatalf("unread notices before any alarm: %d", got)
		}
		clk.Set("2026-03-02 10:05")
		if fired, err := k.d.SLA.Scan(context.Background()); err != nil || fired != 1 {
			t.Fatalf("breach: %d fired, %v", fired, err)
		}
		step(t, a, "the breach shows without reload",
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`tr[data-number="%d"] [data-sla="breached"]`, n))),
			chromedp.WaitVisible(chromedp.CSS(`[data-notices] .unread-count`)))
		if got := value[string](t, a, `document.querySelector("[data-notices] .unread-count").textContent`); got != "1" {
			t.Errorf("unread count %q, want 1", got)
		}
	})
}
