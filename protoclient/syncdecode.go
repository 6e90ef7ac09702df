package protoclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Lenient decoding of webwxsync answers. One broken entry must not cost the batch: the
// server's answer is decoded in one pass into the typed lists (the fast path, taken by
// every well-formed answer); when that fails, or an entry lacks what the bridge needs,
// the envelope is decoded on its own and every list entry separately, first strictly,
// then with the common type mistakes coerced (numbers as strings and back, booleans as
// 0/1, integral floats). What still does not decode is reported in SyncBatch.Malformed.
// Only the envelope's BaseResponse and SyncKey must decode: without them there is no
// answer to act on and no cursor to move.

// MalformedEntry kinds: which list of the webwxsync answer the entry came from.
const (
	MalformedMessage        = "message"         // AddMsgList
	MalformedContact        = "contact"         // ModContactList
	MalformedDelContact     = "del_contact"     // DelContactList
	MalformedChatRoomMember = "chatroom_member" // ModChatRoomMemberList (only when it is not a list)
	MalformedProfile        = "profile"         // Profile
)

// MaxMalformedRaw bounds MalformedEntry.Raw.
const MaxMalformedRaw = 4 << 10

// MalformedEntry is a webwxsync entry that could not be decoded, or lacks a field the
// bridge cannot do without (a message's MsgId, MsgType or FromUserName, a contact's
// UserName). The rest of its batch is delivered; the caller tells the user something
// was lost, in the chat the ids name when they are known.
type MalformedEntry struct {
	Kind string // MalformedMessage, MalformedContact, …
	// Raw is the entry as the server sent it, cut to MaxMalformedRaw bytes; Size is its
	// full length.
	Raw  []byte
	Size int
	// Best effort from the raw JSON (a string or a number there); empty when absent.
	MsgID        string   // messages
	FromUserName UserName // messages
	ToUserName   UserName // messages
	UserName     UserName // contacts
	// Err says what is wrong; it wraps ErrMalformed.
	Err error
}

// syncAnswer is a decoded webwxsync answer with Ret 0.
type syncAnswer struct {
	batch SyncBatch
	skey  string
}

// syncFast is the one-pass decode of a well-formed answer.
type syncFast struct {
	BaseResponse          *BaseResponse     `json:"BaseResponse"`
	AddMsgList            []Message         `json:"AddMsgList"`
	ModContactList        []Contact         `json:"ModContactList"`
	DelContactList        []DelContact      `json:"DelContactList"`
	ModChatRoomMemberList []json.RawMessage `json:"ModChatRoomMemberList"`
	Profile               Profile           `json:"Profile"`
	ContinueFlag          int               `json:"ContinueFlag"`
	SyncKey               *SyncKey          `json:"SyncKey"`
	SKey                  string            `json:"SKey"`
	SyncCheckKey          *SyncKey          `json:"SyncCheckKey"`
}

// syncEnvelope is the answer with every part that may be broken left raw.
type syncEnvelope struct {
	BaseResponse          *BaseResponse   `json:"BaseResponse"`
	AddMsgList            rawList         `json:"AddMsgList"`
	ModContactList        rawList         `json:"ModContactList"`
	DelContactList        rawList         `json:"DelContactList"`
	ModChatRoomMemberList rawList         `json:"ModChatRoomMemberList"`
	Profile               json.RawMessage `json:"Profile"`
	ContinueFlag          json.RawMessage `json:"ContinueFlag"`
	SyncKey               json.RawMessage `json:"SyncKey"`
	SKey                  json.RawMessage `json:"SKey"`
	SyncCheckKey          json.RawMessage `json:"SyncCheckKey"`
}

// rawList is a list whose entries are kept raw, or the start of a value that should
// have been a list and is not. Each entry is copied once; the list as a whole is not.
type rawList struct {
	entries []json.RawMessage
	notList *MalformedEntry
}

func (l *rawList) UnmarshalJSON(b []byte) error {
	*l = rawList{}
	if isNull(b) {
		return nil
	}
	if err := json.Unmarshal(b, &l.entries); err != nil {
		l.entries = nil
		m := newMalformed("", b, nil)
		l.notList = &m
	}
	return nil
}

