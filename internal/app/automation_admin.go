package app

import (
	"context"
	"errors"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/automation"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/kb"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/ticket"
	"github.com/sportello/sportello/internal/webhook"
)

// Automation is what the API and the workspace do with rules, macros,
// webhooks and escalations: the same validation and the same row rules
// on both surfaces.
type Automation struct{ d *Desk }

// Automation returns the desk's automation surface.
func (d *Desk) Automation() *Automation { return &Automation{d} }

// Rules lists every rule in order, each with how many tickets it acted on.
func (a *Automation) Rules(ctx context.Context) ([]automation.Rule, error) {
	rs, err := a.d.Store.Rules(ctx)
	if err != nil {
		return nil, err
	}
	n, err := a.d.Store.RuleFireCounts(ctx, 0)
	for i := range rs {
		rs[i].Fired = n[rs[i].ID]
	}
	return rs, err
}

// Rule reads one rule, with how many tickets it acted on.
func (a *Automation) Rule(ctx context.Context, id int64) (*automation.Rule, error) {
	r, err := a.d.Store.Rule(ctx, id)
	if err != nil {
		return nil, err
	}
	n, err := a.d.Store.RuleFireCounts(ctx, id)
	r.Fired = n[id]
	return r, err
}

// SaveRule validates and stores a rule (ID 0 creates); since is the
// updated_at the caller read (zero: no check).
func (a *Automation) SaveRule(ctx context.Context, r *automation.Rule, since time.Time) error {
	k, err := a.d.Known(ctx)
	if err != nil {
		return err
	}
	if err := r.Check(k); err != nil {
		return err
	}
	now := a.d.Now()
	if r.ID == 0 {
		r.CreatedAt = now
	}
	r.UpdatedAt = now
	return a.d.Store.SaveRule(ctx, r, since)
}

// SetRuleActive switches a rule on or off.
func (a *Automation) SetRuleActive(ctx context.Context, id int64, on bool) error {
	return a.d.Store.SetRuleActive(ctx, id, on, a.d.Now())
}

// MoveRule moves a rule one place up (or down) the order.
func (a *Automation) MoveRule(ctx context.Context, id int64, up bool) error {
	return a.d.Store.MoveRule(ctx, id, up, a.d.Now())
}

// DeleteRule removes a rule.
func (a *Automation) DeleteRule(ctx context.Context, id int64) error {
	return a.d.Store.DeleteRule(ctx, id, a.d.Now())
}

// DryRun tells which rules would fire on a ticket for an event.
func (a *Automation) DryRun(ctx context.Context, actor ticket.Actor, ticketID int64, event string) ([]automation.DryRule, error) {
	e := automation.Event(event)
	if e == "" {
		e = automation.TicketCreated
	}
	if e != automation.TimeElapsed && !containsEvent(e) {
		return nil, fault.Field("event", "enum", "unknown event; one of the rule events or time")
	}
	return a.d.DryRun(ctx, actor, ticketID, e)
}

func containsEvent(e automation.Event) bool {
	for _, x := range automation.Events {
		if x == e {
			return true
		}
	}
	return false
}

// Macros lists the macros an agent may use (shared and their own).
func (a *Automation) Macros(ctx context.Context, me *agent.Agent) ([]automation.Macro, error) {
	return a.d.Store.Macros(ctx, me.ID)
}

// Macro reads a macro the agent may use.
func (a *Automation) Macro(ctx context.Context, me *agent.Agent, id int64) (*automation.Macro, error) {
	m, err := a.d.Store.Macro(ctx, id)
	if err != nil {
		return nil, err
	}
	if m.OwnerID != nil && *m.OwnerID != me.ID {
		return nil, automation.ErrMacroNotFound
	}
	return m, nil
}

// mayEdit: personal macros by their owner; shared ones by leads and admins.
func mayEdit(me *agent.Agent, m *automation.Macro) error {
	if m.OwnerID != nil && *m.OwnerID != me.ID {
		return automation.ErrMacroNotFound
	}
	if m.OwnerID == nil && me.Role.Rank() < agent.RoleLead.Rank() {
		return fault.Field("shared", "role", "only leads and admins write shared macros; make it personal")
	}
	return nil
}

// SaveMacro validates and stores a macro (ID 0 creates). shared decides
// whether it belongs to everyone (leads and admins) or to me.
func (a *Automation) SaveMacro(ctx context.Context, me *agent.Agent, m *automation.Macro, shared bool, since time.Time) error {
	if m.ID != 0 {
		old, err := a.d.Store.Macro(ctx, m.ID)
		if err != nil {
			return err
		}
		if err := mayEdit(me, old); err != nil {
			return err
		}
		m.UsageCount, m.CreatedAt = old.UsageCount, old.CreatedAt
	}
	m.OwnerID = nil
	if !shared {
		id := me.ID
		m.OwnerID = &id
	}
	if err := mayEdit(me, m); err != nil {
		return err
	}
	k, err := a.d.Known(ctx)
	if err != nil {
		return err
	}
	if err := m.Check(k.Fields); err != nil {
		return err
	}
	if m.KBArticleID != nil {
		if _, err := a.d.Store.Article(ctx, *m.KBArticleID); err != nil {
			return fault.Field("kb_article_id", "exists", "no article has this id")
		}
	}
	now := a.d.Now()
	if m.ID == 0 {
		m.CreatedAt = now
	}
	m.UpdatedAt = now
	return a.d.Store.SaveMacro(ctx, m, since)
}

// DeleteMacro removes a macro the agent may edit.
func (a *Automation) DeleteMacro(ctx context.Context, me *agent.Agent, id int64) error {
	m, err := a.d.Store.Macro(ctx, id)
	if err != nil {
		return err
	}
	if err := mayEdit(me, m); err != nil {
		return err
	}
	return a.d.Store.DeleteMacro(ctx, id)
}

// RenderMacro fills a macro's text for a ticket the agent may see, in the
// ticket's language (the customer's name, the number, the deadline in the
// customer's language and the desk's time zone).
func (a *Automation) RenderMacro(ctx context.Context, me *agent.Agent, macroID, ticketID int64) (*automation.Rendered, error) {
	m, err := a.Macro(ctx, me, macroID)
	if err != nil {
		return nil, err
	}
	if _, err := a.d.Tickets.Get(ctx, ticket.AgentActor(me), ticketID); err != nil {
		return nil, err
	}
	out := &automation.Rendered{MacroID: m.ID, Actions: m.Actions}
	errRead := errors.New("read only")
	err = a.d.Store.InTx(ctx, func(st *store.Tx) error {
		t, err := st.TicketForUpdate(ctx, ticketID)
		if err != nil {
			return err
		}
		lang, text := m.Variant(t.Language)
		id := me.ID
		v, err := a.d.placeholders(ctx, st, t, &id, lang)
		if err != nil {
			return err
		}
		out.Language, out.Text = lang, automation.Render(text, v)
		return errRead
	})
	if !errors.Is(err, errRead) {
		return nil, err
	}
	if m.KBArticleID == nil {
		return out, nil
	}
	out.Article, err = a.articleLink(ctx, *m.KBArticleID, out.Language)
	return out, err
}

// articleLink is the public address of an article in lang (else in any
// language it is published in), "" when it is internal, unpublished or
// gone: a customer is never sent a link that does not open.
func (a *Automation) articleLink(ctx context.Context, id int64, lang string) (string, error) {
	art, err := a.d.Store.Article(ctx, id)
	if errors.Is(err, fault.NotFound) {
		return "", nil
	}
	if err != nil || art.Internal {
		return "", err
	}
	var link string
	for _, t := range art.Texts {
		if t.State != kb.Published {
			continue
		}
		u := a.d.Cfg.BaseURL + "/help/" + t.Lang + "/a/" + t.Slug
		if t.Lang == lang {
			return u, nil
		}
		if link == "" {
			link = u
		}
	}
	return link, nil
}

// MacroUsed counts a macro sent and applies its field changes to the
// ticket (as the agent).
func (a *Automation) MacroUsed(ctx context.Context, me *agent.Agent, macroID, ticketID int64) error {
	m, err := a.Macro(ctx, me, macroID)
	if err != nil {
		return err
	}
	now := a.d.Now().UTC().Truncate(time.Microsecond)
	return a.d.Store.InTx(ctx, func(st *store.Tx) error {
		if err := st.MacroUsed(ctx, m.ID); err != nil {
			return err
		}
		var p ticket.Patch
		if m.Actions.Status != "" {
			s := ticket.Status(m.Actions.Status)
			p.Status = &s
		}
		if m.Actions.Priority != "" {
			pr, _ := ticket.ParsePriority(m.Actions.Priority)
			p.Priority = &pr
		}
		p.AddTags = m.Actions.AddTags
		if p.Status == nil && p.Priority == nil && len(p.AddTags) == 0 {
			return nil
		}
		_, _, err := a.d.Tickets.UpdateIn(ctx, st, ticket.AgentActor(me), ticketID, p, now)
		return err
	})
}

// Webhooks lists the webhooks.
func (a *Automation) Webhooks(ctx context.Context) ([]webhook.Webhook, error) {
	return a.d.Store.Webhooks(ctx)
}

// Webhook reads one webhook.
func (a *Automation) Webhook(ctx context.Context, id int64) (*webhook.Webhook, error) {
	return a.d.Store.Webhook(ctx, id)
}

// WebhookEvents are the events a webhook may subscribe to.
func WebhookEvents() []string {
	out := make([]string, len(automation.Events))
	for i, e := range automation.Events {
		out[i] = string(e)
	}
	return out
}

// SaveWebhook validates and stores a webhook; a new one gets its signing
// secret (returned once, in w.Secret).
func (a *Automation) SaveWebhook(ctx context.Context, w *webhook.Webhook, since time.Time) error {
	if err := w.Check(WebhookEvents()); err != nil {
		return err
	}
	now := a.d.Now()
	if w.ID == 0 {
		w.CreatedAt = now
		w.Secret = auth.RandomSecret(32)
	}
	w.UpdatedAt = now
	return a.d.Store.SaveWebhook(ctx, w, since)
}

// DeleteWebhook removes a webhook.
func (a *Automation) DeleteWebhook(ctx context.Context, id int64) error {
	return a.d.Store.DeleteWebhook(ctx, id)
}

// PingWebhook sends a webhook a signed test delivery and says what it
// answered.
func (a *Automation) PingWebhook(ctx context.Context, id int64) (*webhook.Delivery, error) {
	return a.d.PingWebhook(ctx, id)
}

// Deliveries lists a webhook's latest deliveries.
func (a *Automation) Deliveries(ctx context.Context, id int64) ([]webhook.Delivery, error) {
	if _, err := a.d.Store.Webhook(ctx, id); err != nil {
		return nil, err
	}
	return a.d.Store.Deliveries(ctx, id, 100)
}

// Escalate moves a ticket the agent may see to the next tier (or to).
// from, when set, is the team the agent saw the ticket in: a ticket that
// left it meanwhile (escalated by a colleague, or by this same request
// sent twice) is refused instead of escalated again.
func (a *Automation) Escalate(ctx context.Context, me *agent.Agent, ticketID int64, from, to *int64, reason string, tell bool) (*ticket.Ticket, error) {
	if len(reason) > 5000 {
		return nil, fault.Field("reason", "max_length", "must be at most 5,000 characters")
	}
	return a.d.Escalate(ctx, ticket.AgentActor(me), ticketID, from, to, reason, tell)
}
