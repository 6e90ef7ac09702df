package portal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // registered for image.DecodeConfig: WeChat stickers are GIFs
	_ "image/jpeg"
	_ "image/png"
	"mime"
	"net/http"
	"path"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"wxbridge/protoclient"
)

// Media messages: download from WeChat, upload to Matrix, describe. A download that
// fails or is over the limit becomes a notice saying what it was; an upload that fails
// is an error, because the bridge can retry it and the user would otherwise lose the
// media for a passing homeserver problem.

// fetchResult is a download, or the notice that replaces it.
type fetchResult struct {
	media  *Media
	notice *event.MessageEventContent
}

// fetch downloads kind. what names the media for the notices ("Image", "File
// report.pdf"); knownSize is the size the message announced, or 0.
func (c *converter) fetch(kind MediaKind, what string, knownSize int64) (fetchResult, error) {
	if c.opts.MaxFileSize > 0 && knownSize > c.opts.MaxFileSize {
		return fetchResult{notice: c.tooLarge(what, knownSize)}, nil
	}
	if c.media == nil {
		return fetchResult{notice: phoneNotice(what, "it could not be downloaded; open WeChat on your phone to see it")}, nil
	}
	m, err := c.media.Download(c.ctx, kind)
	if err != nil {
		if ctxErr := c.ctx.Err(); ctxErr != nil {
			return fetchResult{}, ctxErr
		}
		var tl *protoclient.TooLargeError
		if errors.As(err, &tl) {
			size := tl.Size
			if size < 0 {
				size = knownSize
			}
			return fetchResult{notice: c.tooLarge(what, size)}, nil
		}
		return fetchResult{notice: phoneNotice(what, "it could not be downloaded; open WeChat on your phone to see it")}, nil
	}
	if m == nil || len(m.Data) == 0 {
		return fetchResult{notice: phoneNotice(what, "WeChat sent it empty; open WeChat on your phone to see it")}, nil
	}
	return fetchResult{media: m}, nil
}

// result is the Converted for a fetch that did not give media.
func (f fetchResult) result(err error) (*Converted, error) {
	if err != nil {
		return nil, err
	}
	return single(f.notice), nil
}

func (c *converter) tooLarge(what string, size int64) *event.MessageEventContent {
	hint := "it is larger than the bridge's limit"
	if size > 0 {
		hint = "it is " + humanSize(size) + ", over the bridge's limit"
	}
	if c.opts.MaxFileSize > 0 {
		hint += " of " + humanSize(c.opts.MaxFileSize)
	}
	return phoneNotice(what, hint+"; open WeChat on your phone to get it")
}

// upload stores data on Matrix and returns where it is: a plain URL, or in an
// encrypted room the encrypted file (whose URL is inside).
func (c *converter) upload(data []byte, fileName, mimeType string) (id.ContentURIString, *event.EncryptedFileInfo, error) {
	if c.up == nil {
		return "", nil, errors.New("portal: no Matrix uploader")
	}
	url, file, err := c.up.Upload(c.ctx, data, fileName, mimeType)
	if err != nil {
		return "", nil, fmt.Errorf("upload %s to Matrix: %w", fileName, err)
	}
	return url, file, nil
}

// mediaContent uploads data and returns content of msgType pointing at it.
func (c *converter) mediaContent(msgType event.MessageType, data []byte, fileName, mimeType string) (*event.MessageEventContent, error) {
	url, file, err := c.upload(data, fileName, mimeType)
	if err != nil {
		return nil, err
	}
	content := &event.MessageEventContent{
		MsgType:  msgType,
		Body:     fileName,
		FileName: fileName,
		Info:     &event.FileInfo{MimeType: mimeType, Size: len(data)},
		Mentions: &event.Mentions{},
	}
	if file != nil {
		content.File = file
	} else {
		content.URL = url
	}
	return content, nil
}

