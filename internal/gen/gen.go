// Package gen fills a database with many synthetic tickets quickly, for
// benchmarks at the scale of a large desk (a million tickets with five
// messages each). It writes rows in bulk (COPY on PostgreSQL, multi-row
// INSERTs on SQLite), bypassing the ticket service: the rows are shaped like
// the service's, but the point is volume, not realism of each thread.
package gen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/sportello/sportello/internal/ticket"
)

// Store is the bulk interface the generator writes through.
type Store interface {
	Bulk(ctx context.Context, table string, cols []string, rows [][]any) error
	MaxID(ctx context.Context, table string) (int64, error)
	SyncSequences(ctx context.Context, tables ...string) error
	Analyze(ctx context.Context) error
	// ReindexRange builds the search documents of tickets from..to.
	ReindexRange(ctx context.Context, from, to int64, progress func(done int64)) error
}

// Options say how much to generate.
type Options struct {
	Tickets  int
	Messages int // average per ticket
	Teams    int
	Contacts int
	Seed     int64
	Now      time.Time
	Progress func(done int)
}

const chunk = 5000

var phrases = []string{
	"Buongiorno, vi scrivo perché l'ordine non è ancora arrivato.", "Hello, I'm writing about my last invoice.",
	"Il tracking è fermo da alcuni giorni.", "The app closes as soon as I open it.", "Grazie per la risposta rapida.",
	"Could you please check my account settings?", "Ho provato a reinstallare ma non cambia nulla.", "Thanks, that solved it.",
	"Vi allego lo screenshot dell'errore.", "I was charged twice this month.", "Resto in attesa di un vostro riscontro.",
	"Is there an update on this?", "La connessione cade ogni sera verso le 21.", "Please cancel my subscription.",
	"Potete richiamarmi in mattinata?", "I can't find the download link in the email.",
}

var subjects = []string{"Ordine non arrivato", "Problema di accesso", "Addebito doppio", "App non si avvia", "Richiesta fattura",
	"Order not delivered", "Login problem", "Wrong invoice", "Connection drops", "Cancel subscription", "Disdetta contratto", "Refund request"}

// products give search a middle ground between words found everywhere
// and order codes found once.
var products = []string{"router", "modem", "stampante", "portatile", "tablet", "smartphone", "cuffie", "monitor", "tastiera", "webcam",
	"frigorifero", "lavatrice", "forno", "aspirapolvere", "caldaia", "condizionatore", "televisore", "decoder", "antenna", "caricabatterie",
	"abbonamento", "fibra", "sim", "bolletta", "contratto", "garanzia", "spedizione", "reso", "rimborso", "coupon",
	"printer", "laptop", "headphones", "keyboard", "charger", "subscription", "warranty", "shipment", "refund", "voucher"}

// Contacts get a first name and a surname drawn from common Italian and
// English ones, so that searching by a surname finds the few hundred
// customers who share it, as at a real desk.
var (
	firstNames = []string{"Marco", "Giulia", "Luca", "Sara", "Paolo", "Elena", "Davide", "Chiara", "Francesca", "Alessandro",
		"Matteo", "Martina", "Giorgio", "Valentina", "Roberto", "Anna", "James", "Emily", "Oliver", "Sophie"}
	surnames = []string{"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
		"Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti",
		"Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone",
		"Longo", "Gentile", "Martinelli", "Vitale", "Lombardo", "Serra", "Coppola", "De Santis", "D'Angelo", "Marchetti",
		"Parisi", "Villa", "Conte", "Ferraro", "Ferri", "Fabbri", "Bianco", "Marini", "Grasso", "Valentini",
		"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Wright", "Evans"}
	domains = []string{"gmail.example", "libero.example", "outlook.example", "tim.example", "fastweb.example",
		"bottega-rossi.example", "studio-legale.example", "ferramenta.example", "hotel-miramare.example", "acme.example"}
)

var tagNames = []string{"spedizione", "fatturazione", "account", "app", "bug", "rete", "disdetta", "vip", "escalation", "rimborso"}

