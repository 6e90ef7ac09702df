package wxsim

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// The world: messages to and from the account, revokes, friend requests, raw sync entries.

func (s *Server) ctlIncoming(r *http.Request) (int, any, error) {
	return s.worldMessage(r, (*Server).incoming)
}

func (s *Server) ctlFromPhone(r *http.Request) (int, any, error) {
	return s.worldMessage(r, (*Server).fromPhone)
}

func (s *Server) worldMessage(r *http.Request, fn func(*Server, *account, *WorldMessage) (*msgEvent, error)) (int, any, error) {
	var in WorldMessage
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if len(in.Raw) > 0 && string(in.Raw) != "null" {
		if _, isObj := decodeObject(in.Raw); !isObj {
			return 0, nil, badRequest{"raw must be a JSON object"}
		}
	}
	return s.onAccount(r, func(a *account) (int, any, error) {
		m, err := fn(s, a, &in)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, map[string]string{"msg_id": m.id, "new_msg_id": strconv.FormatInt(m.newID, 10)}, nil
	})
}

func (s *Server) ctlRevoke(r *http.Request) (int, any, error) {
	var in struct {
		MsgID string `json:"msg_id"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	return s.onAccount(r, func(a *account) (int, any, error) {
		if err := s.revokeByWorld(a, in.MsgID); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, ok, nil
	})
}

func (s *Server) ctlFriendRequest(r *http.Request) (int, any, error) {
	var in struct {
		From     string `json:"from"`
		Nickname string `json:"nickname"`
		Content  string `json:"content"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.From == "" {
		return 0, nil, badRequest{"from is required"}
	}
	return s.onAccount(r, func(a *account) (int, any, error) {
		fr := s.friendRequestByWorld(a, in.From, in.Nickname, in.Content)
		return http.StatusCreated, map[string]string{"msg_id": fr.MsgID, "ticket": fr.Ticket}, nil
	})
}

func (s *Server) ctlSyncRaw(r *http.Request) (int, any, error) {
	var in SyncFragment
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if len(in.Profile) > 0 {
		if _, isObj := decodeObject(in.Profile); !isObj {
			return 0, nil, badRequest{"Profile must be a JSON object"}
		}
	}
	for _, list := range [][]json.RawMessage{in.AddMsgList, in.ModContactList, in.DelContactList, in.ModChatRoomMemberList} {
		for _, m := range list {
			if _, isObj := decodeObject(m); !isObj {
				return 0, nil, badRequest{"every list entry must be a JSON object"}
			}
		}
	}
	return s.onAccount(r, func(a *account) (int, any, error) {
		a.append(&event{kind: evRaw, raw: &in})
		return http.StatusOK, ok, nil
	})
}
