package app

import (
	"context"
	"net"
	"net/http"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/api"
	"github.com/sportello/sportello/internal/channel/email"
	"github.com/sportello/sportello/internal/httpx"
	"github.com/sportello/sportello/internal/live"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/web"
)

// Route is one non-API route of the desk and who may call it.
type Route struct {
	Method, Path string
	Public       bool
}

// Routes lists the desk's own routes outside /api/v1 and the workspace (the
// API's are in api.Routes, the workspace's in web.Routes). All of these are public: probes and scrapers carry no
// credentials; keep /metrics behind your network's edge.
func Routes() []Route {
	return []Route{
		{"GET", "/healthz", true},
		{"GET", "/readyz", true},
		{"GET", "/metrics", true},
	}
}

func (d *Desk) routes() (http.Handler, error) {
	mux := http.NewServeMux()
	// Both surfaces write agents through accounts, which also ends the live
	// streams of an agent who is deactivated.
	accounts := revokingStore{d.Store, d.Hub, d}
	api.Register(mux, api.Deps{SLA: d.SLA,
		Store: accounts, Tickets: d.Tickets, Auth: d.Auth, Files: d.Files, Log: d.Log, Now: d.Now,
		SecureCookies: d.Cfg.SecureCookies(), Proxies: d.Cfg.Proxies(), Seal: d.Secrets.Seal,
		CheckIMAP: func(ctx context.Context, mb *email.Mailbox) email.Check { return d.IMAPPoller().CheckIMAP(ctx, mb) },
		CheckSMTP: d.Sender.CheckSMTP, Resend: d.Resend, OAuthStart: d.OAuthStart, OAuthFinish: d.OAuthFinish, InlineOK: d.inlineOK,
		Template: func(name, lang string) (string, string) {
			return email.DefaultTemplate(d.I18n.Printer(lang, "UTC"), name)
		},
		MaxBody: int64(d.Cfg.MaxBodyMB) << 20, MaxUpload: int64(d.Cfg.MaxUploadMB) << 20,
		OnTicketCreated: d.Metrics.TicketCreated, Auto: d.Automation(),
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := d.Store.Ping(r.Context()); err != nil {
			d.Log.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("database unavailable\n"))
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", d.Metrics.Handler())
	if err := web.Register(mux, web.Deps{Auto: d.Automation(), Auth: d.Auth, Tickets: d.Tickets, SLA: d.SLA, Notices: d.Notices, Store: accounts, Contacts: d.Store, Orgs: d.Store, MaxUpload: int64(d.Cfg.MaxUploadMB) << 20, Accounts: accounts, Tokens: d.Store, Teams: d.Store, Settings: d.Store, I18n: d.I18n, Hub: d.Hub, Log: d.Log, Now: d.Now,
		SecureCookies: d.Cfg.SecureCookies(), Proxies: d.Cfg.Proxies(),
		InlineURL: d.inlineURL,
		KB:        d.Store, Desk: settingsStore{d.Store, d}, BaseURL: d.Cfg.BaseURL, Links: d.Links, CSAT: ratingStore{d.Store, d}, Portal: d.Store, PortalMail: d.portalMail,
		Mail: web.MailDeps{Store: d.Store, Seal: d.Secrets.Seal, CheckSMTP: d.Sender.CheckSMTP, Resend: d.Resend,
			CheckIMAP: func(ctx context.Context, mb *email.Mailbox) email.Check { return d.IMAPPoller().CheckIMAP(ctx, mb) },
			Template: func(name, lang string) (string, string) {
				return email.DefaultTemplate(d.I18n.Printer(lang, "UTC"), name)
			}},
	}); err != nil {
		return nil, err
	}
	// Cross-origin browser requests that change state are refused; API
	// clients (no Origin / Sec-Fetch-Site) and same-origin pages pass.
	cop := http.NewCrossOriginProtection()
	return httpx.Chain(cop.Handler(mux), d.Log, d.Metrics.ObserveRequest), nil
}

// revokingStore is the store as the web and API handlers see it: an agent
// update that deactivates someone also ends their open live streams, on
// every node (the store has already deleted their sessions and tokens);
// one that changes an agent's availability hands their tickets on or
// offers them the waiting ones (Desk.AvailabilityChanged).
type revokingStore struct {
	*store.Store
	hub  *live.Hub
	desk *Desk
}

func (s revokingStore) UpdateAgent(ctx context.Context, a *agent.Agent, p agent.Patch) error {
	if err := s.Store.UpdateAgent(ctx, a, p); err != nil {
		return err
	}
	if p.Active != nil && !a.Active {
		s.hub.Revoke(a.ID)
	}
	if p.Availability != nil {
		// The change is saved whatever follows: a ticket that could not
		// be handed on is logged, and the next change tries again.
		if err := s.desk.AvailabilityChanged(ctx, a.ID); err != nil {
			s.desk.Log.Error("assignment after an availability change", "agent", a.ID, "err", err)
		}
	}
	return nil
}

func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
