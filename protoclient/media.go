package protoclient

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Upload is a file to upload with UploadMedia.
type Upload struct {
	To       UserName // the chat it is for
	FileName string
	MimeType string // e.g. image/jpeg; empty = application/octet-stream
	Data     io.ReaderAt
	Size     int64
}

// UploadResult is what a send needs after an upload.
type UploadResult struct {
	MediaID   string
	Signature string
	AESKey    string
	MD5       string
	Size      int64
}

// mediaTypeField is the upload form's mediatype: pic for jpg/png/bmp, video for mp4,
// doc for everything else, GIF included (official uploader, §4.13).
func mediaTypeField(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".jpg", ".jpeg", ".png", ".bmp":
		return "pic"
	case ".mp4":
		return "video"
	default:
		return "doc"
	}
}

// UploadMedia uploads a file to the file host in 512 KiB chunks, sent one after the
// other as the official uploader does; files over 25 MiB are announced with
// webwxcheckupload first, which may answer that the server already has them.
func (c *Client) UploadMedia(ctx context.Context, up Upload) (*UploadResult, error) {
	if err := c.requireLogin(); err != nil {
		return nil, err
	}
	if up.Size <= 0 {
		return nil, errors.New("protoclient: refusing to upload an empty file (WeChat does not allow it)")
	}
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(up.Data, 0, up.Size)); err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	res := &UploadResult{MD5: hex.EncodeToString(h.Sum(nil)), Size: up.Size}
	if up.Size > CheckUploadMinBytes {
		var cr CheckUploadResponse
		err := c.postJSON(ctx, roleWeb, "webwxcheckupload", nil, CheckUploadRequest{
			BaseRequest: c.baseRequest(), FileMd5: res.MD5, FileName: up.FileName, FileSize: up.Size,
			FileType: FileTypeBigFile, FromUserName: c.SelfUserName(), ToUserName: up.To,
		}, &cr)
		if err != nil {
			return nil, err
		}
		res.AESKey, res.Signature = cr.AESKey, cr.Signature
		if cr.MediaId != "" {
			res.MediaID = cr.MediaId
			return res, nil
		}
	}
	ctype := up.MimeType
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	reqJSON, err := encodeJSON(UploadMediaRequest{
		UploadType: 2, BaseRequest: c.baseRequest(), ClientMediaId: FlexString(nowMillis()),
		TotalLen: up.Size, StartPos: 0, DataLen: up.Size, MediaType: UploadMediaTypeAtt,
		FromUserName: c.SelfUserName(), ToUserName: up.To, FileMd5: res.MD5,
		AESKey: res.AESKey, Signature: res.Signature,
	})
	if err != nil {
		return nil, err
	}
	fileURL := c.roleURL(roleFile, "/", nil)
	dataTicket := c.jar.Value(fileURL, "webwx_data_ticket")
	passTicket, _ := url.QueryUnescape(c.passTicket())
	chunks := int((up.Size + ChunkSize - 1) / ChunkSize)
	for i := range chunks {
		start := int64(i) * ChunkSize
		n := min(int64(ChunkSize), up.Size-start)
		fields := [][2]string{
			{"id", "WU_FILE_0"},
			{"name", up.FileName},
			{"type", ctype},
			{"lastModifiedDate", time.Now().Format("Mon Jan 02 2006 15:04:05 GMT-0700 (MST)")},
			{"size", strconv.FormatInt(up.Size, 10)},
		}
		if chunks > 1 {
			fields = append(fields, [2]string{"chunks", strconv.Itoa(chunks)}, [2]string{"chunk", strconv.Itoa(i)})
		}
		fields = append(fields,
			[2]string{"mediatype", mediaTypeField(up.FileName)},
			[2]string{"uploadmediarequest", string(reqJSON)},
			[2]string{"webwx_data_ticket", dataTicket},
			[2]string{"pass_ticket", passTicket},
		)
		ur, err := c.uploadChunk(ctx, fields, up.FileName, ctype, io.NewSectionReader(up.Data, start, n))
		if err != nil {
			return nil, fmt.Errorf("upload chunk %d/%d: %w", i+1, chunks, err)
		}
		if ur.MediaId != "" {
			res.MediaID = ur.MediaId
		}
	}
	if res.MediaID == "" {
		return nil, fmt.Errorf("%w: webwxuploadmedia gave no MediaId", ErrMalformed)
	}
	return res, nil
}

