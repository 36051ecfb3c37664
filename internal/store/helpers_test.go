package store_test

import (
	"time"

	"github.com/sportello/sportello/internal/team"
)

func teamOf(name string, members []int64) *team.Team {
	now := time.Now()
	return &team.Team{Name: name, Tier: 1, MemberIDs: members, CreatedAt: now, UpdatedAt: now}
}
