package wxsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Control is a typed client of the control API, for Go tests of the protocol client
// and for the end-to-end tests. BaseURL is wxsim's root ("http://127.0.0.1:8780");
// HTTP defaults to http.DefaultClient.
type Control struct {
	BaseURL string
	HTTP    *http.Client
}

// ControlError is a control call answered with a 4xx/5xx status.
type ControlError struct {
	Method, Path string
	Status       int
	Message      string
}

func (e *ControlError) Error() string {
	return fmt.Sprintf("wxsim control %s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
}

// MsgRef names a message created through the control API.
type MsgRef struct {
	MsgID    string `json:"msg_id"`
	NewMsgID string `json:"new_msg_id"`
}

// FriendRequestRef names a friend request created through the control API.
type FriendRequestRef struct {
	MsgID  string `json:"msg_id"`
	Ticket string `json:"ticket"`
}

func (c *Control) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+"/_wxsim/v1"+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return &ControlError{Method: method, Path: path, Status: resp.StatusCode, Message: e.Error}
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func esc(s string) string { return url.PathEscape(s) }

func acctPath(wxid string) string { return "/accounts/" + esc(wxid) }

// CreateAccount creates an account and returns its uin (chosen when spec.Uin is 0).
func (c *Control) CreateAccount(ctx context.Context, spec AccountSpec) (int64, error) {
	var out struct {
		Uin int64 `json:"uin"`
	}
	err := c.do(ctx, http.MethodPost, "/accounts", spec, &out)
	return out.Uin, err
}

// Account describes an account and its current session.
func (c *Control) Account(ctx context.Context, wxid string) (AccountInfo, error) {
	var out AccountInfo
	err := c.do(ctx, http.MethodGet, acctPath(wxid), nil, &out)
	return out, err
}

// UpdateProfile changes the account's own profile, as from the phone (extension).
func (c *Control) UpdateProfile(ctx context.Context, wxid string, u ProfileUpdate) error {
	return c.do(ctx, http.MethodPatch, acctPath(wxid), u, nil)
}

// Accounts lists every account (extension).
func (c *Control) Accounts(ctx context.Context) ([]AccountInfo, error) {
	var out []AccountInfo
	err := c.do(ctx, http.MethodGet, "/accounts", nil, &out)
	return out, err
}

// AddContact adds a contact and returns its UserName in the live session ("" if none).
func (c *Control) AddContact(ctx context.Context, wxid string, spec ContactSpec) (string, error) {
	var out struct {
		UserName string `json:"username"`
	}
	err := c.do(ctx, http.MethodPost, acctPath(wxid)+"/contacts", spec, &out)
	return out.UserName, err
}

// Contacts lists the account's contacts (extension).
func (c *Control) Contacts(ctx context.Context, wxid string) ([]ContactInfo, error) {
	var out []ContactInfo
	err := c.do(ctx, http.MethodGet, acctPath(wxid)+"/contacts", nil, &out)
	return out, err
}

// UpdateContact changes the fields set in spec.
func (c *Control) UpdateContact(ctx context.Context, wxid, contact string, spec ContactSpec) error {
	return c.do(ctx, http.MethodPatch, acctPath(wxid)+"/contacts/"+esc(contact), spec, nil)
}

// DeleteContact removes a contact.
func (c *Control) DeleteContact(ctx context.Context, wxid, contact string) error {
	return c.do(ctx, http.MethodDelete, acctPath(wxid)+"/contacts/"+esc(contact), nil, nil)
}

// CreateGroup creates a group and returns its UserName in the live session.
func (c *Control) CreateGroup(ctx context.Context, wxid string, spec GroupSpec) (string, error) {
	var out struct {
		UserName string `json:"username"`
	}
	err := c.do(ctx, http.MethodPost, acctPath(wxid)+"/groups", spec, &out)
	return out.UserName, err
}

// Group describes a group (extension).
func (c *Control) Group(ctx context.Context, wxid, gid string) (GroupInfo, error) {
	var out GroupInfo
	err := c.do(ctx, http.MethodGet, acctPath(wxid)+"/groups/"+esc(gid), nil, &out)
	return out, err
}

// Groups lists the groups the account is a member of (extension).
func (c *Control) Groups(ctx context.Context, wxid string) ([]GroupInfo, error) {
	var out []GroupInfo
	err := c.do(ctx, http.MethodGet, acctPath(wxid)+"/groups", nil, &out)
	return out, err
}

// UpdateGroup renames a group (or sets the extension fields).
func (c *Control) UpdateGroup(ctx context.Context, wxid, gid string, u GroupUpdate) error {
	return c.do(ctx, http.MethodPatch, acctPath(wxid)+"/groups/"+esc(gid), u, nil)
}

// GroupMembers adds and removes members.
func (c *Control) GroupMembers(ctx context.Context, wxid, gid string, ch MembersChange) error {
	return c.do(ctx, http.MethodPost, acctPath(wxid)+"/groups/"+esc(gid)+"/members", ch, nil)
}

// Logins lists QR and push logins, newest first.
func (c *Control) Logins(ctx context.Context) ([]LoginInfo, error) {
	var out []LoginInfo
	err := c.do(ctx, http.MethodGet, "/logins", nil, &out)
	return out, err
}

// Scan scans the QR code of uuid with the phone of wxid.
func (c *Control) Scan(ctx context.Context, uuid, wxid string) error {
	return c.do(ctx, http.MethodPost, "/logins/"+esc(uuid)+"/scan", map[string]string{"wxid": wxid}, nil)
}

// Confirm confirms a scanned login on the phone.
func (c *Control) Confirm(ctx context.Context, uuid string) error {
	return c.do(ctx, http.MethodPost, "/logins/"+esc(uuid)+"/confirm", nil, nil)
}

// Cancel presses cancel on the phone.
func (c *Control) Cancel(ctx context.Context, uuid string) error {
	return c.do(ctx, http.MethodPost, "/logins/"+esc(uuid)+"/cancel", nil, nil)
}

// Expire lets the QR code expire.
func (c *Control) Expire(ctx context.Context, uuid string) error {
	return c.do(ctx, http.MethodPost, "/logins/"+esc(uuid)+"/expire", nil, nil)
}

// PushLoginConfirm confirms the newest pending push login of wxid and returns its uuid.
func (c *Control) PushLoginConfirm(ctx context.Context, wxid string) (string, error) {
	var out struct {
		UUID string `json:"uuid"`
	}
	err := c.do(ctx, http.MethodPost, acctPath(wxid)+"/push-login/confirm", nil, &out)
	return out.UUID, err
}

// Logout ends the live session on the server; retcode 0 means 1101.
func (c *Control) Logout(ctx context.Context, wxid string, retcode int) error {
	var in any
	if retcode != 0 {
		in = map[string]int{"retcode": retcode}
	}
	return c.do(ctx, http.MethodPost, acctPath(wxid)+"/logout", in, nil)
}

// Incoming delivers a message a contact wrote (m.From, and m.Chat in groups).
func (c *Control) Incoming(ctx context.Context, wxid string, m WorldMessage) (MsgRef, error) {
	var out MsgRef
	err := c.do(ctx, http.MethodPost, acctPath(wxid)+"/incoming", m, &out)
	return out, err
}

// FromPhone delivers a message the user sent from the phone to m.To.
func (c *Control) FromPhone(ctx context.Context, wxid string, m WorldMessage) (MsgRef, error) {
	var out MsgRef
	err := c.do(ctx, http.MethodPost, acctPath(wxid)+"/from-phone", m, &out)
	return out, err
}

// Revoke recalls a message on behalf of its author.
func (c *Control) Revoke(ctx context.Context, wxid, msgID string) error {
	return c.do(ctx, http.MethodPost, acctPath(wxid)+"/revoke", map[string]string{"msg_id": msgID}, nil)
}

// FriendRequest delivers a friend request from someone.
func (c *Control) FriendRequest(ctx context.Context, wxid, from, nickname, content string) (FriendRequestRef, error) {
	var out FriendRequestRef
	in := map[string]string{"from": from, "nickname": nickname, "content": content}
	err := c.do(ctx, http.MethodPost, acctPath(wxid)+"/friend-request", in, &out)
	return out, err
}

// SyncRaw queues a verbatim webwxsync fragment.
func (c *Control) SyncRaw(ctx context.Context, wxid string, f SyncFragment) error {
	return c.do(ctx, http.MethodPost, acctPath(wxid)+"/sync-raw", f, nil)
}

// Sent lists what the account sent, in order.
func (c *Control) Sent(ctx context.Context, wxid string) ([]SentMessage, error) {
	var out []SentMessage
	err := c.do(ctx, http.MethodGet, acctPath(wxid)+"/sent", nil, &out)
	return out, err
}

// Revoked lists every webwxrevokemsg of the account.
func (c *Control) Revoked(ctx context.Context, wxid string) ([]RevokeRecord, error) {
	var out []RevokeRecord
	err := c.do(ctx, http.MethodGet, acctPath(wxid)+"/revoked", nil, &out)
	return out, err
}

// MarkedRead lists every webwxstatusnotify Code 1 of the account.
func (c *Control) MarkedRead(ctx context.Context, wxid string) ([]MarkRead, error) {
	var out []MarkRead
	err := c.do(ctx, http.MethodGet, acctPath(wxid)+"/marked-read", nil, &out)
	return out, err
}

// FriendRequests lists the friend requests of the account.
func (c *Control) FriendRequests(ctx context.Context, wxid string) ([]FriendRequest, error) {
	var out []FriendRequest
	err := c.do(ctx, http.MethodGet, acctPath(wxid)+"/friend-requests", nil, &out)
	return out, err
}

// AddFault installs a fault and returns its id.
func (c *Control) AddFault(ctx context.Context, f Fault) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.do(ctx, http.MethodPost, "/faults", f, &out)
	return out.ID, err
}

