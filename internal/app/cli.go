package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/sportello/sportello/internal/agent"
	"github.com/sportello/sportello/internal/auth"
	"github.com/sportello/sportello/internal/config"
	"github.com/sportello/sportello/internal/store"
)

// openStore parses the common flags plus extra ones, opens and migrates.
func openStore(ctx context.Context, name string, args []string, getenv func(string) string, stdio IO, extra func(*flag.FlagSet)) (*store.Store, config.Config, *flag.FlagSet, error) {
	cfg := config.Defaults()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	cfg.FlagSet(fs, getenv)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, cfg, fs, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, cfg, fs, err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, cfg, fs, err
	}
	return st, cfg, fs, nil
}

func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdio IO) error {
	sub := "up"
	if len(args) > 0 && (args[0] == "up" || args[0] == "status") {
		sub, args = args[0], args[1:]
	}
	st, _, _, err := openStore(ctx, "sportello migrate "+sub, args, getenv, stdio, nil)
	if err != nil {
		return quietHelp(err)
	}
	defer st.Close()
	if sub == "up" {
		applied, err := st.Migrate(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdio.Out, "%s: applied %d migration(s) %v\n", st.Where, len(applied), applied)
		return nil
	}
	states, err := st.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	for _, m := range states {
		state := "pending"
		if m.AppliedAt != nil {
			state = "applied " + m.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(stdio.Out, "%05d  %-40s %s\n", m.Version, m.Name, state)
	}
	return nil
}

func quietHelp(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func userCmd(ctx context.Context, args []string, getenv func(string) string, stdio IO) error {
	if len(args) == 0 || (args[0] != "add" && args[0] != "passwd") {
		return errors.New("usage: sportello user add|passwd --email E [--name N --role admin|lead|agent]")
	}
	sub := args[0]
	var email, name, role, lang, tz string
	st, _, _, err := openStore(ctx, "sportello user "+sub, args[1:], getenv, stdio, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the agent's email (required)")
		if sub == "add" {
			fs.StringVar(&name, "name", "", "the agent's name (required)")
			fs.StringVar(&role, "role", "agent", "admin, lead or agent")
			fs.StringVar(&lang, "language", "it", "workspace language: it or en")
			fs.StringVar(&tz, "timezone", "Europe/Rome", "IANA time zone")
		}
	})
	if err != nil {
		return quietHelp(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	pw, err := readSecret(stdio.In)
	if err != nil {
		return fmt.Errorf("reading the password from stdin: %w", err)
	}
	generated := pw == ""
	if generated {
		pw = auth.RandomSecret(12)
	} else if err := auth.CheckNewPassword("password", pw, email, name); err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if sub == "add" {
		a := &agent.Agent{Email: email, Name: name, Role: agent.Role(role), Language: lang, Timezone: tz,
			Availability: agent.Offline, Active: true, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
		if err := a.Validate(); err != nil {
			return err
		}
		if err := st.CreateAgent(ctx, a); err != nil {
			return err
		}
		fmt.Fprintf(stdio.Out, "added %s %s <%s> (id %d)\n", a.Role, a.Name, a.Email, a.ID)
	} else {
		a, err := st.AgentByEmail(ctx, email)
		if err != nil {
			return fmt.Errorf("--email %q: %w", email, err)
		}
		if err := st.SetPassword(ctx, a.ID, hash, now, ""); err != nil {
			return err
		}
		fmt.Fprintf(stdio.Out, "password changed for %s; their sessions have ended\n", a.Email)
	}
	if generated {
		fmt.Fprintf(stdio.Out, "password: %s\n(shown only now)\n", pw)
	}
	return nil
}

func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdio IO) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("usage: sportello token add --email E --name N")
	}
	var email, name string
	st, _, _, err := openStore(ctx, "sportello token add", args[1:], getenv, stdio, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "the agent the token acts as (required)")
		fs.StringVar(&name, "name", "", "what the token is for, e.g. \"CRM integration\" (required)")
	})
	if err != nil {
		return quietHelp(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	a, err := st.AgentByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("--email %q: %w", email, err)
	}
	if !a.Active {
		return fmt.Errorf("--email %q: the agent is deactivated", email)
	}
	svc := auth.NewService(st, time.Now, auth.Config{})
	secret, _, err := svc.NewToken(ctx, a.ID, name)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdio.Out, secret)
	return nil
}
