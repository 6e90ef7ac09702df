package wxsim

import (
	"embed"
	"io/fs"
	"net/http"
)

// The phone page: a small web page, served at /_wxsim/phone/, that plays the user's phone
// for demos and browser tests. It is plain HTML, CSS and JavaScript (phone/), talks only to
// the control API under /_wxsim/v1/ and builds its DOM with textContent, never with markup
// taken from data.

const phonePath = "/_wxsim/phone/"

//go:embed phone
var phoneFiles embed.FS

func phoneHandler() http.Handler {
	sub, err := fs.Sub(phoneFiles, "phone")
	if err != nil {
		panic(err) // the embedded directory is part of the binary
	}
	files := http.StripPrefix(phonePath, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Only the page's own script and styles run, whatever a contact is called; images
		// come from the page itself or from data: URLs it makes.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
