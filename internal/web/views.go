package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/fault"
	"github.com/sportello/sportello/internal/ticket"
)

// viewCreate: POST /views — save the search page's filters as an inbox
// view, private or shared with one of the agent's teams. On a bad name
// the search page comes back with the filters kept and the error shown.
func (h *handler) viewCreate(w http.ResponseWriter, r *http.Request) error {
	if err := h.parseForm(w, r, 16<<10); err != nil {
		return err
	}
	a := current(r)
	pr := h.printer(r, a)
	qf := parseQueryFilter(r.PostForm)
	v := &ticket.SavedView{Name: r.PostFormValue("view_name"), AgentID: a.ID, Query: qf.Encode(), CreatedAt: h.Now()}
	if s := r.PostFormValue("share"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			id = -1
		}
		v.TeamID = &id
	}
	err := ticket.CheckView(v, a)
	if err == nil {
		// One name per agent: two "Urgenti" would be told apart by nobody.
		mine, verr := h.Store.ViewsFor(r.Context(), a.ID, a.TeamIDs)
		if verr != nil {
			return verr
		}
		for _, o := range mine {
			if o.AgentID == a.ID && strings.EqualFold(strings.TrimSpace(o.Name), strings.TrimSpace(v.Name)) {
				err = fault.Field("view_name", "unique", "you have a view with this name")
			}
		}
	}
	if err == nil {
		if _, errs := qf.toFilter(a, pr.Loc); len(errs) > 0 {
			return h.searchPage(w, r, http.StatusUnprocessableEntity, v.Name, "")
		}
		err = h.Store.CreateView(r.Context(), v)
	}
	if ps := problemsOf(err); ps != nil {
		return h.searchPage(w, r, http.StatusUnprocessableEntity, v.Name, pr.T("view.error."+ps[0].Rule))
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/?view=v"+strconv.FormatInt(v.ID, 10), http.StatusSeeOther)
	return nil
}

// viewDelete: POST /views/{id}/delete — by its author, an admin, or a lead
// of the team it is shared with.
func (h *handler) viewDelete(w http.ResponseWriter, r *http.Request) error {
	a := current(r)
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return ticket.ErrViewNotFound
	}
	v, err := h.Store.View(r.Context(), id)
	if err != nil {
		return err
	}
	if !ticket.CanSeeView(a, v) && a.Role != agent.RoleAdmin {
		return ticket.ErrViewNotFound
	}
	if !ticket.CanDeleteView(a, v) {
		return fmt.Errorf("deleting another agent's view: %w", fault.Forbidden)
	}
	if err := h.parseForm(w, r, 4<<10); err != nil {
		return err
	}
	if !confirmed(r) {
		pr := h.printer(r, a)
		return h.askFirst(w, r, confirmData{Title: pr.T("confirm.view.title", "Name", v.Name), Message: pr.T("confirm.view.message", "Shared", v.TeamID != nil),
			Button: pr.T("confirm.view.yes"), Back: "/?view=v" + strconv.FormatInt(id, 10)})
	}
	if err := h.Store.DeleteView(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}
