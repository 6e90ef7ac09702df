package bridge

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	"maunium.net/go/mautrix"
)

func TestTransientMatrixError(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{fmt.Errorf("send: %w", mautrix.HTTPError{WrappedError: refused}), true},
		{mautrix.HTTPError{Response: &http.Response{StatusCode: 502}}, true},
		{mautrix.HTTPError{Response: &http.Response{StatusCode: 429}}, true},
		{mautrix.HTTPError{Response: &http.Response{StatusCode: 403}}, false},
		{fmt.Errorf("wrapped: %w", refused), true},
		{errors.New("failed to convert message"), false},
	}
	for _, c := range cases {
		if got := transientMatrixError(c.err); got != c.want {
			t.Errorf("transientMatrixError(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
