package wxsim

import "net/http"

// What the client did, as wxsim saw it: sent messages, revokes, read marks, accepted friend requests.

func (s *Server) ctlSent(r *http.Request) (int, any, error) {
	return s.onAccount(r, func(a *account) (int, any, error) {
		out := make([]SentMessage, len(a.sent))
		for i, rec := range a.sent {
			out[i] = *rec
		}
		return http.StatusOK, out, nil
	})
}

func (s *Server) ctlRevoked(r *http.Request) (int, any, error) {
	return s.onAccount(r, func(a *account) (int, any, error) {
		return http.StatusOK, append([]RevokeRecord{}, a.revoked...), nil
	})
}

func (s *Server) ctlMarkedRead(r *http.Request) (int, any, error) {
	return s.onAccount(r, func(a *account) (int, any, error) {
		return http.StatusOK, append([]MarkRead{}, a.markedRead...), nil
	})
}

func (s *Server) ctlFriendRequests(r *http.Request) (int, any, error) {
	return s.onAccount(r, func(a *account) (int, any, error) {
		out := make([]FriendRequest, len(a.friendReqs))
		for i, f := range a.friendReqs {
			out[i] = *f
		}
		return http.StatusOK, out, nil
	})
}
