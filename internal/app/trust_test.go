package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/testdb"
)

// Issue 9, defect 2: a profile edit holding the copy of the agent read
// when its request began (before an admin demoted and deactivated them)
// writes only profile fields, so role and access stay as the admin left
// them; and an admin's agents form left open applies only what it changed.
func TestStaleProfileCannotRestoreRole(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.DB) {
		k := newDesk(t, db)
		ctx := context.Background()
		lead := k.agents["lead"]
		stale, err := k.d.Store.Agent(ctx, lead.ID) // the request's copy
		if err != nil {
			t.Fatal(err)
		}
		k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/agents/%d", lead.ID), map[string]any{"role": "agent", "active": false})
		name := "Lead Rinominato"
		p := agent.Patch{Name: &name}
		if err := stale.Apply(p); err != nil {
			t.Fatal(err)
		}
		if err := k.d.Store.UpdateAgent(ctx, stale, p); err != nil {
			t.Fatal(err)
		}
		now, err := k.d.Store.Agent(ctx, lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if now.Role != agent.RoleAgent || now.Active || now.Name != name {
			t.Fatalf("after a stale profile edit: role %s active %v name %q; want agent, inactive, the new name", now.Role, now.Active, now.Name)
		}

		// The agents page: admin A's form still shows "agent, active" for
		// the test agent; admin B (the API) makes them a lead meanwhile.
		a := signedIn(t, k, "admin")
		target := k.agents["agent"]
		k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/agents/%d", target.ID), map[string]any{"role": "lead"})
		// A only unticks "active": the role B set stays.
		st, _, _ := a.req("POST", fmt.Sprintf("/admin/agents/%d", target.ID), url.Values{"role": {"agent"}, "role_was": {"agent"}, "active_was": {"on"}}, "en")
		if st != http.StatusSeeOther {
			t.Fatalf("admin form: %d", st)
		}
		got, _ := k.d.Store.Agent(ctx, target.ID)
		if got.Role != agent.RoleLead || got.Active {
			t.Fatalf("after the stale form: role %s active %v; want lead (B's change kept), inactive (A's change)", got.Role, got.Active)
		}
		// A changes the role that B changed meanwhile: reported, not applied.
		k.must(200, "admin", "PATCH", fmt.Sprintf("/api/v1/agents/%d", target.ID), map[string]any{"role": "admin"})
		st, _, body := a.req("POST", fmt.Sprintf("/admin/agents/%d", target.ID), url.Values{"role": {"agent"}, "role_was": {"lead"}, "active_was": {""}}, "en")
		if st != http.StatusConflict || !strings.Contains(body, "Un altro amministratore ha modificato") {
			t.Fatalf("conflicting role change: %d %s", st, body)
		}
		if got, _ := k.d.Store.Agent(ctx, target.ID); got.Role != agent.RoleAdmin {
			t.Fatalf("the conflicting change was applied: role %s", got.Role)
		}
	})
}
