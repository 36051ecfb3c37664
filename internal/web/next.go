package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/ticket"
)

// The queue an agent works through is remembered from the inbox they last
// looked at (a cookie with its view and order), so that "Send and open
// next" on a ticket goes on to the next ticket of that queue.
const queueCookie = "sp_queue"

// rememberQueue keeps the view and order the inbox shows.
func rememberQueue(w http.ResponseWriter, r *http.Request, view, sort string) {
	v := url.Values{"view": {view}, "sort": {sort}}
	http.SetCookie(w, &http.Cookie{Name: queueCookie, Value: v.Encode(), Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil, MaxAge: 30 * 24 * 3600})
}

// queue is the remembered view and order ("mine" by last update when none).
func queue(r *http.Request) (view, sort string) {
	view, sort = "mine", "-updated"
	if c, err := r.Cookie(queueCookie); err == nil {
		if v, err := url.ParseQuery(c.Value); err == nil {
			if v.Get("view") != "" {
				view = v.Get("view")
			}
			if v.Get("sort") != "" {
				sort = v.Get("sort")
			}
		}
	}
	return view, sort
}

// queueFilter is the filter of view (a built-in queue or one of the
// agent's saved views), or false when the agent no longer has it.
func (h *handler) queueFilter(r *http.Request, a *agent.Agent, key string) (ticket.Filter, bool, error) {
	now := h.Now()
	for _, v := range views {
		if v.Key == key {
			return v.filter(a, now), true, nil
		}
	}
	saved, err := h.Store.ViewsFor(r.Context(), a.ID, a.TeamIDs)
	if err != nil {
		return ticket.Filter{}, false, err
	}
	for _, sv := range saved {
		if "v"+strconv.FormatInt(sv.ID, 10) == key {
			vq, _ := url.ParseQuery(sv.Query)
			f, errs := parseQueryFilter(vq).toFilter(a, h.printer(r, a).Loc)
			return f, len(errs) == 0, nil
		}
	}
	return ticket.Filter{}, false, nil
}

// nextInQueue is where "Send and open next" goes after ticket n: the
// ticket after n in the remembered queue and order, or the first one when
// n has left the queue (solved, handed on); the queue itself when nothing
// is left.
func (h *handler) nextInQueue(r *http.Request, a *agent.Agent, n int64) (string, error) {
	view, sort := queue(r)
	back := "/?" + url.Values{"view": {view}, "sort": {sort}}.Encode()
	f, ok, err := h.queueFilter(r, a, view)
	if err != nil || !ok {
		return "/", err
	}
	if !slices.Contains(append(slices.Clone(inboxSorts), "relevance"), sort) {
		sort = "-updated"
	}
	f.Sort, f.Limit = sort, 200
	if fits, err := h.sortFits(r.Context(), ticket.AgentActor(a), f); err != nil {
		return "", err
	} else if !fits {
		f.Sort = "-updated"
	}
	ts, err := h.Tickets.List(r.Context(), ticket.AgentActor(a), f)
	if err != nil {
		return "", err
	}
	at := slices.IndexFunc(ts, func(t ticket.Ticket) bool { return t.ID == n })
	if at >= 0 && at+1 < len(ts) {
		return "/tickets/" + strconv.FormatInt(ts[at+1].ID, 10), nil
	}
	for _, t := range ts {
		if t.ID != n {
			return "/tickets/" + strconv.FormatInt(t.ID, 10), nil
		}
	}
	return back, nil
}
