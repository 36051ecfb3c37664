// Command screenshots starts a demo desk on a temporary SQLite database,
// signs in with headless Chromium and captures the main workspace pages in
// Italian and English as PNG files:
//
//	go run ./cmd/screenshots --out docs/screenshots
//
// It is a separate command so that the sportello binary does not carry
// browser automation.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/app"
	"github.com/sportello/sportello/internal/config"
	"github.com/sportello/sportello/internal/contact"
	"github.com/sportello/sportello/internal/ticket"
	"github.com/sportello/sportello/internal/webhook"
)

func main() {
	out := flag.String("out", "docs/screenshots", "folder for the PNG files")
	chromium := flag.String("chromium", "/usr/bin/chromium", "the Chromium binary")
	flag.Parse()
	if err := run(*out, *chromium); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

func run(out, chromium string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sportello-shots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	cfg := config.Defaults()
	cfg.DataDir = dir
	if err := cfg.Validate(); err != nil {
		return err
	}
	d, err := app.New(ctx, cfg, app.Options{})
	if err != nil {
		return err
	}
	defer d.Close()
	sum, err := d.Demo(ctx, time.Now(), 3)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	// A busy open ticket of the lead's team makes the best ticket page.
	lead, err := d.Store.AgentByEmail(ctx, "giulia.rossi@sportello.local")
	if err != nil {
		return err
	}
	ts, err := d.Tickets.List(ctx, ticket.AgentActor(lead), ticket.Filter{Statuses: []ticket.Status{ticket.StatusOpen, ticket.StatusPending}, Limit: 50, Sort: "-updated"})
	if err != nil || len(ts) == 0 {
		return errors.Join(errors.New("no open demo ticket"), err)
	}
	best, most := ts[0].ID, 0
	for _, t := range ts {
		if ms, err := d.Tickets.Thread(ctx, ticket.System, t.ID); err == nil && len(ms) > most && len(ms) < 6 {
			best, most = t.ID, len(ms)
		}
	}

	// A closed ticket shows the read-only page with its follow-up offer.
	closed, err := d.Tickets.List(ctx, ticket.AgentActor(lead), ticket.Filter{Statuses: []ticket.Status{ticket.StatusClosed}, Limit: 1, Sort: "-updated"})
	if err != nil || len(closed) == 0 {
		return errors.Join(errors.New("no closed demo ticket"), err)
	}

	// A reply whose mail could not go out (the demo mailbox has no SMTP
	// server yet) shows the mail's state and "Send again" in the thread.
	if err := d.StartJobs(ctx); err != nil {
		return err
	}
	// A webhook (to a receiver here, allowed as private) hears that
	// reply: the webhook's page has a delivery to show.
	recv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }), ReadHeaderTimeout: 5 * time.Second}
	rln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go recv.Serve(rln)
	defer recv.Close()
	hook := &webhook.Webhook{Name: "CRM", URL: "http://" + rln.Addr().String() + "/sportello", Events: []string{"agent_reply", "ticket_created"}, Active: true, AllowPrivate: true}
	if err := d.Automation().SaveWebhook(ctx, hook, time.Time{}); err != nil {
		return err
	}
	rules, err := d.Automation().Rules(ctx)
	if err != nil || len(rules) == 0 {
		return errors.Join(errors.New("no shipped rules"), err)
	}
	macros, err := d.Automation().Macros(ctx, lead)
	if err != nil || len(macros) == 0 {
		return errors.Join(errors.New("no shipped macros"), err)
	}
	firstNumber := ts[0].ID
	if _, err := d.Tickets.AddMessage(ctx, ticket.AgentActor(lead), best, ticket.NewMessage{Kind: ticket.KindReply,
		BodyText: "Buongiorno, abbiamo verificato: il rimborso parte oggi."}); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	mbs, err := d.Store.Mailboxes(ctx)
	if err != nil || len(mbs) == 0 {
		return errors.Join(errors.New("no demo mailbox"), err)
	}

	// A colleague asks the lead for help in a note: the notices page has
	// something to show (on another ticket than the one the shots open,
	// since opening a ticket reads its notices).
	sara, err := d.Store.AgentByEmail(ctx, "sara.conti@sportello.local")
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.ID != best && ticket.AgentActor(sara).CanSee(&t) {
			if _, err := d.Tickets.AddMessage(ctx, ticket.AgentActor(sara), t.ID, ticket.NewMessage{Kind: ticket.KindNote,
				BodyText: "@Giulia Rossi puoi autorizzare il rimborso?"}); err != nil {
				return err
			}
			break
		}
	}

	// A known caller to look up on the new-ticket form.
	cs, err := d.Store.Contacts(ctx, contact.Filter{Limit: 1})
	if err != nil || len(cs) == 0 {
		return errors.Join(errors.New("no demo contact"), err)
	}
	caller := strings.Fields(cs[0].Name)[0]

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.UserDataDir(filepath.Join(dir, "chromium")), chromedp.WindowSize(1280, 860))
	alloc, cancel := chromedp.NewExecAllocator(ctx, opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(bctx); err != nil {
		return fmt.Errorf("starting chromium: %w", err)
	}
	shot := func(name string, steps ...chromedp.Action[chromedp.Void]) error {
		c, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(c, steps...); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		png, err := chromedp.Run(c, chromedp.CaptureScreenshot())
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		p := filepath.Join(out, name+".png")
		fmt.Println("wrote", p)
		return os.WriteFile(p, png, 0o644)
	}
	for _, lang := range []string{"it", "en"} {
		// The composer starts empty: not with the other language's draft.
		if err := d.Store.DeleteDraft(ctx, lead.ID, best); err != nil {
			return err
		}
		lead.Language = lang
		if err := d.Store.UpdateAgent(ctx, lead, agent.Patch{Language: &lang}); err != nil {
			return err
		}
		err := errors.Join(
			shot("login-"+lang, chromedp.Navigate(base+"/login?lang="+lang), chromedp.WaitVisible(chromedp.ID("email"))),
			shot("inbox-"+lang,
				chromedp.SendKeys(chromedp.ID("email"), lead.Email),
				chromedp.SendKeys(chromedp.ID("password"), sum.AgentPassword),
				chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS("[data-inbox]")),
				chromedp.Navigate(base+"/?view=teams"),
				chromedp.WaitVisible(chromedp.CSS("tr.selected")),
			),
			shot("inbox-compact-"+lang,
				chromedp.Click(chromedp.CSS(`form.density button`)),
				chromedp.WaitVisible(chromedp.CSS("body.compact tr.selected")),
			),
			chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`form.density button`)), chromedp.WaitVisible(chromedp.CSS("body:not(.compact) [data-inbox]"))),
			shot("ticket-"+lang,
				chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, best)),
				chromedp.WaitVisible(chromedp.ID("composer")),
				chromedp.SendKeys(chromedp.ID("body"), map[string]string{"it": "Buongiorno, grazie per la pazienza: ", "en": "Hello, thank you for your patience: "}[lang]),
			),
			// Merging asks first: both tickets, and a warning when the
			// customers differ (nothing is merged: the shot stops there).
			shot("confirm-merge-"+lang,
				chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, best)),
				chromedp.Click(chromedp.CSS("details.merge summary")),
				chromedp.SendKeys(chromedp.CSS(`details.merge input[name=into]`), fmt.Sprint(ts[len(ts)-1].ID)),
				chromedp.Click(chromedp.CSS(`details.merge button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS("[data-confirm-yes]")),
			),
			shot("ticket-closed-"+lang,
				chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, closed[0].ID)),
				chromedp.WaitVisible(chromedp.CSS(".closed-note")),
			),
			shot("ticket-narrow-"+lang,
				chromedp.EmulateViewport(800, 900),
				chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, best)),
				chromedp.WaitVisible(chromedp.ID("composer")),
			),
			chromedp.Do(bctx, chromedp.EmulateViewport(1280, 800)),
			shot("shortcuts-"+lang,
				chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, best)),
				chromedp.WaitVisible(chromedp.ID("composer")), chromedp.Click(chromedp.CSS("[data-help-open]")), chromedp.WaitVisible(chromedp.ID("help"))),
			shot("sla-breached-"+lang,
				chromedp.Navigate(base+"/?view=breached"),
				chromedp.WaitVisible(chromedp.CSS("[data-sla]")),
			),
			shot("new-ticket-"+lang,
				chromedp.Navigate(base+"/tickets/new"),
				chromedp.WaitVisible(chromedp.ID("phone")),
				chromedp.SendKeys(chromedp.ID("name"), caller[:min(4, len(caller))]),
				chromedp.WaitVisible(chromedp.CSS("#name-suggest li")),
			),
			// @mentions offer colleagues as the agent types.
			shot("mention-"+lang,
				chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, best)),
				chromedp.WaitVisible(chromedp.ID("composer")),
				chromedp.Click(chromedp.CSS(`#composer input[value=note]`)),
				chromedp.Evaluate[chromedp.Void](`document.getElementById("body").value = ""`),
				chromedp.SendKeys(chromedp.ID("body"), map[string]string{"it": "Puoi darci un'occhiata @", "en": "Could you take a look @"}[lang]),
				chromedp.WaitVisible(chromedp.CSS("#body-suggest li")),
			),
			// Typing / at the start of the composer opens the reply
			// scripts, each filled for this ticket as a preview.
			shot("macro-"+lang,
				chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, best)),
				chromedp.WaitVisible(chromedp.ID("composer")),
				chromedp.Evaluate[chromedp.Void](`document.getElementById("body").value = ""`),
				chromedp.SendKeys(chromedp.ID("body"), "/"),
				chromedp.WaitVisible(chromedp.CSS("#macro-q-suggest li")),
				chromedp.ScrollIntoView(chromedp.ID("macro-q")),
			),
			shot("escalate-"+lang,
				chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, best)),
				chromedp.WaitVisible(chromedp.ID("composer")),
				chromedp.Click(chromedp.CSS("details.escalate summary")),
				chromedp.ScrollIntoView(chromedp.ID("escalate")),
			),
			shot("teams-narrow-"+lang,
				chromedp.EmulateViewport(800, 900),
				chromedp.Navigate(base+"/admin/teams"),
				chromedp.WaitVisible(chromedp.CSS("select[name=assign_mode]")),
			),
			chromedp.Do(bctx, chromedp.EmulateViewport(1280, 800)),
			shot("notices-"+lang,
				chromedp.Navigate(base+"/notices"),
				chromedp.WaitReady(chromedp.CSS("main")),
			),
			shot("kb-"+lang, chromedp.Navigate(base+"/kb"), chromedp.WaitVisible(chromedp.CSS("table.tickets"))),
			shot("csat-"+lang, chromedp.Navigate(base+"/reports/csat"), chromedp.WaitVisible(chromedp.CSS("[data-csat]"))),
			shot("search-"+lang,
				// The small demo desk may have no open English ticket about
				// an order at some hours: the English shot searches them all.
				chromedp.Navigate(base+map[string]string{"it": "/search?status=open&status=pending&q=ordine", "en": "/search?q=order"}[lang]),
				chromedp.WaitVisible(chromedp.CSS(".result")),
			),
		)
		if err != nil {
			return err
		}
		// The mail pages are an admin's: the lead is one for these shots.
		admin, back := agent.RoleAdmin, agent.RoleLead
		lead.Role = admin
		if err := d.Store.UpdateAgent(ctx, lead, agent.Patch{Role: &admin}); err != nil {
			return err
		}
		err = errors.Join(
			shot("mailboxes-"+lang, chromedp.Navigate(base+"/admin/mailboxes"), chromedp.WaitVisible(chromedp.CSS("table.tickets"))),
			shot("mailbox-"+lang, chromedp.Navigate(fmt.Sprintf("%s/admin/mailboxes/%d", base, mbs[0].ID)), chromedp.WaitVisible(chromedp.ID("m-address"))),
			shot("help-admin-"+lang, chromedp.Navigate(base+"/admin/help"), chromedp.WaitVisible(chromedp.ID("h-name"))),
			shot("rules-"+lang, chromedp.Navigate(base+"/admin/rules?ticket="+fmt.Sprint(firstNumber)+"&event=ticket_created#dry-run"), chromedp.WaitVisible(chromedp.CSS("table.dry"))),
			shot("rule-edit-"+lang, chromedp.Navigate(fmt.Sprintf("%s/admin/rules/%d", base, rules[len(rules)-1].ID)), chromedp.WaitVisible(chromedp.ID("r-name"))),
			shot("rule-edit-narrow-"+lang, chromedp.EmulateViewport(800, 900),
				chromedp.Navigate(fmt.Sprintf("%s/admin/rules/%d", base, rules[0].ID)), chromedp.WaitVisible(chromedp.ID("r-name"))),
			chromedp.Do(bctx, chromedp.EmulateViewport(1280, 800)),
			// A rule with a comparison its field does not take comes back
			// with the row marked and the comparisons it does take.
			shot("rule-error-"+lang, chromedp.Navigate(base+"/admin/rules/new"), chromedp.WaitVisible(chromedp.ID("r-name")),
				chromedp.SendKeys(chromedp.ID("r-name"), map[string]string{"it": "Priorità alta ai clienti VIP", "en": "High priority for VIP customers"}[lang]),
				chromedp.SetValue(chromedp.ID("cf-0"), "priority"), chromedp.SetValue(chromedp.ID("co-0"), "contains"), chromedp.SendKeys(chromedp.ID("cv-0"), "high"),
				chromedp.SetValue(chromedp.ID("at-0"), "add_tags"), chromedp.SendKeys(chromedp.ID("av-0"), "vip"),
				chromedp.Click(chromedp.CSS(`section.rule-edit form button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("c-err-0")),
				chromedp.ScrollIntoView(chromedp.ID("c-err-0"))),
			shot("macro-edit-"+lang, chromedp.Navigate(fmt.Sprintf("%s/macros/%d", base, macros[0].ID)), chromedp.WaitVisible(chromedp.ID("m-name"))),
			shot("webhook-"+lang, chromedp.Navigate(fmt.Sprintf("%s/admin/webhooks/%d", base, hook.ID)), chromedp.WaitVisible(chromedp.ID("w-name"))),
			shot("mailbox-narrow-"+lang, chromedp.EmulateViewport(800, 900),
				chromedp.Navigate(fmt.Sprintf("%s/admin/mailboxes/%d", base, mbs[0].ID)), chromedp.WaitVisible(chromedp.ID("m-address"))),
			chromedp.Do(bctx, chromedp.EmulateViewport(1280, 800)),
		)
		lead.Role = back
		if rerr := d.Store.UpdateAgent(ctx, lead, agent.Patch{Role: &back}); rerr != nil {
			return rerr
		}
		if err != nil {
			return err
		}
		// Sign out for the next language.
		if err := chromedp.Do(bctx, chromedp.Navigate(base+"/?view=mine"), chromedp.Click(chromedp.CSS(`[data-user-menu] summary`)), chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
			chromedp.WaitVisible(chromedp.ID("email"))); err != nil {
			return fmt.Errorf("signing out: %w", err)
		}
	}
	// The customer side: the help centre, the contact form suggesting an
	// article, the survey's page (its signed link made here), a phone.
	rateTok := d.Links.Make("csat", time.Now().Add(time.Hour), fmt.Sprint(closed[0].ID), fmt.Sprint(closed[0].RequesterID), "0")
	return errors.Join(
		shot("help-home-it", chromedp.Navigate(base+"/help/it"), chromedp.WaitVisible(chromedp.CSS(".help-grid"))),
		shot("help-article-en", chromedp.Navigate(base+"/help/en/a/how-to-return-a-product"), chromedp.WaitVisible(chromedp.CSS(".help-article"))),
		shot("help-contact-it", chromedp.Navigate(base+"/help/it/contact"), chromedp.WaitVisible(chromedp.ID("c-subject")),
			chromedp.SendKeys(chromedp.ID("c-subject"), "Vorrei restituire le scarpe"),
			chromedp.WaitVisible(chromedp.CSS("#suggestions li"))),
		shot("help-rate-en", chromedp.Navigate(base+"/rate/"+rateTok+"?lang=en"), chromedp.WaitVisible(chromedp.CSS(".help-scores"))),
		shot("help-phone-it", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base+"/help/it/a/mi-avete-addebitato-due-volte"), chromedp.WaitVisible(chromedp.CSS(".help-article"))),
		chromedp.Do(bctx, chromedp.EmulateViewport(1280, 800)),
	)
}