// addThumbnail downloads the message's thumbnail and attaches it to info. A thumbnail
// is a nicety: failing to get or store one leaves the message without it; only a
// cancelled ctx is an error.
func (c *converter) addThumbnail(info *event.FileInfo) error {
	if c.media == nil || c.up == nil {
		return nil
	}
	m, err := c.media.Download(c.ctx, MediaThumb)
	if err != nil || m == nil || len(m.Data) == 0 {
		return c.ctx.Err()
	}
	mimeType := imageMime(m.Data, m.MimeType)
	if !strings.HasPrefix(mimeType, "image/") {
		return nil
	}
	url, file, err := c.up.Upload(c.ctx, m.Data, "thumbnail"+extForMime(mimeType), mimeType)
	if err != nil {
		return c.ctx.Err()
	}
	ti := &event.FileInfo{MimeType: mimeType, Size: len(m.Data)}
	ti.Width, ti.Height, _ = imageSize(m.Data)
	info.ThumbnailInfo = ti
	if file != nil {
		info.ThumbnailFile = file
	} else {
		info.ThumbnailURL = url
	}
	return nil
}

// ---------------------------------------------------------------------------------------
// Image (3)

func (c *converter) image(img *protoclient.Image) (*Converted, error) {
	f, err := c.fetch(MediaImage, "Image", img.Size)
	if err != nil || f.notice != nil {
		return f.result(err)
	}
	data := f.media.Data
	mimeType := imageMime(data, f.media.MimeType)
	if strings.HasPrefix(mimeType, "text/") {
		// An error page where the image should be.
		return single(phoneNotice("Image", "it could not be downloaded; open WeChat on your phone to see it")), nil
	}
	name := mediaName(f.media.FileName, "image", mimeType)
	content, err := c.mediaContent(event.MsgImage, data, name, mimeType)
	if err != nil {
		return nil, err
	}
	// The message's ImgWidth/ImgHeight are the thumbnail's (120×89 for a 52 KB image in
	// the captures): the decoded header is the truth, they are the fallback.
	if w, h, ok := imageSize(data); ok {
		content.Info.Width, content.Info.Height = w, h
	} else {
		content.Info.Width, content.Info.Height = img.Width, img.Height
	}
	content.Info.IsAnimated = mimeType == "image/gif"
	if err := c.addThumbnail(content.Info); err != nil {
		return nil, err
	}
	return single(content), nil
}

// ---------------------------------------------------------------------------------------
// Voice (34)

func (c *converter) voice(v *protoclient.Voice) (*Converted, error) {
	f, err := c.fetch(MediaVoice, "Voice message", v.Size)
	if err != nil || f.notice != nil {
		return f.result(err)
	}
	// webwxgetvoice serves MP3 (§4.14), labelled with aliases like audio/mp3 that not
	// every client knows; the bytes decide, then a server naming another format.
	mimeType := "audio/mpeg"
	if s := baseMime(http.DetectContentType(f.media.Data)); strings.HasPrefix(s, "audio/") {
		mimeType = s
	} else if s := baseMime(f.media.MimeType); strings.HasPrefix(s, "audio/") && !strings.Contains(s, "mp3") && !strings.Contains(s, "mpeg") {
		mimeType = s
	}
	content, err := c.mediaContent(event.MsgAudio, f.media.Data, "Voice message"+extForMime(mimeType), mimeType)
	if err != nil {
		return nil, err
	}
	content.Body = "Voice message"
	ms := clampInt(v.DurationMS)
	content.Info.Duration = ms
	content.MSC1767Audio = &event.MSC1767Audio{Duration: ms}
	content.MSC3245Voice = &event.MSC3245Voice{}
	return single(content), nil
}

func clampInt(v int64) int {
	const maxInt32 = 1<<31 - 1
	switch {
	case v < 0:
		return 0
	case v > maxInt32:
		return maxInt32
	}
	return int(v)
}

// ---------------------------------------------------------------------------------------
// Video (43, 62)

