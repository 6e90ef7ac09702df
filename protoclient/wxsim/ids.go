package wxsim

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"strconv"
	"strings"
	"wxbridge/protoclient"
)

// Generators for the opaque identifiers of the protocol, in the shapes seen in captures
// (reference §3, §5.1, §6.1). crypto/rand keeps them unguessable, like the real ones,
// so a test cannot pass by accident with a stale or invented value.

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func randHex(nBytes int) string { return hex.EncodeToString(randBytes(nBytes)) }

// newUUID looks like "gbyKnbsmqQ==": 10 base64 characters and "==". Values with '+' or
// '/' are skipped because clients put the uuid into URLs without escaping it.
func newUUID() string {
	for {
		u := base64.StdEncoding.EncodeToString(randBytes(7))
		if !strings.ContainsAny(u, "+/") {
			return u
		}
	}
}

func newUserName() protoclient.UserName  { return protoclient.UserName("@" + randHex(32)) }
func newGroupName() protoclient.UserName { return protoclient.UserName("@@" + randHex(32)) }

// isGroupID reports whether a stable id names a group ("…@chatroom").
func isGroupID(id string) bool { return strings.HasSuffix(id, "@chatroom") }
func newEncryChatRoomID() string {
	return "@" + randHex(16)
}
func newSkey() string { return "@crypt_" + randHex(4) + "_" + randHex(16) }

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randAlnum(n int) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alnum)))
	for i := range b {
		v, _ := rand.Int(rand.Reader, max)
		b[i] = alnum[v.Int64()]
	}
	return string(b)
}

func newSid() string        { return randAlnum(16) }
func newDataTicket() string { return randAlnum(24) }
func newTicket() string     { return randAlnum(24) + "@qrticket_0" }
func newUvid() string       { return randHex(48) }
func newAuthTicket() string { return base64.StdEncoding.EncodeToString(randBytes(96)) }

// newPassTicket returns the raw (decoded) pass_ticket. It always contains '+' so that
// the single- and double-encoded forms of the query string differ, as in the capture.
func newPassTicket() string {
	for {
		p := base64.StdEncoding.EncodeToString(randBytes(32))
		if strings.Contains(p, "+") {
			return p
		}
	}
}

// newMsgID returns a 19-digit id, as MsgId (string) and NewMsgId (number).
func newMsgID() (string, int64) {
	const lo = 1_000_000_000_000_000_000
	n := int64(binary.BigEndian.Uint64(randBytes(8)) % (9_000_000_000_000_000_000 - lo))
	n += lo
	return strconv.FormatInt(n, 10), n
}

// newOldMsgID is the <oldmsgid> of a revoke notice: a legacy 32-bit id (§5.4.5), ten
// digits like the captured ones, so at most 4294967295; clients may parse it as uint32.
func newOldMsgID() string {
	const lo, hi = 1_000_000_000, 1<<32 - 1
	v, _ := rand.Int(rand.Reader, big.NewInt(hi-lo+1))
	return strconv.FormatInt(v.Int64()+lo, 10)
}

func newMediaID() string { return "@crypt_" + randHex(4) + "_" + randHex(64) }

func newStrangerTicket() string { return "v2_" + randHex(64) + "@stranger" }
func newEncryptUser() string    { return "v1_" + randHex(48) + "@stranger" }

func newChatroomID() string {
	v, _ := rand.Int(rand.Reader, big.NewInt(9_000_000_000))
	return strconv.FormatInt(v.Int64()+1_000_000_000, 10) + "@chatroom"
}

// encryFileName escapes every byte that is not a letter or digit, like the capture's
// "IMG%5F1854%2EJPG".
func encryFileName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}
