package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/sportello/sportello/internal/automation"
	"github.com/sportello/sportello/internal/webhook"
)

// The webhooks pages (admins): the list, a form per webhook with the
// events it hears, and its delivery log. The signing secret is shown
// once, on the page that answers the creation.

type webhooksData struct {
	Hooks []webhook.Webhook
	Last  map[int64]*webhook.Delivery
}

type webhookForm struct {
	W          *webhook.Webhook
	New        bool
	Secret     string // just created: shown once
	Events     []automation.Event
	Errors     map[string]string
	Deliveries []webhook.Delivery
	When       map[int64]string
	Ping       *webhook.Delivery // the test delivery just sent
}

// webhooksShow: GET /admin/webhooks — each with its latest delivery.
func (h *handler) webhooksShow(w http.ResponseWriter, r *http.Request) error {
	a := current(r)
	pr := h.printer(r, a)
	hooks, err := h.Auto.Webhooks(r.Context())
	if err != nil {
		return err
	}
	d := webhooksData{Hooks: hooks, Last: map[int64]*webhook.Delivery{}}
	for _, x := range hooks {
		ds, err := h.Auto.Deliveries(r.Context(), x.ID)
		if err != nil {
			return err
		}
		if len(ds) > 0 {
			d.Last[x.ID] = &ds[0]
		}
	}
	return h.render(w, r, http.StatusOK, "webhooks", page{P: pr, Agent: a, Title: pr.T("webhooks.title"), Now: h.Now(), Data: d})
}

// webhookNew: GET /admin/webhooks/new
func (h *handler) webhookNew(w http.ResponseWriter, r *http.Request) error {
	return h.webhookEditor(w, r, http.StatusOK, &webhookForm{W: &webhook.Webhook{Active: true}, New: true})
}

// webhookShow: GET /admin/webhooks/{id} — the form and the delivery log.
func (h *handler) webhookShow(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, webhook.ErrNotFound)
	if err != nil {
		return err
	}
	x, err := h.Auto.Webhook(r.Context(), id)
	if err != nil {
		return err
	}
	return h.webhookEditor(w, r, http.StatusOK, &webhookForm{W: x})
}

func (h *handler) webhookEditor(w http.ResponseWriter, r *http.Request, status int, f *webhookForm) error {
	a := current(r)
	pr := h.printer(r, a)
	f.Events = automation.Events
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	if !f.New {
		var err error
		if f.Deliveries, err = h.Auto.Deliveries(r.Context(), f.W.ID); err != nil {
			return err
		}
		f.When = map[int64]string{}
		now := h.Now()
		for _, d := range f.Deliveries {
			f.When[d.ID] = pr.Ago(d.CreatedAt, now)
		}
	}
	title := pr.T("webhooks.new")
	if !f.New {
		title = f.W.Name
	}
	return h.render(w, r, status, "webhook_edit", page{P: pr, Agent: a, Title: title, Now: h.Now(), Data: f})
}

// webhookSave: POST /admin/webhooks (new) and POST /admin/webhooks/{id}.
// A new webhook's page shows its secret once; a second post of the same
// form (Back, reload) is refused by the name, which must be unique.
func (h *handler) webhookSave(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 16<<10); err != nil {
		return err
	}
	a := current(r)
	pr := h.printer(r, a)
	v := r.PostForm
	x := &webhook.Webhook{}
	isNew := r.PathValue("id") == ""
	if !isNew {
		id, err := pathID(r, webhook.ErrNotFound)
		if err != nil {
			return err
		}
		if x, err = h.Auto.Webhook(r.Context(), id); err != nil {
			return err
		}
	}
	x.Name, x.URL = v.Get("name"), strings.TrimSpace(v.Get("url"))
	x.Events = v["events"]
	x.Active, x.AllowPrivate = v.Get("active") == "1", v.Get("allow_private") == "1"
	err := h.Auto.SaveWebhook(r.Context(), x, wasUpdated(r))
	if ps := problemsOf(err); ps != nil {
		f := &webhookForm{W: x, New: isNew, Errors: map[string]string{}}
		for _, p := range ps {
			key := p.Field
			if strings.HasPrefix(key, "events[") {
				key = "events"
			}
			if _, seen := f.Errors[key]; seen {
				continue
			}
			msg := pr.T("form." + p.Rule)
			if p.Rule == "url" {
				msg = pr.T("webhooks.bad_url")
				if webhook.CheckURL(x.URL, true) == "" { // fine but for where it points
					msg = pr.T("webhooks.private_refused")
				}
			}
			f.Errors[key] = msg
		}
		return h.webhookEditor(w, r, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	if isNew {
		// The only time the secret is shown: the page says so, and the
		// form now changes the webhook just made.
		return h.webhookEditor(w, r, http.StatusOK, &webhookForm{W: x, Secret: x.Secret})
	}
	http.Redirect(w, r, "/admin/webhooks", http.StatusSeeOther)
	return nil
}

// webhookTest: POST /admin/webhooks/{id}/test — sends a signed test
// delivery now and shows what the receiver answered.
func (h *handler) webhookTest(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, webhook.ErrNotFound)
	if err != nil {
		return err
	}
	if err := h.parseForm(w, r, 4<<10); err != nil {
		return err
	}
	ping, err := h.Auto.PingWebhook(r.Context(), id)
	if err != nil {
		return err
	}
	x, err := h.Auto.Webhook(r.Context(), id)
	if err != nil {
		return err
	}
	return h.webhookEditor(w, r, http.StatusOK, &webhookForm{W: x, Ping: ping})
}

// webhookDelete: POST /admin/webhooks/{id}/delete — asks first.
func (h *handler) webhookDelete(w http.ResponseWriter, r *http.Request) error {
	pr := h.printer(r, current(r))
	return h.deleteAsked(w, r, deletion{Kind: "webhook", List: "/admin/webhooks", NotFound: webhook.ErrNotFound,
		Read: func(ctx context.Context, id int64) (string, string, error) {
			x, err := h.Auto.Webhook(ctx, id)
			if err != nil {
				return "", "", err
			}
			return x.Name, pr.T("confirm.webhook.message"), nil
		},
		Delete: h.Auto.DeleteWebhook})
}
