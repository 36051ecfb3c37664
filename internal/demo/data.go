package demo

import (
	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/ticket"
)

var teamSpecs = []struct {
	name   string
	tier   int
	topics []string
}{
	{"Supporto clienti L1", 1, []string{"ordini", "spedizioni", "account"}},
	{"Tecnico L2", 2, []string{"app", "integrazioni", "rete"}},
	{"Amministrazione", 1, []string{"fatturazione", "rimborsi", "contratti"}},
}

var agentSpecs = []struct {
	name, email, lang string
	role              agent.Role
	team              int
}{
	{"Giulia Rossi", "giulia.rossi@sportello.local", "it", agent.RoleLead, 0},
	{"Marco Bianchi", "marco.bianchi@sportello.local", "it", agent.RoleAgent, 0},
	{"Sara Conti", "sara.conti@sportello.local", "it", agent.RoleAgent, 0},
	{"Tom Baker", "tom.baker@sportello.local", "en", agent.RoleAgent, 0},
	{"Elena Galli", "elena.galli@sportello.local", "it", agent.RoleLead, 1},
	{"Davide Moretti", "davide.moretti@sportello.local", "it", agent.RoleAgent, 1},
	{"Francesca Romano", "francesca.romano@sportello.local", "it", agent.RoleLead, 2},
	{"Luca Ferrari", "luca.ferrari@sportello.local", "en", agent.RoleAgent, 2},
}

var fieldSpecs = []ticket.FieldDef{
	{Key: "prodotto", Label: "Prodotto", Type: ticket.FieldSelect, Options: []string{"Sportello Casa", "Sportello Pro", "App mobile", "Fibra 1000"}, Position: 1},
	{Key: "numero_ordine", Label: "Numero d'ordine", Type: ticket.FieldText, Options: []string{}, Position: 2},
}

var orgSpecs = []struct{ name, domain string }{
	{"Ferramenta Brambilla", "brambilla-ferramenta.it"}, {"Ottica Venturi", "otticaventuri.it"}, {"Studio Legale Greco", "studiogreco.it"},
	{"Pasticceria Marchetti", "marchettidolci.it"}, {"Hotel Bellavista Garda", "bellavistagarda.it"}, {"Autofficina Colombo", "officinacolombo.it"},
	{"Farmacia San Marco", "farmaciasanmarco.it"}, {"Cantina Valpolicella Rizzi", "cantinarizzi.it"}, {"Libreria Il Segnalibro", "ilsegnalibro.it"},
	{"Palestra Energia", "palestraenergia.it"}, {"Agenzia Viaggi Orizzonti", "orizzontiviaggi.it"}, {"Ceramiche Santoro", "ceramichesantoro.it"},
	{"Impresa Edile Fontana", "edilefontana.it"}, {"Gelateria Polo Nord", "gelateriapolonord.it"}, {"Scuola di Lingue Babele", "babelelingue.it"},
	{"Tipografia Lombardi", "tipografialombardi.it"}, {"Clinica Veterinaria Amici", "vetamici.it"}, {"Caseificio Valle Verde", "valleverde-formaggi.it"},
	{"Comune di Borgo Alto", "comune.borgoalto.it"}, {"Cooperativa Il Girasole", "coopgirasole.it"}, {"Bottega del Caffè", "bottegacaffe.it"},
	{"Elettronica Vitale", "vitale-elettronica.it"}, {"Trattoria Da Nonna Pina", "nonnapina.it"}, {"Assicurazioni Serena", "serenassicura.it"},
	{"Birrificio Le Mura", "birrificiolemura.it"}, {"Studio Dentistico Mancini", "studiomancini.it"}, {"Northwind Traders", "northwind.example.com"},
	{"Blue Harbour Logistics", "blueharbour.co.uk"}, {"Greenleaf Organics", "greenleaf-organics.com"}, {"Maple & Oak Furniture", "mapleoak.co.uk"},
	{"Brightside Dental", "brightsidedental.com"}, {"Kestrel Software", "kestrelsoft.io"}, {"Harbourview Hotel", "harbourviewhotel.ie"},
	{"Atlas Fitness", "atlasfitness.com"}, {"Riverbank Books", "riverbankbooks.co.uk"}, {"Summit Outdoor Gear", "summitgear.com"},
	{"Lighthouse Consulting", "lighthouse-consulting.eu"}, {"Pinecrest Veterinary", "pinecrestvet.com"}, {"Copperfield Print", "copperfieldprint.co.uk"},
	{"Silverline Travel", "silverlinetravel.com"},
}