func (c *Client) uploadChunk(ctx context.Context, fields [][2]string, name, ctype string, data io.Reader) (*UploadMediaResponse, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, err
		}
	}
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="filename"; filename=%q`, name))
	hdr.Set("Content-Type", ctype)
	part, err := w.CreatePart(hdr)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(part, data); err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	q := query{}
	q.Set("f", "json")
	ctx, cancel := context.WithTimeout(ctx, c.opts.APITimeout)
	defer cancel()
	req, err := newRequest(ctx, http.MethodPost, c.roleURL(roleFile, cgi("webwxuploadmedia"), q), &body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Origin", "https://"+c.Hosts().Web)
	var res UploadMediaResponse
	if err := c.doJSON(req, "webwxuploadmedia", decodeInto("webwxuploadmedia", &res)); err != nil {
		return nil, err
	}
	return &res, nil
}

// Media is a download in progress. Body must be closed; it fails with *TooLargeError
// if the server sends more than the cap, even when it announced less.
type Media struct {
	Body        io.ReadCloser
	ContentType string
	Size        int64 // -1 when the server did not say
	FileName    string
}

// ImageVariant selects what webwxgetmsgimg returns.
type ImageVariant string

const (
	ImageFull  ImageVariant = ""
	ImageThumb ImageVariant = "slave"
	ImageBig   ImageVariant = "big" // emoticons
)

// DownloadImage streams an image or emoticon (or the thumbnail of a video or link).
func (c *Client) DownloadImage(ctx context.Context, msgID string, variant ImageVariant, maxBytes int64) (*Media, error) {
	q := query{}
	q.Set("MsgID", msgID)
	q.Set("skey", c.skey())
	if variant != "" {
		q.Set("type", string(variant))
	}
	u := c.roleURL(roleWeb, cgi("webwxgetmsgimg"), q)
	u.RawQuery = "&" + u.RawQuery // the official client's "?&MsgID=…" (§9.9)
	return c.download(ctx, u, "webwxgetmsgimg", maxBytes, false)
}

// DownloadVoice streams a voice message (mp3).
func (c *Client) DownloadVoice(ctx context.Context, msgID string, maxBytes int64) (*Media, error) {
	q := query{}
	q.Set("msgid", msgID)
	q.Set("skey", c.skey())
	return c.download(ctx, c.roleURL(roleWeb, cgi("webwxgetvoice"), q), "webwxgetvoice", maxBytes, true)
}

// DownloadVideo streams a video; the server insists on a Range header (§4.14).
func (c *Client) DownloadVideo(ctx context.Context, msgID string, maxBytes int64) (*Media, error) {
	q := query{}
	q.Set("msgid", msgID)
	q.Set("skey", c.skey())
	return c.download(ctx, c.roleURL(roleWeb, cgi("webwxgetvideo"), q), "webwxgetvideo", maxBytes, true)
}

// DownloadFile streams an attachment (AppMsgType 6) from the file host.
func (c *Client) DownloadFile(ctx context.Context, f *File, maxBytes int64) (*Media, error) {
	fileURL := c.roleURL(roleFile, "/", nil)
	q := query{}
	q.Set("sender", string(f.sender))
	q.Set("mediaid", f.mediaID)
	q.Set("encryfilename", f.encryFileName)
	q.Set("fromuser", strconv.FormatInt(c.Uin(), 10))
	q.Set("pass_ticket", c.passTicket())
	q.Set("webwx_data_ticket", c.jar.Value(fileURL, "webwx_data_ticket"))
	m, err := c.download(ctx, c.roleURL(roleFile, cgi("webwxgetmedia"), q), "webwxgetmedia", maxBytes, false)
	if err == nil && m.FileName == "" {
		m.FileName = f.Name
	}
	return m, err
}

// DownloadAvatar streams a contact's or group's avatar. headImgURL is the relative
// HeadImgUrl of a contact; only webwxgeticon/webwxgetheadimg paths on the session's
// web host are fetched, so a URL inside a message can never point the bridge elsewhere.
func (c *Client) DownloadAvatar(ctx context.Context, headImgURL string, maxBytes int64) (*Media, error) {
	u, err := url.Parse(headImgURL)
	if err != nil {
		return nil, fmt.Errorf("%w: avatar URL", ErrMalformed)
	}
	if (u.Host != "" && !strings.EqualFold(u.Hostname(), c.Hosts().Web)) ||
		(u.Path != cgi("webwxgeticon") && u.Path != cgi("webwxgetheadimg")) {
		return nil, fmt.Errorf("protoclient: refusing to fetch avatar from %q", u.Host+u.Path)
	}
	// The URL is fetched as WeChat gave it (as a browser's <img> would), with the
	// session's skey filled in where it has none (group avatars come with "skey=").
	target := c.roleURL(roleWeb, u.Path, nil)
	target.RawQuery = fillEmpty(u.RawQuery, "skey", c.skey())
	return c.download(ctx, target, strings.TrimPrefix(u.Path, cgiPath), maxBytes, false)
}

// download has no overall timeout (large files take long); ctx bounds it.
func (c *Client) download(ctx context.Context, u *url.URL, endpoint string, maxBytes int64, rangeHeader bool) (*Media, error) {
	if err := c.requireLogin(); err != nil {
		return nil, err
	}
	req, err := newRequest(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	if rangeHeader {
		req.Header.Set("Range", "bytes=0-")
	}
	resp, err := c.do(req, endpoint)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		resp.Body.Close()
		return nil, &HTTPError{Endpoint: endpoint, StatusCode: resp.StatusCode}
	}
	size := resp.ContentLength
	if resp.StatusCode == http.StatusPartialContent {
		if total := contentRangeTotal(resp.Header.Get("Content-Range")); total >= 0 {
			size = total
		}
	}
	if maxBytes > 0 && size > maxBytes {
		resp.Body.Close()
		return nil, &TooLargeError{Limit: maxBytes, Size: size}
	}
	// A JSON body instead of media is the server refusing (e.g. a dead session).
	ct := resp.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "text/plain") || strings.HasPrefix(ct, "application/json") {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		var pr plainResponse
		if json.Unmarshal(b, &pr) == nil {
			if err := retError(endpoint, pr.BaseResponse); err != nil {
				return nil, err
			}
		}
		// A text file: hand the bytes on.
		return &Media{Body: io.NopCloser(bytes.NewReader(b)), ContentType: ct, Size: int64(len(b)), FileName: dispositionName(resp.Header)}, nil
	}
	body := resp.Body
	if maxBytes > 0 {
		body = &cappedBody{rc: resp.Body, left: maxBytes, limit: maxBytes}
	}
	return &Media{Body: body, ContentType: ct, Size: size, FileName: dispositionName(resp.Header)}, nil
}

func contentRangeTotal(h string) int64 {
	_, total, ok := strings.Cut(h, "/")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(total), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func dispositionName(h http.Header) string {
	cd := h.Get("Content-Disposition")
	if cd == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(cd)
	if err != nil {
		return ""
	}
	return params["filename"]
}

// cappedBody reads at most limit bytes and fails, rather than truncating silently, when
// the server sends more.
type cappedBody struct {
	rc          io.ReadCloser
	left, limit int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, &TooLargeError{Limit: b.limit, Size: -1}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }
