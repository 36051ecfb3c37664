package automation

import (
	"context"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/ticket"
	"github.com/sportello/sportello/internal/webhook"
)

// Surface is what the API and the workspace do with rules, macros,
// webhooks and escalations (app.Automation): one set of methods, so both
// surfaces apply the same validation and the same row rules.
type Surface interface {
	Rules(ctx context.Context) ([]Rule, error)
	Rule(ctx context.Context, id int64) (*Rule, error)
	SaveRule(ctx context.Context, r *Rule, since time.Time) error
	SetRuleActive(ctx context.Context, id int64, on bool) error
	MoveRule(ctx context.Context, id int64, up bool) error
	DeleteRule(ctx context.Context, id int64) error
	DryRun(ctx context.Context, actor ticket.Actor, ticketID int64, event string) ([]DryRule, error)
	Macro(ctx context.Context, me *agent.Agent, id int64) (*Macro, error)
	SaveMacro(ctx context.Context, me *agent.Agent, m *Macro, shared bool, since time.Time) error
	DeleteMacro(ctx context.Context, me *agent.Agent, id int64) error
	Webhooks(ctx context.Context) ([]webhook.Webhook, error)
	Webhook(ctx context.Context, id int64) (*webhook.Webhook, error)
	SaveWebhook(ctx context.Context, w *webhook.Webhook, since time.Time) error
	DeleteWebhook(ctx context.Context, id int64) error
	Deliveries(ctx context.Context, id int64) ([]webhook.Delivery, error)
	PingWebhook(ctx context.Context, id int64) (*webhook.Delivery, error)
	Macros(ctx context.Context, me *agent.Agent) ([]Macro, error)
	RenderMacro(ctx context.Context, me *agent.Agent, macroID, ticketID int64) (*Rendered, error)
	MacroUsed(ctx context.Context, me *agent.Agent, macroID, ticketID int64) error
	Escalate(ctx context.Context, me *agent.Agent, ticketID int64, from, to *int64, reason string, tell bool) (*ticket.Ticket, error)
}