func malformedf(format string, args ...any) error {
	return fmt.Errorf("%w: webwxsync: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// decodeSyncResponse decodes a webwxsync answer. A BaseResponse with Ret != 0 comes
// back as its typed error (retError); a missing or broken BaseResponse or SyncKey as
// ErrMalformed; broken entries as SyncBatch.Malformed.
func decodeSyncResponse(body []byte) (*syncAnswer, error) {
	var f syncFast
	err := json.Unmarshal(body, &f)
	if err == nil {
		if f.BaseResponse == nil {
			return nil, malformedf("no BaseResponse")
		}
		if err := retError("webwxsync", *f.BaseResponse); err != nil {
			return nil, err
		}
		if f.SyncKey == nil {
			return nil, malformedf("no SyncKey")
		}
		if allValid(f.AddMsgList, validMessage) && allValid(f.ModContactList, validContact) && allValid(f.DelContactList, validDelContact) {
			a := &syncAnswer{skey: f.SKey, batch: SyncBatch{
				Messages:           f.AddMsgList,
				ModContacts:        f.ModContactList,
				DelContacts:        f.DelContactList,
				ModChatRoomMembers: f.ModChatRoomMemberList,
				ContinueFlag:       f.ContinueFlag,
				SyncKey:            *f.SyncKey,
				SyncCheckKey:       f.SyncCheckKey,
			}}
			if f.Profile.BitFlag == ProfileBitFlagChange {
				p := f.Profile
				a.batch.Profile = &p
			}
			return a, nil
		}
	} else if se := (*json.SyntaxError)(nil); errors.As(err, &se) {
		return nil, malformedf("%v", err)
	}
	return decodeSyncLenient(body)
}

func allValid[T any](list []T, valid func(*T) error) bool {
	for i := range list {
		if valid(&list[i]) != nil {
			return false
		}
	}
	return true
}

func validMessage(m *Message) error {
	switch {
	case m.MsgId == "":
		return errors.New("no MsgId")
	case m.MsgType == 0:
		return errors.New("no MsgType")
	case m.FromUserName == "":
		return errors.New("no FromUserName")
	}
	return nil
}

func validContact(c *Contact) error {
	if c.UserName == "" {
		return errors.New("no UserName")
	}
	return nil
}

func validDelContact(c *DelContact) error {
	if c.UserName == "" {
		return errors.New("no UserName")
	}
	return nil
}

func decodeSyncLenient(body []byte) (*syncAnswer, error) {
	var env syncEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, malformedf("%v", err)
	}
	if env.BaseResponse == nil {
		return nil, malformedf("no BaseResponse")
	}
	if err := retError("webwxsync", *env.BaseResponse); err != nil {
		return nil, err
	}
	if isNull(env.SyncKey) {
		return nil, malformedf("no SyncKey")
	}
	a := &syncAnswer{}
	if err := json.Unmarshal(env.SyncKey, &a.batch.SyncKey); err != nil {
		return nil, malformedf("SyncKey: %v", err)
	}
	if !isNull(env.SyncCheckKey) {
		var k SyncKey
		if err := json.Unmarshal(env.SyncCheckKey, &k); err != nil {
			return nil, malformedf("SyncCheckKey: %v", err)
		}
		a.batch.SyncCheckKey = &k
	}
	b := &a.batch
	b.Messages = decodeList(&env.AddMsgList, "AddMsgList", MalformedMessage, validMessage, &b.Malformed)
	b.ModContacts = decodeList(&env.ModContactList, "ModContactList", MalformedContact, validContact, &b.Malformed)
	b.DelContacts = decodeList(&env.DelContactList, "DelContactList", MalformedDelContact, validDelContact, &b.Malformed)
	b.ModChatRoomMembers = env.ModChatRoomMemberList.entries
	if bad := env.ModChatRoomMemberList.notList; bad != nil {
		bad.Kind, bad.Err = MalformedChatRoomMember, malformedf("ModChatRoomMemberList is not a list")
		b.Malformed = append(b.Malformed, *bad)
	}
	if !isNull(env.Profile) {
		var p Profile
		if err := lenientUnmarshal(env.Profile, &p); err != nil {
			b.Malformed = append(b.Malformed, newMalformed(MalformedProfile, env.Profile, malformedf("Profile: %v", err)))
		} else if p.BitFlag == ProfileBitFlagChange {
			b.Profile = &p
		}
	}
	// Neither is worth a notice: a lost ContinueFlag means the next synccheck finds the
	// rest, a lost SKey keeps the current one.
	_ = lenientUnmarshal(env.ContinueFlag, &b.ContinueFlag)
	_ = lenientUnmarshal(env.SKey, &a.skey)
	return a, nil
}

// decodeList decodes each entry of a raw list on its own; entries that do not decode or
// are not valid go to *bad.
func decodeList[T any](list *rawList, name, kind string, valid func(*T) error, bad *[]MalformedEntry) []T {
	if m := list.notList; m != nil {
		m.Kind, m.Err = kind, malformedf("%s is not a list", name)
		*bad = append(*bad, *m)
		return nil
	}
	if list.entries == nil {
		return nil
	}
	out := make([]T, 0, len(list.entries))
	for _, e := range list.entries {
		var v T
		err := json.Unmarshal(e, &v)
		if err != nil {
			v = *new(T)
			err = lenientUnmarshal(e, &v)
		}
		if err == nil {
			err = valid(&v)
		}
		if err != nil {
			*bad = append(*bad, newMalformed(kind, e, malformedf("%s entry: %v", kind, err)))
			continue
		}
		out = append(out, v)
	}
	return out
}

func newMalformed(kind string, raw []byte, err error) MalformedEntry {
	m := MalformedEntry{Kind: kind, Size: len(raw), Raw: bytes.Clone(raw[:min(len(raw), MaxMalformedRaw)]), Err: err}
	var ids struct {
		MsgId        json.RawMessage `json:"MsgId"`
		FromUserName json.RawMessage `json:"FromUserName"`
		ToUserName   json.RawMessage `json:"ToUserName"`
		UserName     json.RawMessage `json:"UserName"`
	}
	if json.Unmarshal(raw, &ids) == nil {
		if kind == MalformedMessage {
			m.MsgID = scalarText(ids.MsgId)
			m.FromUserName = UserName(scalarText(ids.FromUserName))
			m.ToUserName = UserName(scalarText(ids.ToUserName))
		} else {
			m.UserName = UserName(scalarText(ids.UserName))
		}
	}
	return m
}

// scalarText is a JSON string's value or a number's literal, else "".
func scalarText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch c := raw[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return string(raw)
	}
	return ""
}

