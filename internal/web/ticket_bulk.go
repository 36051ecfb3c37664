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
// change (a closed one, a forbidden transition) is counted and skipped, the
// others change.
func (h *handler) ticketBulk(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 64<<10); err != nil {
		return err
	}
	a := current(r)
	actor := ticket.AgentActor(a)
	v := r.PostForm
	var p ticket.Patch
	if s := v.Get("status"); s != "" {
		st := ticket.Status(s)
		p.Status = &st
	}
	if s := v.Get("priority"); s != "" {
		pr, ok := ticket.ParsePriority(s)
		if !ok {
			return fault.Field("priority", "enum", "must be one of low, normal, high, urgent")
		}
		p.Priority = &pr
	}
	switch v.Get("assignee") {
	case "me":
		id := a.ID
		p.AssigneeID = ticket.Ref{Set: true, ID: &id}
	case "none":
		p.AssigneeID = ticket.Ref{Set: true}
	}
	if tag := v.Get("add_tag"); tag != "" {
		p.AddTags = []string{tag}
	}
	var into int64
	if s := strings.TrimPrefix(strings.TrimSpace(v.Get("merge_into")), "#"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			n = -1 // no such ticket: every merge fails and is counted
		}
		into = n
	}
	ids := v["ids"]
	if len(ids) > maxBulk {
		ids = ids[:maxBulk]
	}
	done, failed := 0, 0
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
		default:
			return err
		}
	}
	back := url.Values{"view": {v.Get("view")}, "done": {strconv.Itoa(done)}, "failed": {strconv.Itoa(failed)}}
	http.Redirect(w, r, "/?"+back.Encode(), http.StatusSeeOther)
	return nil
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
