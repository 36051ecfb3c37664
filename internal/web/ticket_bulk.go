package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/ticket"
)

// maxBulk bounds one bulk action (two pages of the inbox and more).
const maxBulk = 200

// ticketBulk: POST /tickets/bulk — apply one change to the selected
// tickets. Each ticket is its own transaction: a ticket that refuses the
// change (a closed one, a forbidden transition) is counted, named and
// skipped, the others change. Nothing picked or nothing to apply is said,
// not silently done; merging several tickets asks first.
func (h *handler) ticketBulk(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 64<<10); err != nil {
		return err
	}
	a := current(r)
	actor := ticket.AgentActor(a)
	v := r.PostForm
	back := url.Values{"view": {v.Get("view")}}
	if s := v.Get("sort"); s != "" {
		back.Set("sort", s)
	}
	var p ticket.Patch
	if s := v.Get("status"); s != "" {
		st := ticket.Status(s)
		p.Status = &st
		back.Set("ch_status", s)
	}
	if s := v.Get("priority"); s != "" {
		pr, ok := ticket.ParsePriority(s)
		if !ok {
			return fault.Field("priority", "enum", "must be one of low, normal, high, urgent")
		}
		p.Priority = &pr
		back.Set("ch_priority", s)
	}
	switch v.Get("assignee") {
	case "me":
		id := a.ID
		p.AssigneeID = ticket.Ref{Set: true, ID: &id}
		back.Set("ch_assignee", "me")
	case "none":
		p.AssigneeID = ticket.Ref{Set: true}
		back.Set("ch_assignee", "none")
	}
	if tag := strings.TrimSpace(v.Get("add_tag")); tag != "" {
		p.AddTags = []string{tag}
		back.Set("ch_tag", tag)
	}
	var into int64
	if s := strings.TrimPrefix(strings.TrimSpace(v.Get("merge_into")), "#"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			n = -1 // no such ticket: every merge fails and is counted
		}
		into = n
		back = url.Values{"view": back["view"], "ch_merge": {strconv.FormatInt(n, 10)}}
	}
	ids := v["ids"]
	if len(ids) > maxBulk {
		ids = ids[:maxBulk]
	}
	switch {
	case len(ids) == 0:
		back.Set("bulk", "none_picked")
	case into == 0 && p.Status == nil && p.Priority == nil && !p.AssigneeID.Set && len(p.AddTags) == 0:
		back.Set("bulk", "nothing")
	}
	if back.Has("bulk") {
		for k := range back {
			if strings.HasPrefix(k, "ch_") {
				back.Del(k)
			}
		}
		http.Redirect(w, r, "/?"+back.Encode(), http.StatusSeeOther)
		return nil
	}
	if into > 0 && !confirmed(r) {
		return h.confirmBulkMerge(w, r, ids, into)
	}
	done, failed := 0, 0
	var skipped []string
	for _, s := range ids {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			failed++
			continue
		}
		switch {
		case into == n:
			continue // the target of the merge stays
		case into != 0:
			// Merging closes the source: the other changes would be lost.
			_, err = h.Tickets.Merge(r.Context(), actor, n, into)
		default:
			_, err = h.Tickets.Update(r.Context(), actor, n, p)
		}
		switch {
		case err == nil:
			done++
		case errors.Is(err, fault.Invalid), errors.Is(err, fault.Conflict), errors.Is(err, fault.NotFound):
			failed++
			if len(skipped) < 10 {
				skipped = append(skipped, "#"+s)
			}
		default:
			return err
		}
	}
	back.Set("done", strconv.Itoa(done))
	back.Set("failed", strconv.Itoa(failed))
	if len(skipped) > 0 {
		back.Set("skipped", strings.Join(skipped, ", "))
	}
	http.Redirect(w, r, "/?"+back.Encode(), http.StatusSeeOther)
	return nil
}