var italianFirst = []string{"Alessandro", "Chiara", "Matteo", "Federica", "Lorenzo", "Martina", "Andrea", "Valentina", "Stefano", "Silvia",
	"Paolo", "Laura", "Riccardo", "Elisa", "Giorgio", "Anna", "Fabio", "Roberta", "Simone", "Claudia", "Nicola", "Ilaria", "Antonio", "Beatrice",
	"Gianluca", "Alessia", "Emanuele", "Serena", "Tommaso", "Giada"}

var italianLast = []string{"Esposito", "Ricci", "Marino", "Greco", "Bruno", "Gallo", "Costa", "Giordano", "Mancini", "Rizzo", "Lombardi",
	"Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Villa", "Serra", "Conte", "De Luca", "D'Angelo", "Pellegrini",
	"Palumbo", "Sanna", "Farina", "Leone", "Martini", "Vitale"}

var englishFirst = []string{"James", "Olivia", "Harry", "Emily", "George", "Sophie", "Jack", "Charlotte", "Oliver", "Amelia", "Thomas",
	"Grace", "William", "Chloe", "Daniel", "Hannah", "Samuel", "Lucy", "Benjamin", "Ella"}

var englishLast = []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans", "Walker", "Wright",
	"Thompson", "White", "Hughes", "Edwards", "Green", "Hall", "Wood", "Harris", "Clarke"}

var freeMail = []string{"gmail.com", "libero.it", "outlook.com", "yahoo.it", "hotmail.com", "tiscali.it"}

// thread is the text of one scenario in one language. Replies follow the
// code of conduct our users work by: greet by name, thank, say what happens
// next and by when, check understanding.
type thread struct {
	subject, body, reply, note, followUp, close, reopen string
}

type scenario struct {
	team     int
	priority ticket.Priority
	tags     []string
	product  string
	escalate bool
	it, en   thread
}

