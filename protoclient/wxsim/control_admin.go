package wxsim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// Faults, settings and request counts.

func (s *Server) ctlAddFault(r *http.Request) (int, any, error) {
	var f Fault
	if err := decode(r, &f); err != nil {
		return 0, nil, err
	}
	f.ID, f.Applied = "", 0
	if err := f.validate(); err != nil {
		return 0, nil, badRequest{err.Error()}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultSeq++
	f.ID = "f" + strconv.Itoa(s.faultSeq)
	s.faults = append(s.faults, &f)
	s.log.Info().Str("id", f.ID).Str("endpoint", f.Endpoint).Str("kind", f.Kind).Str("account", f.Account).Msg("fault added")
	return http.StatusCreated, map[string]string{"id": f.ID}, nil
}

func (s *Server) ctlListFaults(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Fault, len(s.faults))
	for i, f := range s.faults {
		out[i] = *f
	}
	return http.StatusOK, out, nil
}

func (s *Server) ctlDeleteFault(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.ID == r.PathValue("id") {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			return http.StatusOK, ok, nil
		}
	}
	return 0, nil, notFound{"no fault " + r.PathValue("id")}
}

func (s *Server) ctlClearFaults(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
	return http.StatusOK, ok, nil
}

func (s *Server) ctlPatchSettings(r *http.Request) (int, any, error) {
	var patch json.RawMessage
	if err := decode(r, &patch); err != nil {
		return 0, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.settings
	if len(patch) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(patch)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&next); err != nil {
			return 0, nil, badRequest{"bad settings: " + err.Error()}
		}
	}
	if err := next.validate(); err != nil {
		return 0, nil, badRequest{err.Error()}
	}
	s.settings = next
	// Holds in progress re-read their limits only when woken; settings do not wake them.
	return http.StatusOK, s.settings, nil
}

func (s *Server) ctlGetSettings(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return http.StatusOK, s.settings, nil
}

// Stats is the answer of GET /stats.
type Stats struct {
	Requests map[string]int64 `json:"requests"`
}

func (s *Server) ctlStats(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{Requests: map[string]int64{}}
	for k, v := range s.stats {
		out.Requests[k] = v
	}
	return http.StatusOK, out, nil
}

func (s *Server) ctlResetStats(r *http.Request) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = map[string]int64{}
	return http.StatusOK, ok, nil
}