// Faults lists the installed faults (extension).
func (c *Control) Faults(ctx context.Context) ([]Fault, error) {
	var out []Fault
	err := c.do(ctx, http.MethodGet, "/faults", nil, &out)
	return out, err
}

// DeleteFault removes one fault.
func (c *Control) DeleteFault(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/faults/"+esc(id), nil, nil)
}

// ClearFaults removes every fault.
func (c *Control) ClearFaults(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/faults", nil, nil)
}

// Settings changes the settings named in patch (JSON names, e.g.
// {"synccheck_hold_ms": 200}) and returns all of them.
func (c *Control) Settings(ctx context.Context, patch map[string]any) (Settings, error) {
	var out Settings
	if patch == nil {
		patch = map[string]any{}
	}
	err := c.do(ctx, http.MethodPatch, "/settings", patch, &out)
	return out, err
}

// GetSettings returns the settings (extension).
func (c *Control) GetSettings(ctx context.Context) (Settings, error) {
	var out Settings
	err := c.do(ctx, http.MethodGet, "/settings", nil, &out)
	return out, err
}

// Stats returns the request counts per endpoint.
func (c *Control) Stats(ctx context.Context) (Stats, error) {
	var out Stats
	err := c.do(ctx, http.MethodGet, "/stats", nil, &out)
	return out, err
}

// ResetStats zeroes the request counts (extension).
func (c *Control) ResetStats(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/stats", nil, nil)
}

// WaitLogin waits until a QR login is waiting to be scanned and returns the newest
// such uuid, ignoring the uuids in skip (e.g. ones a test already handled). It polls
// the external API, so it retries on a short ticker until ctx ends.
func (c *Control) WaitLogin(ctx context.Context, skip ...string) (string, error) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		logins, err := c.Logins(ctx)
		if err == nil {
		next:
			for _, l := range logins {
				if l.State != stateWaiting || l.Push {
					continue
				}
				for _, s := range skip {
					if s == l.UUID {
						continue next
					}
				}
				return l.UUID, nil
			}
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return "", fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
			}
			return "", ctx.Err()
		case <-t.C:
		}
	}
}