func (c *converter) video(v *protoclient.Video) (*Converted, error) {
	seconds, width, height := v.Seconds, v.Width, v.Height
	f, err := c.fetch(MediaVideo, "Video", v.Size)
	if err != nil || f.notice != nil {
		return f.result(err)
	}
	mimeType := "video/mp4"
	if s := baseMime(http.DetectContentType(f.media.Data)); strings.HasPrefix(s, "video/") {
		mimeType = s
	} else if s := baseMime(f.media.MimeType); strings.HasPrefix(s, "video/") {
		mimeType = s
	}
	name := mediaName(f.media.FileName, "video", mimeType)
	content, err := c.mediaContent(event.MsgVideo, f.media.Data, name, mimeType)
	if err != nil {
		return nil, err
	}
	if seconds > 0 && seconds < 1<<31/1000 {
		content.Info.Duration = int(seconds) * 1000
	}
	if width > 0 && height > 0 {
		content.Info.Width, content.Info.Height = width, height
	}
	if err := c.addThumbnail(content.Info); err != nil {
		return nil, err
	}
	return single(content), nil
}

// ---------------------------------------------------------------------------------------
// Stickers (47, 49/8)

// stickerBox is the largest a sticker is shown: Matrix clients draw stickers at their
// info size, and a 1000-pixel GIF filling the timeline is not what the sender saw.
const stickerBox = 256

func (c *converter) sticker(s *protoclient.Sticker) (*Converted, error) {
	unavailable := phoneNotice("Sticker", "")
	if s.Unavailable {
		return single(unavailable), nil
	}
	width, height := s.Width, s.Height
	f, err := c.fetch(MediaEmoticon, "Sticker", 0)
	if err != nil {
		return nil, err
	}
	if f.notice != nil {
		return single(unavailable), nil
	}
	data := f.media.Data
	mimeType := imageMime(data, f.media.MimeType)
	if !strings.HasPrefix(mimeType, "image/") {
		return single(unavailable), nil
	}
	url, file, err := c.upload(data, "sticker"+extForMime(mimeType), mimeType)
	if err != nil {
		return nil, err
	}
	if w, h, ok := imageSize(data); ok {
		width, height = w, h
	}
	width, height = fitBox(width, height, stickerBox)
	content := &event.MessageEventContent{
		Body:     "Sticker",
		Info:     &event.FileInfo{MimeType: mimeType, Size: len(data), Width: width, Height: height, IsAnimated: mimeType == "image/gif"},
		Mentions: &event.Mentions{},
	}
	if file != nil {
		content.File = file
	} else {
		content.URL = url
	}
	return &Converted{Parts: []*event.MessageEventContent{content}, Sticker: true}, nil
}

// fitBox scales w×h down to fit a box×box square, keeping the aspect ratio.
func fitBox(w, h, box int) (int, int) {
	if w <= 0 || h <= 0 {
		return 0, 0
	}
	if w <= box && h <= box {
		return w, h
	}
	if w >= h {
		return box, max(1, int(int64(h)*int64(box)/int64(w)))
	}
	return max(1, int(int64(w)*int64(box)/int64(h))), box
}

// ---------------------------------------------------------------------------------------
// Files (49/6)

func (c *converter) file(x *protoclient.File) (*Converted, error) {
	name, size := cleanFileName(x.Name), x.Size
	what := "File"
	if name != "" {
		what = "File " + name
	}
	f, err := c.fetch(MediaFile, what, size)
	if err != nil || f.notice != nil {
		return f.result(err)
	}
	if name == "" {
		name = cleanFileName(f.media.FileName)
	}
	if name == "" {
		name = "file"
	}
	mimeType := fileMime(name, f.media.MimeType, f.media.Data)
	content, err := c.mediaContent(event.MsgFile, f.media.Data, name, mimeType)
	if err != nil {
		return nil, err
	}
	return single(content), nil
}

// ---------------------------------------------------------------------------------------
// Types, names and sizes

// baseMime is a media type without parameters, lower case; "" when unparsable.
func baseMime(s string) string {
	if s == "" {
		return ""
	}
	t, _, err := mime.ParseMediaType(s)
	if err != nil {
		return ""
	}
	return strings.ToLower(t)
}

// imageMime: WeChat labels GIFs image/jpeg and sometimes sends no type, so the bytes
// decide when they look like an image; the server's word is next.
func imageMime(data []byte, server string) string {
	sniffed := baseMime(http.DetectContentType(data))
	if strings.HasPrefix(sniffed, "image/") {
		return sniffed
	}
	if s := baseMime(server); strings.HasPrefix(s, "image/") {
		return s
	}
	return sniffed
}

