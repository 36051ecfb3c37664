package app

import (
	"context"
	"time"

	"github.com/sportello/sportello/internal/automation"
)

// seedKey marks a desk that got the shipped rules and macros (once: an
// admin who deletes them does not see them come back).
const seedKey = "automation.seeded"

// seedAutomation adds, once, the shipped rules (all off until an admin
// switches them on) and the reply scripts of DOMAIN §10 in Italian and
// English.
func (d *Desk) seedAutomation(ctx context.Context) error {
	var done bool
	if ok, err := d.Store.Setting(ctx, seedKey, &done); err != nil || (ok && done) {
		return err
	}
	now := d.Now()
	macros := []automation.Macro{
		{Name: "Presa in carico", Kind: "acknowledgement", Variants: map[string]string{
			"it": "Gentile {{customer.first_name}},\n\ngrazie per averci scritto. Abbiamo registrato la sua richiesta {{ticket.number}} e la aggiorneremo entro {{sla.deadline}}.\n\nCordiali saluti,\n{{agent.name}}",
			"en": "Dear {{customer.first_name}},\n\nthank you for writing to us. We have logged your request {{ticket.number}} and will update you by {{sla.deadline}}.\n\nKind regards,\n{{agent.name}}"}},
		{Name: "Soluzione passo per passo", Kind: "resolution", Variants: map[string]string{
			"it": "Gentile {{customer.first_name}},\n\nper risolvere ({{ticket.number}}) le chiedo di seguire questi passi:\n1. …\n2. …\n3. …\n\nMi fa sapere se così funziona? Resto a disposizione.\n\n{{agent.name}}",
			"en": "Dear {{customer.first_name}},\n\nto solve this ({{ticket.number}}), please follow these steps:\n1. …\n2. …\n3. …\n\nDoes that work for you? I'm here if you need anything.\n\n{{agent.name}}"}},
		{Name: "Escalation al team tecnico", Kind: "escalation", Variants: map[string]string{
			"it": "Gentile {{customer.first_name}},\n\nho inoltrato la sua richiesta {{ticket.number}} al team {{team.name}}, che se ne occuperà da qui. La aggiorneremo entro {{sla.deadline}}.\n\n{{agent.name}}",
			"en": "Dear {{customer.first_name}},\n\nI have forwarded your request {{ticket.number}} to our {{team.name}} team, who will take it from here. We will update you by {{sla.deadline}}.\n\n{{agent.name}}"}},
		{Name: "Chiusura: può confermare?", Kind: "closure", Actions: automation.MacroActions{Status: "solved"}, Variants: map[string]string{
			"it": "Gentile {{customer.first_name}},\n\nil problema della richiesta {{ticket.number}} risulta risolto. Può confermarci che ora è tutto a posto? Grazie per la pazienza.\n\n{{agent.name}}",
			"en": "Dear {{customer.first_name}},\n\nthe problem of request {{ticket.number}} is solved. Could you confirm that everything is fine now? Thank you for your patience.\n\n{{agent.name}}"}},
		{Name: "Sollecito al cliente", Kind: "other", Variants: map[string]string{
			"it": "Gentile {{customer.first_name}},\n\nle scriviamo per la richiesta {{ticket.number}}: per proseguire ci serve ancora una sua risposta. Se nel frattempo il problema è risolto, ce lo faccia sapere.\n\nIl team {{team.name}}",
			"en": "Dear {{customer.first_name}},\n\nabout your request {{ticket.number}}: we still need your answer to go on. If the problem is solved meanwhile, please let us know.\n\nThe {{team.name}} team"}},
	}
	for i := range macros {
		m := &macros[i]
		m.CreatedAt, m.UpdatedAt = now, now
		if err := m.Check(nil); err != nil {
			return err
		}
		if err := d.Store.SaveMacro(ctx, m, time.Time{}); err != nil {
			return err
		}
	}
	rules := []automation.Rule{
		{Name: "Sollecito dopo 3 giorni in attesa", Time: &automation.TimeTrigger{Since: "updated", Minutes: 3 * 24 * 60},
			Conditions: []automation.Condition{{Field: "status", Op: automation.OpIs, Value: "pending"}, {Field: "tags", Op: automation.OpNotContains, Values: []string{"sollecitato"}}},
			Actions: []automation.Action{{Type: automation.ActReply, MacroID: &macros[4].ID},
				{Type: automation.ActAddTags, Values: []string{"sollecitato"}}}},
		{Name: "Risolvi dopo 7 giorni in attesa", Time: &automation.TimeTrigger{Since: "updated", Minutes: 4 * 24 * 60},
			Conditions: []automation.Condition{{Field: "status", Op: automation.OpIs, Value: "pending"}, {Field: "tags", Op: automation.OpContains, Values: []string{"sollecitato"}}},
			Actions:    []automation.Action{{Type: automation.ActSetStatus, Value: "solved"}, {Type: automation.ActNote, Text: "Risolto dopo 7 giorni senza risposta del cliente."}}},
		{Name: "Avvisa il lead alla violazione SLA", Events: []automation.Event{automation.SLABreach},
			Actions: []automation.Action{{Type: automation.ActNotify, Value: "lead", Text: "SLA violato su {{ticket.number}}"}}},
		{Name: "Urgente nell'oggetto: priorità urgente", Events: []automation.Event{automation.TicketCreated},
			Conditions: []automation.Condition{{Field: "subject", Op: automation.OpMatches, Value: `\burgent[ei]?\b`}},
			Actions:    []automation.Action{{Type: automation.ActSetPriority, Value: "urgent"}}},
	}
	// The reminder's text is the macro above, in the ticket's language.
	k := automation.Known{Macros: map[int64]bool{macros[4].ID: true}}
	for i := range rules {
		r := &rules[i]
		r.Position, r.CreatedAt, r.UpdatedAt = i+1, now, now
		if err := r.Check(k); err != nil {
			return err
		}
		if err := d.Store.SaveRule(ctx, r, time.Time{}); err != nil {
			return err
		}
	}
	return d.Store.SetSetting(ctx, seedKey, true, now)
}