var scenarios = []scenario{
	{team: 0, priority: ticket.PriorityNormal, tags: []string{"spedizione", "ritardo"}, product: "Sportello Casa",
		it: thread{
			subject:  "Ordine {order} non ancora arrivato",
			body:     "Buongiorno,\nho effettuato l'ordine {order} dieci giorni fa e il tracking è fermo da quattro giorni su \"in transito\". Potete verificare?\n\nGrazie",
			reply:    "Buongiorno {name},\ngrazie per averci scritto e mi scusi per l'attesa. Ho aperto una verifica con il corriere per il suo ordine: le darò un aggiornamento entro domani alle 12.\n\nLe è chiaro il prossimo passo? Resto a disposizione.\n{agent}",
			note:     "Corriere contattato, pratica giacenza aperta.",
			followUp: "Grazie, resto in attesa. Il pacco risulta ancora fermo.",
			close:    "Buongiorno {name},\nil corriere conferma la consegna per domani in mattinata. Chiudo la richiesta #{n}: se il pacco non arriva, basta rispondere a questa mail e la riapriamo subito.\n\nBuona giornata,\n{agent}",
			reopen:   "Purtroppo il pacco non è arrivato neanche oggi.",
		},
		en: thread{
			subject:  "Order {order} still hasn't arrived",
			body:     "Hello,\nI placed order {order} ten days ago and tracking has been stuck on \"in transit\" for four days. Could you look into it?\n\nThanks",
			reply:    "Hi {name},\nthank you for getting in touch, and sorry for the wait. I've opened a trace with the courier for your order and will update you by tomorrow 12:00.\n\nDoes that make sense? I'm here if you need anything.\n{agent}",
			note:     "Courier contacted, trace opened.",
			followUp: "Thanks, waiting to hear back. The parcel still shows as stuck.",
			close:    "Hi {name},\nthe courier confirms delivery tomorrow morning. I'm marking request #{n} as solved: if the parcel doesn't arrive, just reply to this email and we'll pick it up straight away.\n\nHave a good day,\n{agent}",
			reopen:   "Unfortunately the parcel didn't arrive today either.",
		}},
	{team: 0, priority: ticket.PriorityNormal, tags: []string{"account", "password"},
		it: thread{
			subject:  "Non riesco ad accedere al mio account",
			body:     "Salve, da stamattina il sito mi dice che la password non è corretta, ma non l'ho cambiata. Ho provato il recupero ma la mail non arriva.",
			reply:    "Gentile {name},\ngrazie per la segnalazione. Ho reinviato il link di recupero al suo indirizzo: controlli anche la cartella spam. Il link vale 24 ore.\n\nMi fa sapere se riesce ad accedere?\n{agent}",
			note:     "Verificato: mail di recupero bloccata dal filtro del provider.",
			followUp: "Ho trovato la mail nello spam, ma il link risulta scaduto.",
			close:    "Gentile {name},\nle ho inviato un nuovo link valido da subito. Considero risolta la richiesta #{n}; se qualcosa non va, risponda pure qui.\n\nGrazie della pazienza,\n{agent}",
			reopen:   "Il nuovo link funziona ma dopo l'accesso mi chiede di nuovo la password.",
		},
		en: thread{
			subject:  "Can't log in to my account",
			body:     "Hi, since this morning the site says my password is wrong, but I haven't changed it. I tried the reset but the email never arrives.",
			reply:    "Hi {name},\nthanks for letting us know. I've re-sent the reset link to your address; please check the spam folder too. The link is valid for 24 hours.\n\nCould you tell me whether you can sign in?\n{agent}",
			note:     "Checked: reset mail blocked by the recipient's provider filter.",
			followUp: "Found it in spam, but the link says it has expired.",
			close:    "Hi {name},\nI've sent a fresh link that works right away. I'm marking request #{n} as solved; if anything is off, just reply here.\n\nThanks for your patience,\n{agent}",
			reopen:   "The new link works but after signing in it asks for the password again.",
		}},
	{team: 2, priority: ticket.PriorityHigh, tags: []string{"fatturazione", "doppio-addebito"},
		it: thread{
			subject:  "Addebito doppio sulla carta",
			body:     "Buongiorno, vedo due addebiti identici per l'abbonamento di questo mese. Vi chiedo il rimborso di quello in eccesso.",
			reply:    "Buongiorno {name},\ngrazie per la segnalazione e mi scusi per il disagio. Ho verificato: il secondo addebito è un errore nostro. Ho già disposto il rimborso, che vedrà sulla carta entro 5 giorni lavorativi.\n\nLe torna tutto?\n{agent}",
			note:     "Doppio addebito confermato dal gateway; rimborso avviato.",
			followUp: "Grazie. Mi servirebbe anche la nota di credito per la contabilità.",
			close:    "Buongiorno {name},\nin allegato alla sua area clienti trova la nota di credito. Chiudo la pratica #{n}; per qualsiasi dubbio risponda pure a questa mail.\n\nCordiali saluti,\n{agent}",
			reopen:   "Il rimborso non è ancora arrivato sulla carta.",
		},
		en: thread{
			subject:  "Charged twice on my card",
			body:     "Hello, I can see two identical charges for this month's subscription. Please refund the extra one.",
			reply:    "Hello {name},\nthank you for flagging this, and I'm sorry for the trouble. I've checked: the second charge was our mistake. The refund is already on its way and will show on your card within 5 working days.\n\nDoes that all look right to you?\n{agent}",
			note:     "Double charge confirmed by the gateway; refund issued.",
			followUp: "Thanks. I'd also need a credit note for my accounts.",
			close:    "Hello {name},\nthe credit note is now in your customer area. I'm closing request #{n}; if anything is unclear, just reply to this email.\n\nKind regards,\n{agent}",
			reopen:   "The refund still hasn't reached my card.",
		}},
	{team: 1, priority: ticket.PriorityUrgent, tags: []string{"disservizio", "fibra"}, product: "Fibra 1000", escalate: true,
		it: thread{
			subject:  "Connessione assente in tutto l'ufficio",
			body:     "URGENTE: da un'ora nessun computer dell'ufficio naviga. Il modem ha la spia rossa fissa. Siamo fermi con i clienti.",
			reply:    "Buongiorno {name},\ncapisco bene l'urgenza e grazie per le informazioni precise. C'è un guasto sulla centrale della sua zona: i tecnici sono già al lavoro e stimano il ripristino entro le 16. La aggiorno io appena ho notizie.\n\n{agent}",
			note:     "Guasto di centrale: passo al secondo livello per il monitoraggio. Cliente business, priorità massima.",
			followUp: "Sono le 16 e siamo ancora senza linea. Ci sono novità?",
			close:    "Buongiorno {name},\nla linea è stata ripristinata alle 16:40; ho verificato da remoto che il suo modem è di nuovo connesso. Mi scuso ancora per il disservizio. Chiudo la segnalazione #{n}: se nota altri problemi, mi risponda e la riapriamo.\n\n{agent}",
			reopen:   "La linea è caduta di nuovo dieci minuti fa.",
		},
		en: thread{
			subject:  "Whole office is offline",
			body:     "URGENT: for an hour no computer in the office can get online. The router shows a solid red light. We can't serve our customers.",
			reply:    "Hello {name},\nI understand how urgent this is, and thanks for the clear details. There is a fault at the exchange serving your area: engineers are on it and expect service back by 16:00. I'll update you myself as soon as I hear more.\n\n{agent}",
			note:     "Exchange fault: escalating to L2 for monitoring. Business customer, top priority.",
			followUp: "It's 16:00 and we're still offline. Any news?",
			close:    "Hello {name},\nservice was restored at 16:40 and I've checked remotely that your router is back online. Sorry again for the disruption. I'm closing report #{n}; if you notice anything else, reply and we'll reopen it.\n\n{agent}",
			reopen:   "The line dropped again ten minutes ago.",
		}},
	{team: 1, priority: ticket.PriorityHigh, tags: []string{"app", "bug"}, product: "App mobile", escalate: true,
		it: thread{
			subject:  "L'app si chiude all'avvio dopo l'aggiornamento",
			body:     "Dopo l'ultimo aggiornamento l'app si chiude appena la apro. Ho un Android 14. Ho già provato a reinstallarla.",
			reply:    "Ciao {name},\ngrazie per averci scritto e per aver già provato a reinstallare. Il problema è noto su alcuni dispositivi Android 14 e il nostro team tecnico sta preparando una correzione, prevista entro venerdì. Nel frattempo può usare il sito dal browser.\n\nTi torna?\n{agent}",
			note:     "Crash riprodotto su Android 14 con dispositivo di test: passo a L2 con i log.",
			followUp: "Ok, grazie. Mi avvisate quando esce l'aggiornamento?",
			close:    "Ciao {name},\nla versione corretta è disponibile nello store da oggi. Considero risolta la richiesta #{n}: se l'app dovesse ancora chiudersi, rispondi pure qui.\n\nA presto,\n{agent}",
			reopen:   "Ho aggiornato ma continua a chiudersi.",
		},
		en: thread{
			subject:  "App crashes on start after the update",
			body:     "Since the last update the app closes as soon as I open it. I'm on Android 14 and I've already reinstalled it.",
			reply:    "Hi {name},\nthanks for writing in and for already trying a reinstall. This is a known issue on some Android 14 devices and our technical team is preparing a fix, due by Friday. Meanwhile you can use the website in your browser.\n\nDoes that work for you?\n{agent}",
			note:     "Crash reproduced on an Android 14 test device: escalating to L2 with logs.",
			followUp: "OK, thanks. Will you let me know when the update is out?",
			close:    "Hi {name},\nthe fixed version is in the store from today. I'm marking request #{n} as solved; if the app still closes, just reply here.\n\nBest,\n{agent}",
			reopen:   "I updated but it still crashes.",
		}},
	{team: 2, priority: ticket.PriorityNormal, tags: []string{"disdetta", "contratto"},
		it: thread{
			subject:  "Richiesta di disdetta del contratto",
			body:     "Buongiorno, vorrei disdire il contratto perché il prezzo è aumentato troppo rispetto all'anno scorso.",
			reply:    "Buongiorno {name},\ngrazie per averci scritto e per essere stato nostro cliente. Prima di procedere, posso proporle il piano Essenziale, che costa il 20% in meno e mantiene le funzioni che usa di più. Se preferisce comunque la disdetta, la registro entro 2 giorni lavorativi.\n\nMi fa sapere come preferisce procedere?\n{agent}",
			note:     "Intento di disdetta: proposta offerta di fidelizzazione.",
			followUp: "Il piano Essenziale mi interessa, come faccio ad attivarlo?",
			close:    "Buongiorno {name},\nho attivato il piano Essenziale dal prossimo mese: riceverà la conferma via mail. Chiudo la richiesta #{n}; per qualunque cosa rispondo io.\n\nGrazie per la fiducia,\n{agent}",
			reopen:   "Nella fattura di questo mese vedo ancora il prezzo vecchio.",
		},
		en: thread{
			subject:  "I'd like to cancel my contract",
			body:     "Hello, I want to cancel my contract because the price went up too much compared to last year.",
			reply:    "Hello {name},\nthank you for writing and for being with us. Before I go ahead, may I suggest the Essential plan: it costs 20% less and keeps the features you use most. If you'd still rather cancel, I'll process it within 2 working days.\n\nHow would you like to proceed?\n{agent}",
			note:     "Cancellation intent: retention offer made.",
			followUp: "The Essential plan sounds good, how do I switch?",
			close:    "Hello {name},\nI've switched you to the Essential plan from next month; you'll get a confirmation email. I'm closing request #{n}; reply any time and I'll pick it up.\n\nThanks for staying with us,\n{agent}",
			reopen:   "This month's invoice still shows the old price.",
		}},
	{team: 0, priority: ticket.PriorityLow, tags: []string{"informazioni", "prodotto"}, product: "Sportello Pro",
		it: thread{
			subject:  "Informazioni sul piano Pro",
			body:     "Ciao, vorrei sapere se il piano Pro include più utenti e se posso provarlo prima di acquistarlo.",
			reply:    "Ciao {name},\ngrazie dell'interesse! Il piano Pro include fino a 10 utenti e può provarlo gratis per 30 giorni dalla sua area clienti, senza impegno. Le ho inviato la scheda completa.\n\nHa altre domande?\n{agent}",
			note:     "Lead commerciale: segnalato al reparto vendite.",
			followUp: "Perfetto, e per più di 10 utenti?",
			close:    "Ciao {name},\noltre i 10 utenti c'è il piano Business con prezzo a utente: le ho mandato il listino. Chiudo la richiesta #{n}, ma sono qui se serve.\n\nBuona giornata,\n{agent}",
			reopen:   "Scusate, il listino non mi è arrivato.",
		},
		en: thread{
			subject:  "Questions about the Pro plan",
			body:     "Hi, does the Pro plan include more users, and can I try it before buying?",
			reply:    "Hi {name},\nthanks for your interest! The Pro plan includes up to 10 users and you can try it free for 30 days from your customer area, no strings attached. I've sent you the full details.\n\nAnything else I can help with?\n{agent}",
			note:     "Sales lead: passed to the sales team.",
			followUp: "Great, and what about more than 10 users?",
			close:    "Hi {name},\nabove 10 users there's the Business plan, priced per user: I've sent you the price list. I'm closing request #{n}, but I'm here if you need me.\n\nHave a good day,\n{agent}",
			reopen:   "Sorry, the price list never reached me.",
		}},
	{team: 2, priority: ticket.PriorityNormal, tags: []string{"fattura", "dati-fiscali"},
		it: thread{
			subject:  "Correzione dati in fattura",
			body:     "Buongiorno, nella fattura di marzo la partita IVA è sbagliata. Potete riemetterla con i dati corretti?",
			reply:    "Buongiorno {name},\ngrazie per la segnalazione. Mi conferma la partita IVA corretta e il codice destinatario SDI? Appena li ricevo riemetto la fattura entro un giorno lavorativo.\n\nGrazie,\n{agent}",
			note:     "Serve nota di credito e riemissione: verificare codice SDI.",
			followUp: "P.IVA 01234567890, codice SDI M5UXCR1. Grazie.",
			close:    "Buongiorno {name},\nho emesso la nota di credito e la nuova fattura con i dati corretti; le trova nell'area clienti e sul cassetto fiscale. Chiudo la pratica #{n}.\n\nCordiali saluti,\n{agent}",
			reopen:   "La nuova fattura riporta ancora l'indirizzo vecchio.",
		},
		en: thread{
			subject:  "Wrong VAT number on invoice",
			body:     "Hello, the VAT number on the March invoice is wrong. Could you reissue it with the right details?",
			reply:    "Hello {name},\nthanks for pointing this out. Could you confirm the correct VAT number and billing address? As soon as I have them I'll reissue the invoice within one working day.\n\nThank you,\n{agent}",
			note:     "Credit note and reissue needed.",
			followUp: "VAT GB123456789, address 12 Harbour Road, Bristol. Thanks.",
			close:    "Hello {name},\nI've issued the credit note and the corrected invoice; both are in your customer area. I'm closing request #{n}.\n\nKind regards,\n{agent}",
			reopen:   "The new invoice still has the old address.",
		}},
}
