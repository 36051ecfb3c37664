package ticket

import (
	"context"
	"errors"
	"time"

	"github.com/sportello/sportello/internal/fault"
)

// SolvedStore finds tickets waiting to be closed.
type SolvedStore interface {
	SolvedBefore(ctx context.Context, before time.Time, limit int) ([]int64, error)
}

// CloseSolved closes tickets solved more than after ago that the customer
// has not answered since (a customer message would have reopened them),
// as DOMAIN.md §2 asks (default four days). It is safe to run on several
// nodes at once and after a crash: all its state is the tickets' own status.
func (s *Service) CloseSolved(ctx context.Context, st SolvedStore, after time.Duration, limit int) (int, error) {
	ids, err := st.SolvedBefore(ctx, s.clock().Add(-after), limit)
	if err != nil {
		return 0, err
	}
	closed := StatusClosed
	n := 0
	for _, id := range ids {
		_, err := s.Update(ctx, System, id, Patch{Status: &closed})
		switch {
		case err == nil:
			n++
		case errors.Is(err, ErrClosed), errors.Is(err, ErrNotFound):
			// Another node closed it first, or it was merged meanwhile.
		case errors.Is(err, fault.Invalid):
			// Reopened between the query and the update: open → closed
			// is refused, and the ticket stays with the agents.
		default:
			return n, err
		}
	}
	return n, nil
}
