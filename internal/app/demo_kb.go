package app

import (
	"context"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/csat"
	"github.com/sportello/sportello/internal/kb"
	"github.com/sportello/sportello/internal/store"
	"github.com/sportello/sportello/internal/ticket"
)

// demoArticle is one of the demo desk's common cases, in both languages.
type demoArticle struct {
	cat              int // index into demoCategories
	itTitle, itBody  string
	enTitle, enBody  string
	internal, itOnly bool
}

var demoCategories = [][2]string{{"Ordini e spedizioni", "Orders and shipping"}, {"Fatture e pagamenti", "Invoices and payments"}, {"Account e accesso", "Account and sign-in"}}

// The help centre of the demo desk: the most common cases of a shop's
// support team, as the guides advise starting it.
var demoArticles = []demoArticle{
	{0, "Dove si trova il mio ordine?", "Dopo la spedizione riceve un'email con il **numero di tracking**.\n\n1. Apra il link del corriere nell'email.\n2. Se il tracking è fermo da più di tre giorni lavorativi, ci scriva indicando il numero d'ordine.\n\nDi solito la consegna avviene in 2–4 giorni lavorativi.",
		"Where is my order?", "Once shipped, you receive an email with the **tracking number**.\n\n1. Open the courier's link in the email.\n2. If tracking has not moved for more than three working days, write to us with your order number.\n\nDelivery usually takes 2–4 working days.", false, false},
	{0, "Come restituire un prodotto", "Ha **30 giorni** dalla consegna per il reso.\n\n- Compili il modulo di reso dal suo account.\n- Stampi l'etichetta e la applichi al pacco.\n- Il rimborso parte entro 5 giorni dall'arrivo del reso.",
		"How to return a product", "You have **30 days** from delivery to return an item.\n\n- Fill in the return form from your account.\n- Print the label and stick it on the parcel.\n- The refund starts within 5 days of the return arriving.", false, false},
	{1, "Mi avete addebitato due volte", "Un doppio addebito di solito è una **preautorizzazione** che la banca annulla in 3–5 giorni lavorativi.\n\nSe dopo 5 giorni vede ancora due addebiti, ci scriva allegando l'estratto conto: storniamo subito quello in più.",
		"I was charged twice", "A double charge is usually a **pre-authorisation** your bank cancels within 3–5 working days.\n\nIf after 5 days you still see two charges, write to us with your statement attached: we refund the extra one at once.", false, false},
	{1, "Come scaricare la fattura", "Le fatture sono nel suo account, alla voce **Ordini → Fatture**. Per una fattura intestata a un'azienda, inserisca la partita IVA prima di completare l'ordine.",
		"How to download your invoice", "Invoices are in your account under **Orders → Invoices**. For an invoice to a company, enter the VAT number before completing the order.", false, false},
	{2, "Ho dimenticato la password", "Nella pagina di accesso scelga **Password dimenticata?**, inserisca la sua email e segua il link che riceve (vale 30 minuti). Non arriva? Controlli la cartella spam.",
		"I forgot my password", "On the sign-in page choose **Forgot your password?**, enter your email and follow the link you receive (it works for 30 minutes). Nothing arrived? Check your spam folder.", false, false},
	{2, "Procedura interna: verifica dell'identità", "Prima di cambiare l'email di un account chieda **due** dati tra: numero d'ordine, ultime 4 cifre della carta, indirizzo di consegna. Mai via chat pubblica.",
		"", "", true, true},
}

// demoKB fills the demo desk's help centre: categories and articles in
// Italian and English, published, and one internal procedure.
func (d *Desk) demoKB(ctx context.Context, now time.Time) error {
	var catIDs []int64
	for i, names := range demoCategories {
		c := &kb.Category{Position: i, UpdatedAt: now, Names: map[string]kb.CategoryName{"it": {Name: names[0]}, "en": {Name: names[1]}}}
		if err := d.Store.SaveCategory(ctx, c); err != nil {
			return fmt.Errorf("demo category: %w", err)
		}
		catIDs = append(catIDs, c.ID)
	}
	for i, x := range demoArticles {
		a := &kb.Article{CategoryID: &catIDs[x.cat], Internal: x.internal, Position: i}
		texts := []kb.Text{{Lang: "it", Title: x.itTitle, Body: x.itBody, State: kb.Published}}
		if !x.itOnly {
			texts = append(texts, kb.Text{Lang: "en", Title: x.enTitle, Body: x.enBody, State: kb.Published})
		}
		for _, t := range texts {
			if err := t.Validate(); err != nil {
				return err
			}
			if err := d.Store.SaveArticle(ctx, a, &t, now); err != nil {
				return fmt.Errorf("demo article: %w", err)
			}
		}
	}
	return nil
}

// demoRatings gives the demo desk's solved tickets a few satisfaction
// ratings, so that the CSAT report and the tickets show some.
func (d *Desk) demoRatings(ctx context.Context) error {
	ts, err := d.Tickets.List(ctx, ticket.System, ticket.Filter{Statuses: []ticket.Status{ticket.StatusSolved, ticket.StatusClosed}, Sort: "-updated", Limit: 14})
	if err != nil {
		return err
	}
	scores := []int{5, 4, 5, 3, 5, 4, 2, 5, 4, 5, 1, 4}
	comments := []string{"Gentilissimi e veloci.", "", "Risolto al primo colpo, grazie!", "Ci è voluto un po', ma alla fine ok.", "", "Very helpful, thank you.", "Ho dovuto scrivere tre volte.", "", "", "Great service.", "Nessuno mi ha richiamato.", ""}
	for i, t := range ts {
		if i == len(scores) || t.SolvedAt == nil {
			break
		}
		res := t.SolvedAt.Unix()
		at := t.SolvedAt.Add(2 * time.Hour)
		if err := d.Store.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.InsertSurvey(ctx, t.ID, res, t.RequesterID, t.SolvedAt.Add(time.Hour))
			return err
		}); err != nil {
			return err
		}
		if i%6 == 5 {
			continue // a survey nobody answered: the response rate is not 100 %
		}
		if _, err := d.Store.RateTicket(ctx, &csat.Rating{TicketID: t.ID, Resolution: res, ContactID: t.RequesterID, Rating: scores[i], Comment: comments[i], CreatedAt: at}); err != nil {
			return err
		}
	}
	return nil
}