func isNull(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

// lenientUnmarshal decodes JSON into *v as json.Unmarshal does, but where a value has
// the wrong JSON type for its field it coerces the common mistakes: a string holding a
// number for a number field ("1", " 2 ", "1.0", "" as 0), a number for a string field
// (its literal), a boolean for a number (0/1) or a string, an integral float for an
// integer, "true"/"false"/0/1 for a boolean. Structs, slices and pointers are decoded
// field by field and element by element with the same rules; unknown keys are ignored
// and null leaves a field zero. An object or list where a scalar belongs (or the
// reverse), or a string that is no number for a number field, is an error.
func lenientUnmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("lenientUnmarshal needs a non-nil pointer")
	}
	return lenientValue(data, rv.Elem())
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func lenientValue(data []byte, v reflect.Value) error {
	if err := json.Unmarshal(data, v.Addr().Interface()); err == nil {
		return nil
	}
	v.SetZero()
	data = bytes.TrimSpace(data)
	if isNull(data) {
		return nil
	}
	t := v.Type()
	custom := reflect.PointerTo(t).Implements(unmarshalerType)
	switch {
	case !custom && t.Kind() == reflect.Struct:
		return lenientStruct(data, v)
	case !custom && t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		if data[0] != '[' {
			return fmt.Errorf("%s where a list belongs", jsonKind(data))
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(data, &elems); err != nil {
			return err
		}
		s := reflect.MakeSlice(t, len(elems), len(elems))
		for i, e := range elems {
			if err := lenientValue(e, s.Index(i)); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
		v.Set(s)
		return nil
	case !custom && t.Kind() == reflect.Pointer:
		p := reflect.New(t.Elem())
		if err := lenientValue(data, p.Elem()); err != nil {
			return err
		}
		v.Set(p)
		return nil
	}
	fixed, err := coerceScalar(data, t.Kind())
	if err != nil {
		return err
	}
	if err := json.Unmarshal(fixed, v.Addr().Interface()); err != nil {
		v.SetZero()
		return fmt.Errorf("%s does not fit %s", jsonKind(data), t.Kind())
	}
	return nil
}

func lenientStruct(data []byte, v reflect.Value) error {
	if data[0] != '{' {
		return fmt.Errorf("%s where an object belongs", jsonKind(data))
	}
	fields := structFields(v.Type())
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		i, ok := fields.lookup(key)
		if !ok {
			continue
		}
		if err := lenientValue(raw, v.Field(i)); err != nil {
			return fmt.Errorf("field %s: %w", key, err)
		}
	}
	return nil
}

type fieldIndex struct {
	names []string
	index map[string]int
}

func (f *fieldIndex) lookup(key string) (int, bool) {
	if i, ok := f.index[key]; ok {
		return i, true
	}
	// encoding/json matches keys without regard to case when no key matches exactly.
	for i, n := range f.names {
		if n != "" && strings.EqualFold(n, key) {
			return i, true
		}
	}
	return 0, false
}

var fieldCache sync.Map // reflect.Type → *fieldIndex

func structFields(t reflect.Type) *fieldIndex {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*fieldIndex)
	}
	f := &fieldIndex{names: make([]string, t.NumField()), index: map[string]int{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || sf.Anonymous {
			continue
		}
		name := sf.Name
		if tag, ok := sf.Tag.Lookup("json"); ok {
			tagName, _, _ := strings.Cut(tag, ",")
			if tagName == "-" {
				continue
			}
			if tagName != "" {
				name = tagName
			}
		}
		f.names[i] = name
		f.index[name] = i
	}
	fieldCache.Store(t, f)
	return f
}

