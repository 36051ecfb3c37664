package app_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sportello/sportello/internal/testdb"
)

// A day at the desk in Chromium, on both databases (issue 11): callers
// are found by surname, email domain and a phone number typed differently;
// a caller with only a phone number gets a ticket, and a known one is
// picked as the agent types; the search filters pick a customer by name
// and show the results without scrolling; deleting a used tag asks first
// and cancelling keeps it; merging tickets of different customers warns;
// an @mention picked from the list reaches the colleague live; "send and
// open next" goes on through the queue.
func TestBrowserDayAtTheDesk(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		for _, c := range []map[string]any{
			{"name": "Marco Greco", "emails": []string{"marco.greco@ferramenta-greco.example"}, "phones": []string{"+39 347 123 4567"}},
			{"name": "Emma Wright", "emails": []string{"emma@wright-legal.example"}},
			{"name": "Grazia Esposito", "emails": []string{"grazia.esposito@example.it"}},
		} {
			k.must(201, "agent", "POST", "/api/v1/contacts", c)
		}
		ticketFor := func(email, subject string) int64 {
			return k.must(201, "agent", "POST", "/api/v1/tickets", map[string]any{"subject": subject, "body": "Buongiorno, " + subject,
				"requester": map[string]any{"email": email}, "team_id": k.teamID, "tags": []string{"fatture"}}).num("number")
		}
		greco := ticketFor("marco.greco@ferramenta-greco.example", "Fattura di ottobre non ricevuta")
		wright := ticketFor("emma@wright-legal.example", "Invoice for October missing")
		ticketFor("grazia.esposito@example.it", "Cambio indirizzo di fatturazione")
		base := k.srv.URL

		a := newBrowserTab(t)
		step(t, a, "the agent signs in", signIn(base, "agent@example.com", "password-agent"), chromedp.EmulateViewport(1280, 800))

		// Contacts by surname, domain and a phone typed another way.
		for q, want := range map[string]string{"Greco": "Marco Greco", "wright-legal": "Emma Wright", "347-1234567": "Marco Greco", "0039 3471234567": "Marco Greco"} {
			step(t, a, "contacts "+q, chromedp.Navigate(base+"/contacts"), chromedp.WaitVisible(chromedp.ID("q")),
				typeInto("#q", q+kb.Enter), chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`input#q[value=%q]`, q))))
			got := value[string](t, a, `document.querySelector("main").innerText`)
			if !strings.Contains(got, want) {
				t.Errorf("the contacts page for %q does not show %s", q, want)
			}
		}

		// A caller with only a phone number.
		step(t, a, "phone-only caller", chromedp.Navigate(base+"/tickets/new"), chromedp.WaitVisible(chromedp.ID("name")),
			typeInto("#name", "Piero Rinaldi"),
			typeInto("#phone", "333 444 5555"),
			typeInto("#subject", "Richiamare per il preventivo"),
			typeInto("#new-body", "Ha chiamato alle 10, vuole il preventivo per la caldaia."),
			chromedp.Click(chromedp.CSS(`form[data-new-ticket] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("[data-ticket]")))
		if got := value[string](t, a, `document.querySelector(".requester").innerText`); !strings.Contains(got, "Piero Rinaldi") || !strings.Contains(got, "333 444 5555") {
			t.Errorf("the phone caller's ticket shows requester %q", got)
		}
		if got := value[string](t, a, `document.querySelector("[data-ticket] .channel").innerText`); !strings.HasPrefix(got, "telefono") {
			t.Errorf("the phone ticket does not show its channel: %q", got)
		}

		// A known caller picked while typing: name, phone and email fill in.
		step(t, a, "pick a known caller", chromedp.Navigate(base+"/tickets/new"), chromedp.WaitVisible(chromedp.ID("name")),
			typeInto("#name", "Gre"),
			chromedp.WaitVisible(chromedp.Search(`//ul[@id="name-suggest"]/li[contains(., "Marco Greco")]`)),
			chromedp.KeyEvent(kb.Enter))
		if got := value[string](t, a, `document.getElementById("email").value + " " + document.getElementById("phone").value + " " + document.getElementById("name").value`); got != "marco.greco@ferramenta-greco.example +39 347 123 4567 Marco Greco" {
			t.Errorf("picking the caller filled %q", got)
		}

		// Search filters pick the requester by name; results show at once.
		step(t, a, "filter by requester", chromedp.Navigate(base+"/search"), chromedp.WaitVisible(chromedp.ID("search-q")),
			chromedp.Click(chromedp.CSS("details.filters > summary")),
			typeInto("#f-requester", "greco"),
			chromedp.WaitVisible(chromedp.Search(`//ul[@id="f-requester-suggest"]/li[contains(., "Marco Greco")]`)),
			chromedp.KeyEvent(kb.Enter))
		step(t, a, "filter by date",
			typeInto("#f-created_from", "01/01/2020"),
			chromedp.Click(chromedp.CSS(`form.search-form > button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS("ol.results")))
		if got := value[string](t, a, `[...document.querySelectorAll("ol.results [data-open]")].map(e => e.textContent).join("|")`); got != "Fattura di ottobre non ricevuta" {
			t.Errorf("requester filter found %q", got)
		}
		if v := value[bool](t, a, `document.querySelector("ol.results li").getBoundingClientRect().bottom <= innerHeight`); !v {
			t.Errorf("the first result is below the fold at 1280x800")
		}
		if got := value[string](t, a, `document.getElementById("f-created_from").value + " | " + document.querySelector(".active-filters").innerText`); !strings.HasPrefix(got, "01/01/2020 | ") || !strings.Contains(got, "Richiedente: Marco Greco") || !strings.Contains(got, "Creati dal: 01/01/2020") {
			t.Errorf("the filters in force show as %q", got)
		}

		// Merging tickets of two different customers warns.
		step(t, a, "merge warns", chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, wright)), chromedp.WaitReady(chromedp.CSS("main")),
			chromedp.Evaluate[chromedp.Void](`document.querySelector("#merge-into").closest("details").open = true`),
			typeInto("#merge-into", fmt.Sprint(greco)),
			chromedp.Click(chromedp.CSS(`#merge-into ~ button, form[action$="/merge"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(".confirm [role=alert]")))
		if got := value[string](t, a, `document.querySelector(".confirm").innerText`); !strings.Contains(got, "Emma Wright") || !strings.Contains(got, "Marco Greco") {
			t.Errorf("the merge warning does not name both customers: %q", got)
		}
		step(t, a, "keep them apart", chromedp.Click(chromedp.CSS("[data-confirm-no]")), chromedp.WaitVisible(chromedp.CSS("[data-ticket]")))
		if got := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", wright), nil); got.JSON["status"] == "closed" {
			t.Errorf("cancelling merged anyway")
		}

		// The lead, in another browser, waits on the inbox; the agent
		// mentions them in a note picked from the list.
		l := newBrowserTab(t)
		step(t, l, "the lead signs in", signIn(base, "lead@example.com", "password-lead"))
		step(t, l, "wait for the live stream", chromedp.WaitReady(chromedp.CSS(`html[data-live=on]`)))
		step(t, a, "mention the lead", chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, greco)), chromedp.WaitVisible(chromedp.ID("body")),
			chromedp.Click(chromedp.CSS(`#composer input[value=note]`)),
			typeInto("#body", "Puoi autorizzare il rimborso @Le"),
			chromedp.WaitVisible(chromedp.Search(`//ul[@id="body-suggest"]/li[contains(., "Lead Person")]`)),
			chromedp.KeyEvent(kb.Enter),
			typeInto("#body", "grazie"))
		if got := value[string](t, a, `document.getElementById("body").value`); got != "Puoi autorizzare il rimborso @Lead Person grazie" {
			t.Errorf("the mention wrote %q", got)
		}
		step(t, a, "send the note", chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl)),
			chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"msg-body")][contains(., "autorizzare il rimborso")]`)))
		step(t, l, "the lead's count goes up live", chromedp.WaitVisible(chromedp.CSS(`[data-notices] .unread-count`)))
		if got := value[string](t, l, `document.querySelector("[data-notices] .unread-count").textContent`); got != "1" {
			t.Errorf("the lead's live count is %q", got)
		}
		step(t, l, "the lead reads it", chromedp.Navigate(base+"/notices"), chromedp.WaitVisible(chromedp.CSS("li.unread")))
		if got := value[string](t, l, `document.querySelector("li.unread").innerText`); !strings.Contains(got, "Agent Person") {
			t.Errorf("the lead's notice says %q", got)
		}
		step(t, l, "mark it read", chromedp.Click(chromedp.CSS(`li.unread form button`)), chromedp.WaitNotPresent(chromedp.CSS("li.unread")))
		if n := value[int](t, l, `document.querySelectorAll("li.unread").length`); n != 0 {
			t.Errorf("%d notices still unread after marking", n)
		}

		// Send and open next: from the team queue, the reply goes out and
		// the next ticket opens.
		step(t, a, "the team queue by number", chromedp.Navigate(base+"/?view=teams&sort=-created"), chromedp.WaitVisible(chromedp.CSS("[data-inbox]")))
		first := value[string](t, a, `document.querySelector("tr[data-row]").dataset.number`)
		second := value[string](t, a, `document.querySelectorAll("tr[data-row]")[1].dataset.number`)
		step(t, a, "reply and go on", chromedp.Navigate(base+"/tickets/"+first), chromedp.WaitVisible(chromedp.ID("body")),
			typeInto("#body", "La richiamiamo entro oggi."),
			chromedp.Click(chromedp.CSS(`#composer button[value=next]`)),
			chromedp.WaitVisible(chromedp.CSS(`[data-ticket="`+second+`"]`)))

		// Deleting a used tag asks first; cancelling keeps it.
		ad := newBrowserTab(t)
		step(t, ad, "the admin signs in", signIn(base, "admin@example.com", "password-admin"))
		step(t, ad, "delete a used tag", chromedp.Navigate(base+"/admin/fields"), chromedp.WaitReady(chromedp.CSS("main")),
			chromedp.Click(chromedp.CSS(`button[aria-label$=" fatture"]`)),
			chromedp.WaitVisible(chromedp.CSS(".confirm")))
		if got := value[string](t, ad, `document.querySelector(".confirm").innerText`); !strings.Contains(got, "3 ticket") {
			t.Errorf("the tag confirmation does not say how many tickets use it: %q", got)
		}
		// Back on the fields page, the tag is still listed with its delete
		// button.
		step(t, ad, "cancel", chromedp.Click(chromedp.CSS("[data-confirm-no]")), chromedp.WaitVisible(chromedp.CSS(`button[aria-label$=" fatture"]`)))
		if got := k.must(200, "agent", "GET", fmt.Sprintf("/api/v1/tickets/%d", greco), nil); !strings.Contains(fmt.Sprint(got.JSON["tags"]), "fatture") {
			t.Errorf("cancelling took the tag off the tickets: %v", got.JSON["tags"])
		}
	})
}
