package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient"
)

// Fakes of the conversion's effects, recording what they were asked.

type fakeMedia struct {
	files map[MediaKind]*Media
	errs  map[MediaKind]error
	calls []MediaKind
}

func (f *fakeMedia) Download(_ context.Context, kind MediaKind) (*Media, error) {
	f.calls = append(f.calls, kind)
	if err := f.errs[kind]; err != nil {
		return nil, err
	}
	if m := f.files[kind]; m != nil {
		return m, nil
	}
	return nil, errors.New("fake: HTTP 404")
}

func (f *fakeMedia) called(kind MediaKind) bool {
	for _, k := range f.calls {
		if k == kind {
			return true
		}
	}
	return false
}

type upload struct {
	data           []byte
	fileName, mime string
	url            id.ContentURIString
}

type fakeUploader struct {
	uploads   []upload
	err       error // fails every upload
	failAfter int   // when > 0, uploads after this many fail
	encrypted bool
}

func (f *fakeUploader) Upload(_ context.Context, data []byte, fileName, mimeType string) (id.ContentURIString, *event.EncryptedFileInfo, error) {
	if f.err != nil || (f.failAfter > 0 && len(f.uploads) >= f.failAfter) {
		return "", nil, errors.Join(f.err, errors.New("fake: homeserver said 502"))
	}
	u := id.ContentURIString("mxc://test/" + strconv.Itoa(len(f.uploads)+1))
	f.uploads = append(f.uploads, upload{data: bytes.Clone(data), fileName: fileName, mime: mimeType, url: u})
	if f.encrypted {
		return "", &event.EncryptedFileInfo{URL: u}, nil
	}
	return u, nil, nil
}

type quoteQuery struct{ name, text string }

type fakeDir struct {
	members []Member
	quoted  map[quoteQuery]*Earlier
	queries []quoteQuery
	listed  int // Members calls
}

func (d *fakeDir) Members() []Member {
	d.listed++
	return d.members
}

func (d *fakeDir) FindQuoted(_ context.Context, name, text string) *Earlier {
	q := quoteQuery{name, text}
	d.queries = append(d.queries, q)
	return d.quoted[q]
}

// fakeFinderDir also finds messages by MsgId.
type fakeFinderDir struct {
	fakeDir
	byID  map[string]*Earlier
	asked []string
}

func (d *fakeFinderDir) FindMessage(_ context.Context, msgID string) *Earlier {
	d.asked = append(d.asked, msgID)
	return d.byID[msgID]
}

// Members of the test group: two Bobs to prove the longest name wins, a name with
// markup to prove escaping, a member without a Matrix user, and me.
var (
	alice    = Member{UserName: "@a1", DisplayName: "Alice", MXID: "@wechat_alice:hs.test"}
	bob      = Member{UserName: "@b1", DisplayName: "Bob", MXID: "@wechat_bob:hs.test"}
	bobSmith = Member{UserName: "@b2", DisplayName: "Bob Smith", MXID: "@wechat_bobsmith:hs.test"}
	tag      = Member{UserName: "@t1", DisplayName: "<Tom&Co>", MXID: "@wechat_tom:hs.test"}
	nomx     = Member{UserName: "@n1", DisplayName: "Nobody"}
	me       = Member{UserName: "@me", DisplayName: "我自己", MXID: "@user:hs.test", IsMe: true}
)

func groupDir() *fakeDir {
	return &fakeDir{members: []Member{alice, bob, bobSmith, tag, nomx, me}}
}

// payload reads a captured message from protoclient's test data.
func payload(t testing.TB, name string) *protoclient.Message {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "protoclient", "testdata", "payloads", name))
	if err != nil {
		t.Fatal(err)
	}
	var m protoclient.Message
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &m
}

// decode decodes a message as the bridge's session would, with me as the user.
func decode(m *protoclient.Message) *protoclient.Event {
	if m == nil {
		return nil
	}
	ev := m.Decode(me.UserName)
	return &ev
}

// payloadText reads a payload file as text.
func payloadText(t testing.TB, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "protoclient", "testdata", "payloads", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func testImage(w, h int) image.Image {
	img := image.NewPaletted(image.Rect(0, 0, w, h), []color.Color{color.White, color.Black})
	img.SetColorIndex(0, 0, 1)
	return img
}

func pngBytes(w, h int) []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, testImage(w, h))
	return b.Bytes()
}

func jpegBytes(w, h int) []byte {
	var b bytes.Buffer
	_ = jpeg.Encode(&b, testImage(w, h), nil)
	return b.Bytes()
}

func gifBytes(w, h int) []byte {
	var b bytes.Buffer
	_ = gif.Encode(&b, testImage(w, h), nil)
	return b.Bytes()
}