// Fill generates opt.Tickets tickets after whatever the database holds.
func Fill(ctx context.Context, st Store, opt Options) error {
	if opt.Tickets <= 0 {
		return fmt.Errorf("--tickets must be positive")
	}
	if opt.Messages <= 0 {
		opt.Messages = 5
	}
	if opt.Teams <= 0 {
		opt.Teams = 10
	}
	if opt.Contacts <= 0 {
		opt.Contacts = max(1000, opt.Tickets/20)
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now().UTC().Truncate(time.Second)
	}
	rng := rand.New(rand.NewPCG(uint64(opt.Seed), 0x6e6e))
	ids := map[string]int64{}
	for _, t := range []string{"teams", "agents", "contacts", "tickets", "messages", "ticket_events", "tags"} {
		n, err := st.MaxID(ctx, t)
		if err != nil {
			return err
		}
		ids[t] = n
	}
	stamp := fmt.Sprintf("%d", ids["tickets"]+1)
	now := opt.Now
	// Teams, one agent per team, contacts, tags.
	var teamIDs, agentIDs []int64
	var rows, members [][]any
	var agentRows [][]any
	for i := 0; i < opt.Teams; i++ {
		ids["teams"]++
		ids["agents"]++
		teamIDs = append(teamIDs, ids["teams"])
		agentIDs = append(agentIDs, ids["agents"])
		rows = append(rows, []any{ids["teams"], fmt.Sprintf("Gen %s team %d", stamp, i+1), 1 + i%2, "[]", "[]", now, now})
		agentRows = append(agentRows, []any{ids["agents"], fmt.Sprintf("gen%s.agent%d@sportello.local", stamp, i+1), fmt.Sprintf("Gen Agent %d", i+1), "agent", "it", "Europe/Rome", "offline", true, "", now, now})
		members = append(members, []any{ids["teams"], ids["agents"]})
	}
	if err := st.Bulk(ctx, "teams", []string{"id", "name", "tier", "languages", "topics", "created_at", "updated_at"}, rows); err != nil {
		return err
	}
	if err := st.Bulk(ctx, "agents", []string{"id", "email", "name", "role", "language", "timezone", "availability", "active", "password_hash", "created_at", "updated_at"}, agentRows); err != nil {
		return err
	}
	if err := st.Bulk(ctx, "team_members", []string{"team_id", "agent_id"}, members); err != nil {
		return err
	}
	var contactIDs []int64
	var cRows, eRows [][]any
	for i := 0; i < opt.Contacts; i++ {
		ids["contacts"]++
		contactIDs = append(contactIDs, ids["contacts"])
		first, last := firstNames[rng.IntN(len(firstNames))], surnames[rng.IntN(len(surnames))]
		lang := "it"
		if rng.IntN(5) == 0 {
			lang = "en"
		}
		cRows = append(cRows, []any{ids["contacts"], first + " " + last, lang, "", now, now})
		eRows = append(eRows, []any{fmt.Sprintf("%s.%s%d.g%s@%s", strings.ToLower(first), strings.ToLower(strings.ReplaceAll(last, " ", "")), ids["contacts"], stamp,
			domains[rng.IntN(len(domains))]), ids["contacts"], 0})
		if len(cRows) == chunk*4 || i == opt.Contacts-1 {
			if err := st.Bulk(ctx, "contacts", []string{"id", "name", "language", "notes", "created_at", "updated_at"}, cRows); err != nil {
				return err
			}
			if err := st.Bulk(ctx, "contact_emails", []string{"email", "contact_id", "position"}, eRows); err != nil {
				return err
			}
			cRows, eRows = cRows[:0], eRows[:0]
		}
	}
	var tagIDs []int64
	rows = rows[:0]
	for _, n := range tagNames {
		ids["tags"]++
		tagIDs = append(tagIDs, ids["tags"])
		rows = append(rows, []any{ids["tags"], n + "-g" + stamp})
	}
	if err := st.Bulk(ctx, "tags", []string{"id", "name"}, rows); err != nil {
		return err
	}

	statuses := []ticket.Status{ticket.StatusClosed, ticket.StatusClosed, ticket.StatusClosed, ticket.StatusClosed, ticket.StatusSolved,
		ticket.StatusSolved, ticket.StatusOpen, ticket.StatusOpen, ticket.StatusPending, ticket.StatusNew, ticket.StatusOnHold}
	span := 365 * 24 * time.Hour
	ticketCols := []string{"id", "subject", "status", "priority", "channel", "requester_id", "team_id", "assignee_id", "language",
		"custom_fields", "reopen_count", "created_at", "updated_at", "first_reply_at", "solved_at", "closed_at"}
	msgCols := []string{"id", "ticket_id", "kind", "author_agent_id", "author_contact_id", "body_text", "body_html", "channel", "meta", "created_at"}
	evCols := []string{"id", "ticket_id", "actor_type", "actor_id", "field", "before", "after", "created_at"}
	var tRows, mRows, evRows, ttRows [][]any
	flush := func() error {
		if err := st.Bulk(ctx, "tickets", ticketCols, tRows); err != nil {
			return err
		}
		if err := st.Bulk(ctx, "messages", msgCols, mRows); err != nil {
			return err
		}
		if err := st.Bulk(ctx, "ticket_events", evCols, evRows); err != nil {
			return err
		}
		if err := st.Bulk(ctx, "ticket_tags", []string{"ticket_id", "tag_id"}, ttRows); err != nil {
			return err
		}
		tRows, mRows, evRows, ttRows = tRows[:0], mRows[:0], evRows[:0], ttRows[:0]
		return nil
	}
	// Tickets are created in time order so that ids and created_at agree.
	base := now.Add(-span)
	stepDur := span / time.Duration(opt.Tickets)
	for i := 0; i < opt.Tickets; i++ {
		ids["tickets"]++
		id := ids["tickets"]
		created := base.Add(time.Duration(i) * stepDur).Truncate(time.Second)
		team := rng.IntN(len(teamIDs))
		st := statuses[rng.IntN(len(statuses))]
		age := now.Sub(created)
		if age < 72*time.Hour && (st == ticket.StatusClosed) {
			st = ticket.StatusOpen
		}
		var assignee any
		if st != ticket.StatusNew {
			assignee = agentIDs[team]
		}
		requester := contactIDs[rng.IntN(len(contactIDs))]
		prio := []int{0, 1, 1, 1, 1, 1, 2, 2, 3}[rng.IntN(9)]
		n := 1 + rng.IntN(2*opt.Messages-1)
		gap := min(age/time.Duration(n+1), 6*time.Hour)
		at := created
		var firstReply any
		for m := 0; m < n; m++ {
			ids["messages"]++
			kind, agentID, contactID := "customer", any(nil), any(requester)
			if m%2 == 1 && st != ticket.StatusNew {
				kind, agentID, contactID = "reply", agentIDs[team], nil
				if firstReply == nil {
					firstReply = at
				}
			}
			text := phrases[rng.IntN(len(phrases))] + " " + phrases[rng.IntN(len(phrases))] + " " + phrases[rng.IntN(len(phrases))]
			if m == 0 {
				text += fmt.Sprintf(" Prodotto: %s, ordine %s-%d.", products[rng.IntN(len(products))], stamp, 1000000+id)
			}
			mRows = append(mRows, []any{ids["messages"], id, kind, agentID, contactID, text, "<p>" + text + "</p>", "email", "{}", at})
			at = at.Add(gap)
		}
		updated := at
		var solvedAt, closedAt any
		if st == ticket.StatusSolved || st == ticket.StatusClosed {
			solvedAt = at
		}
		if st == ticket.StatusClosed {
			closedAt = at
		}
		tRows = append(tRows, []any{id, subjects[rng.IntN(len(subjects))] + fmt.Sprintf(" (%d)", id), string(st), prio, "email", requester,
			teamIDs[team], assignee, "it", "{}", 0, created, updated, firstReply, solvedAt, closedAt})
		ids["ticket_events"]++
		evRows = append(evRows, []any{ids["ticket_events"], id, "system", nil, "created", "", "email", created})
		if st != ticket.StatusNew {
			ids["ticket_events"]++
			evRows = append(evRows, []any{ids["ticket_events"], id, "agent", agentIDs[team], "status", "new", string(st), updated})
		}
		if rng.IntN(3) > 0 {
			ttRows = append(ttRows, []any{id, tagIDs[rng.IntN(len(tagIDs))]})
		}
		if len(tRows) == chunk {
			if err := flush(); err != nil {
				return err
			}
			if opt.Progress != nil {
				opt.Progress(i + 1)
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if opt.Progress != nil {
		opt.Progress(opt.Tickets)
	}
	if err := st.ReindexRange(ctx, ids["tickets"]-int64(opt.Tickets)+1, ids["tickets"], nil); err != nil {
		return err
	}
	if err := st.SyncSequences(ctx, "teams", "agents", "contacts", "tickets", "messages", "ticket_events", "tags"); err != nil {
		return err
	}
	return st.Analyze(ctx)
}
