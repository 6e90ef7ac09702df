package wxdb

import (
	"context"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// PendingMatrixQuery holds the Matrix messages taken from the homeserver and not yet
// handled (bridge/pendingmatrix.go says why).
type PendingMatrixQuery struct {
	db *dbutil.Database
}

// Add writes events down, once each.
func (s *PendingMatrixQuery) Add(ctx context.Context, evts []PendingEvent) error {
	if len(evts) == 0 {
		return nil
	}
	return s.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		for _, e := range evts {
			if _, err := s.db.Exec(ctx, `INSERT INTO wechat_pending_matrix (event_id, room_id, received_at) VALUES ($1, $2, $3)
				ON CONFLICT (event_id) DO NOTHING`, e.ID, e.Room, time.Now().UnixMilli()); err != nil {
				return err
			}
		}
		return nil
	})
}

// Done crosses off a handled event; a failure is logged (the event is then handled again
// after a restart, and dropped there as already sent).
func (s *PendingMatrixQuery) Done(ctx context.Context, evt id.EventID) {
	if _, err := s.db.Exec(ctx, "DELETE FROM wechat_pending_matrix WHERE event_id=$1", evt); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Stringer("event_id", evt).Msg("Could not cross off a handled Matrix message")
	}
}

// Prune forgets leftovers older than age, which no restart would send any more.
func (s *PendingMatrixQuery) Prune(ctx context.Context, age time.Duration) error {
	_, err := s.db.Exec(ctx, "DELETE FROM wechat_pending_matrix WHERE received_at < $1", time.Now().Add(-age).UnixMilli())
	return err
}

// All is every leftover, oldest first.
func (s *PendingMatrixQuery) All(ctx context.Context) ([]PendingEvent, error) {
	rows, err := s.db.Query(ctx, "SELECT event_id, room_id, received_at FROM wechat_pending_matrix ORDER BY received_at")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PendingEvent
	for rows.Next() {
		var e PendingEvent
		var at int64
		if err := rows.Scan(&e.ID, &e.Room, &at); err != nil {
			return nil, err
		}
		e.Received = time.UnixMilli(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// PendingEvent is a Matrix message written down before it was handled.
type PendingEvent struct {
	ID       id.EventID
	Room     id.RoomID
	Received time.Time
}