// jsonKind names a JSON value's type, with a short excerpt of a scalar for the error
// text.
func jsonKind(data []byte) string {
	switch data[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		var s string
		_ = json.Unmarshal(data, &s)
		return "the string " + strconv.Quote(excerpt(s, 16))
	case 't', 'f':
		return "a boolean"
	}
	return "the number " + excerpt(string(data), 24)
}

func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// coerceScalar rewrites a scalar JSON value as the JSON type a field of kind k reads.
func coerceScalar(data []byte, k reflect.Kind) ([]byte, error) {
	bad := func() ([]byte, error) {
		return nil, fmt.Errorf("%s where %s belongs", jsonKind(data), kindName(k))
	}
	var text string // the value as text: a string's contents or a literal
	isString := false
	switch c := data[0]; {
	case c == '{' || c == '[':
		return bad()
	case c == '"':
		if err := json.Unmarshal(data, &text); err != nil {
			return bad()
		}
		isString = true
	default:
		text = string(data)
	}
	switch k {
	case reflect.String:
		if isString {
			return data, nil
		}
		return json.Marshal(text)
	case reflect.Bool:
		switch strings.TrimSpace(text) {
		case "true", "1":
			return []byte("true"), nil
		case "false", "0", "":
			return []byte("false"), nil
		}
		return bad()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		s := strings.TrimSpace(text)
		switch s {
		case "", "false":
			return []byte("0"), nil
		case "true":
			return []byte("1"), nil
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return strconv.AppendInt(nil, n, 10), nil
		}
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return strconv.AppendUint(nil, n, 10), nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<63 {
			return bad()
		}
		return strconv.AppendFloat(nil, f, 'f', 0, 64), nil
	case reflect.Float32, reflect.Float64:
		s := strings.TrimSpace(text)
		if s == "" {
			return []byte("0"), nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return bad()
		}
		return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
	}
	return bad()
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	}
	return "a " + k.String()
}