// fileMime: an attachment's name says most about it (a .docx sniffs as a zip), then the
// server unless it says nothing useful, then the bytes.
func fileMime(name, server string, data []byte) string {
	if t := mimeForExt(path.Ext(name)); t != "" {
		return t
	}
	if s := baseMime(server); s != "" && s != "application/octet-stream" {
		return s
	}
	return baseMime(http.DetectContentType(data))
}

// extMimes is the small table both directions use, so results do not depend on the
// host's /etc/mime.types for common kinds.
var extMimes = []struct{ ext, mime string }{
	{".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".png", "image/png"}, {".gif", "image/gif"},
	{".webp", "image/webp"}, {".heic", "image/heic"}, {".bmp", "image/bmp"},
	{".mp4", "video/mp4"}, {".mov", "video/quicktime"}, {".webm", "video/webm"},
	{".mp3", "audio/mpeg"}, {".ogg", "audio/ogg"}, {".opus", "audio/opus"}, {".m4a", "audio/mp4"},
	{".aac", "audio/aac"}, {".wav", "audio/wav"}, {".amr", "audio/amr"},
	{".pdf", "application/pdf"}, {".zip", "application/zip"}, {".txt", "text/plain"},
}

func extForMime(mimeType string) string {
	t := baseMime(mimeType)
	if t == "" || t == "application/octet-stream" {
		// Says nothing about the content; ".bin" would only hide the real name.
		return ""
	}
	for _, e := range extMimes {
		if e.mime == t {
			return e.ext
		}
	}
	if exts, err := mime.ExtensionsByType(t); err == nil && len(exts) > 0 {
		return exts[0]
	}
	return ""
}

func mimeForExt(ext string) string {
	ext = strings.ToLower(ext)
	if ext == "" {
		return ""
	}
	for _, e := range extMimes {
		if e.ext == ext {
			return e.mime
		}
	}
	return baseMime(mime.TypeByExtension(ext))
}

// cleanFileName keeps the last path element of a name from the network and drops
// control characters: a name is shown and used as a download name, never as a path.
func cleanFileName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.TrimSpace(name)
	if name == "." || name == ".." {
		return ""
	}
	return name
}

// mediaName is the server's file name when it gave one, else base plus the type's
// extension.
func mediaName(server, base, mimeType string) string {
	if n := cleanFileName(server); n != "" {
		return n
	}
	return base + extForMime(mimeType)
}

// imageSize reads the dimensions from an image's header: JPEG, PNG and GIF with the
// standard library, WebP from its RIFF header.
func imageSize(data []byte) (w, h int, ok bool) {
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width > 0 && cfg.Height > 0 {
		return cfg.Width, cfg.Height, true
	}
	return webpSize(data)
}

// webpSize reads the canvas size of a WebP file: the VP8X extended header, or the
// frame header of a simple lossy (VP8) or lossless (VP8L) file.
func webpSize(b []byte) (w, h int, ok bool) {
	if len(b) < 30 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return 0, 0, false
	}
	u24 := func(p []byte) int { return int(p[0]) | int(p[1])<<8 | int(p[2])<<16 }
	switch string(b[12:16]) {
	case "VP8X":
		return u24(b[24:27]) + 1, u24(b[27:30]) + 1, true
	case "VP8L":
		if b[20] != 0x2f {
			return 0, 0, false
		}
		bits := binary.LittleEndian.Uint32(b[21:25])
		return int(bits&0x3fff) + 1, int(bits>>14&0x3fff) + 1, true
	case "VP8 ":
		// Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
		if b[23] != 0x9d || b[24] != 0x01 || b[25] != 0x2a {
			return 0, 0, false
		}
		w = int(binary.LittleEndian.Uint16(b[26:28]) & 0x3fff)
		h = int(binary.LittleEndian.Uint16(b[28:30]) & 0x3fff)
		return w, h, w > 0 && h > 0
	}
	return 0, 0, false
}