// confirmBulkMerge shows what merging the picked tickets into one would
// do: each ticket with its requester, and a warning when they are not all
// the same customer.
func (h *handler) confirmBulkMerge(w http.ResponseWriter, r *http.Request, ids []string, into int64) error {
	a := current(r)
	pr := h.printer(r, a)
	actor := ticket.AgentActor(a)
	dst, err := h.Tickets.Get(r.Context(), actor, into)
	if err != nil {
		if errors.Is(err, fault.NotFound) {
			back := url.Values{"view": {r.PostFormValue("view")}, "bulk": {"no_target"}}
			http.Redirect(w, r, "/?"+back.Encode(), http.StatusSeeOther)
			return nil
		}
		return err
	}
	ts := []*ticket.Ticket{dst}
	for _, s := range ids {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n == into {
			continue
		}
		if t, err := h.Tickets.Get(r.Context(), actor, n); err == nil {
			ts = append(ts, t)
		}
	}
	reqs := make([]int64, len(ts))
	for i, t := range ts {
		reqs[i] = t.RequesterID
	}
	names, err := h.Store.ContactNames(r.Context(), reqs)
	if err != nil {
		return err
	}
	d := confirmData{Title: pr.T("confirm.bulk_merge.title", "N", len(ts)-1, "Into", into),
		Message: pr.T("confirm.bulk_merge.message", "N", len(ts)-1, "Into", into), Button: pr.T("confirm.merge.yes"),
		Back: "/?" + url.Values{"view": {r.PostFormValue("view")}}.Encode()}
	differ := false
	for _, t := range ts {
		d.Lines = append(d.Lines, pr.T("confirm.merge.line", "Number", t.ID, "Subject", t.Subject, "Requester", names[t.RequesterID]))
		differ = differ || t.RequesterID != dst.RequesterID
	}
	if differ {
		d.Warning = pr.T("confirm.bulk_merge.requesters")
	}
	return h.askFirst(w, r, d)
}

// ticketMerge: POST /tickets/{number}/merge — fold this ticket into another.
func (h *handler) ticketMerge(w http.ResponseWriter, r *http.Request) error {
	n, err := ticketNumber(r)
	if err != nil {
		return err
	}
	if err := h.parseForm(w, r, 4<<10); err != nil {
		return err
	}
	a := current(r)
	into, _ := strconv.ParseInt(r.PostFormValue("into"), 10, 64)
	if !confirmed(r) {
		// Both tickets side by side, and a warning when their customers
		// differ; a target the agent cannot see falls to Merge's error.
		src, serr := h.Tickets.Get(r.Context(), ticket.AgentActor(a), n)
		dst, derr := h.Tickets.Get(r.Context(), ticket.AgentActor(a), into)
		if serr == nil && derr == nil && src.ID != dst.ID {
			pr := h.printer(r, a)
			names, err := h.Store.ContactNames(r.Context(), []int64{src.RequesterID, dst.RequesterID})
			if err != nil {
				return err
			}
			d := confirmData{Title: pr.T("confirm.merge.title", "From", n, "Into", into), Message: pr.T("confirm.merge.message", "From", n, "Into", into),
				Button: pr.T("confirm.merge.yes"), Back: "/tickets/" + strconv.FormatInt(n, 10)}
			for _, t := range []*ticket.Ticket{src, dst} {
				d.Lines = append(d.Lines, pr.T("confirm.merge.line", "Number", t.ID, "Subject", t.Subject, "Requester", names[t.RequesterID]))
			}
			if src.RequesterID != dst.RequesterID {
				d.Warning = pr.T("confirm.merge.requesters", "A", names[src.RequesterID], "B", names[dst.RequesterID])
			}
			return h.askFirst(w, r, d)
		}
	}
	if _, err := h.Tickets.Merge(r.Context(), ticket.AgentActor(a), n, into); err != nil {
		ps := problemsOf(err)
		if ps == nil && !errors.Is(err, ticket.ErrClosed) {
			return err
		}
		pr := h.printer(r, a)
		msg := pr.T("merge.closed")
		if ps != nil {
			msg = pr.T("merge." + ps[0].Rule)
		}
		return h.ticketPage(w, r, n, http.StatusUnprocessableEntity, &composer{Kind: "reply", MergeError: msg, MergeInto: r.PostFormValue("into")}, nil)
	}
	http.Redirect(w, r, "/tickets/"+strconv.FormatInt(into, 10), http.StatusSeeOther)
	return nil
}
