package app_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sportello/sportello/internal/testdb"
)

// The workspace fits the screen (issue 11), in Chromium on both
// databases: at 1280x800 no page of an admin's day scrolls sideways and
// the header stays one row; the compact queue shows at least 15 tickets
// without scrolling, and the choice is remembered; at 800 px every
// control of the agents and SLA pages is there (none hidden by a rule).
func TestBrowserLayoutFits(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		mb := k.must(201, "admin", "POST", "/api/v1/mailboxes", map[string]any{"address": "supporto@bottega.example", "team_id": k.teamID})
		var n int64
		for i := range 24 {
			n = k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{
				"subject":   fmt.Sprintf("La stampante del terzo piano non stampa più i documenti lunghi da ieri pomeriggio (%d)", i),
				"body":      "Buongiorno, la stampante HP del terzo piano si blocca a metà di ogni documento più lungo di dieci pagine.",
				"requester": map[string]any{"email": fmt.Sprintf("cliente.con.un.nome.lungo%d@azienda-con-un-dominio-lungo.example", i), "name": "Massimiliano Bartolomeo Lombardi"},
				"team_id":   k.teamID, "assignee_id": k.agents["agent"].ID, "tags": []string{"stampanti"},
			}).num("number")
		}
		base := k.srv.URL
		a := newBrowserTab(t)
		step(t, a, "admin signs in", signIn(base, "admin@example.com", "password-admin"), chromedp.EmulateViewport(1280, 800))
		pages := []string{"/?view=teams", "/?view=open", fmt.Sprintf("/tickets/%d", n), "/search?q=stampante", "/tickets/new", "/contacts",
			"/organisations", "/notices", "/profile", "/admin/teams", "/admin/agents", "/admin/fields", "/admin/sla", "/admin/mailboxes",
			fmt.Sprintf("/admin/mailboxes/%d", mb.num("id")), "/kb", "/kb/new", "/admin/help", "/reports/csat",
			"/admin/rules", "/admin/rules/new", "/macros", "/macros/new", "/admin/webhooks", "/admin/webhooks/new"}
		for _, p := range pages {
			step(t, a, "open "+p, chromedp.Navigate(base+p), chromedp.WaitReady(chromedp.CSS("main")))
			if w := value[int](t, a, `document.documentElement.scrollWidth`); w > 1280 {
				t.Errorf("%s is %d px wide at 1280", p, w)
			}
			if h := value[int](t, a, `Math.round(document.querySelector("header.top").getBoundingClientRect().height)`); h > 70 {
				t.Errorf("%s: the header is %d px high (more than one row)", p, h)
			}
		}
		step(t, a, "compact density", chromedp.Navigate(base+"/?view=open"), chromedp.WaitReady(chromedp.CSS("main")),
			chromedp.Click(chromedp.CSS(`form.density button[value=compact]`)), chromedp.WaitVisible(chromedp.CSS("body.compact")))
		rows := value[int](t, a, `[...document.querySelectorAll("tr[data-row]")].filter(r => r.getBoundingClientRect().bottom <= innerHeight).length`)
		if rows < 15 {
			t.Errorf("the compact queue shows %d whole rows at 1280x800, want at least 15", rows)
		}
		step(t, a, "the density is remembered", chromedp.Navigate(base+"/?view=open&sort=number"), chromedp.WaitVisible(chromedp.CSS("body.compact")))
		if v := value[bool](t, a, `getComputedStyle(document.querySelector("#bulk .bulk")).display === "none"`); !v {
			t.Errorf("the bulk bar shows with no ticket picked")
		}
		step(t, a, "pick a ticket", chromedp.Click(chromedp.CSS(`input[data-pick]`)))
		if v := value[bool](t, a, `getComputedStyle(document.querySelector("#bulk .bulk")).display !== "none"`); !v {
			t.Errorf("the bulk bar does not show once a ticket is picked")
		}
		// Ctrl+Enter sends the reply.
		step(t, a, "Ctrl+Enter sends", chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, n)), chromedp.WaitVisible(chromedp.ID("body")),
			typeInto("#body", "Risolto con il driver nuovo."),
			chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl)),
			chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"msg-body")][contains(., "Risolto con il driver nuovo.")]`)))
		step(t, a, "800 px", chromedp.EmulateViewport(800, 1200))
		for _, p := range []string{"/admin/agents", "/admin/sla", "/admin/help", "/kb", "/admin/rules", "/admin/rules/new", "/macros/new", "/admin/webhooks/new"} {
			step(t, a, "open "+p, chromedp.Navigate(base+p), chromedp.WaitReady(chromedp.CSS("main")))
			hidden := value[[]string](t, a, `[...document.querySelectorAll("main input:not([type=hidden]), main select, main button")].filter(e => !e.getClientRects().length).map(e => e.name || e.id || e.textContent.trim())`)
			if len(hidden) > 0 {
				t.Errorf("%s at 800 px hides controls: %v", p, hidden)
			}
			if w := value[int](t, a, `document.documentElement.scrollWidth`); w > 800 {
				t.Errorf("%s is %d px wide at 800", p, w)
			}
		}
	})
}
