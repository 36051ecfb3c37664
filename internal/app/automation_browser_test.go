package app_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/internal/testdb"
)

// The composer's reply scripts in a real browser: "/" at the start of the
// message opens the macros, each previewed filled for this ticket; Enter
// puts the text in the message, where the agent can still edit it;
// sending counts the macro. "e" opens the escalation form.
func TestBrowserMacroPicker(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		base := k.srv.URL
		num := k.must(201, "admin", "POST", "/api/v1/tickets", map[string]any{"subject": "Fattura sbagliata",
			"body": "Buongiorno, la fattura di marzo riporta un importo sbagliato.", "requester": map[string]any{"email": "chiara@example.it", "name": "Chiara Greco"},
			"team_id": k.teamID}).num("number")
		a := newBrowserTab(t)
		step(t, a, "agent signs in", signIn(base, "agent@example.com", "password-agent"))
		step(t, a, "slash opens the macros",
			chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, num)),
			chromedp.WaitVisible(chromedp.ID("composer")),
			typeInto("#body", "/"),
			chromedp.WaitVisible(chromedp.CSS("#macro-q-suggest li")),
		)
		list := value[string](t, a, `document.getElementById("macro-q-suggest").innerText`)
		if !strings.Contains(list, "Presa in carico") || !strings.Contains(list, "Chiara") {
			t.Fatalf("the macro list does not preview the scripts filled for the ticket: %q", list)
		}
		step(t, a, "type to filter, Enter picks",
			chromedp.KeyEvent("presa"),
			chromedp.WaitNotPresent(chromedp.Search(`//ul[@id="macro-q-suggest"]/li[contains(., "Chiusura")]`)),
			chromedp.WaitVisible(chromedp.CSS("#macro-q-suggest li")),
			chromedp.KeyEvent("\r"),
		)
		body := value[string](t, a, `document.getElementById("body").value`)
		want := fmt.Sprintf("Gentile Chiara,\n\ngrazie per averci scritto. Abbiamo registrato la sua richiesta #%d", num)
		if !strings.HasPrefix(body, want) {
			t.Fatalf("the composer holds %q, want it to start %q", body, want)
		}
		if id := value[string](t, a, `document.getElementById("macro-id").value`); id == "" {
			t.Fatal("the picked macro is not sent with the reply")
		}
		step(t, a, "send",
			chromedp.Click(chromedp.CSS(`#composer button[type=submit]`)),
			chromedp.WaitVisible(chromedp.Search(`//li[contains(@class,"msg-reply")]//div[contains(., "Gentile Chiara")]`)),
		)
		ms := k.must(200, "agent", "GET", "/api/v1/macros", nil).JSON["macros"].([]any)
		for _, m := range ms {
			if mm := m.(map[string]any); mm["name"] == "Presa in carico" && mm["usage_count"] != float64(1) {
				t.Errorf("usage %v, want 1", mm["usage_count"])
			}
		}
		step(t, a, "e opens the escalation",
			chromedp.Click(chromedp.CSS("h1")),
			chromedp.KeyEvent("e"),
			chromedp.WaitVisible(chromedp.ID("escalate-reason")),
		)
	})
}
