package httpcache

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A plain-HTTP client that names https in an absolute-form target makes the
// cache key the request as https. A handler that redirects plain HTTP to
// https (on r.TLS, as almost all do) has that 301 stored under the https key:
// every https client is then redirected to itself, forever.
func TestRegression5AbsoluteFormSchemePoisonsHTTPSKey(t *testing.T) {
	t.Parallel()
	c := New(WithTTL(time.Hour))
	defer c.Close()
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			http.Redirect(w, r, "https://"+r.Host+r.URL.RequestURI(), http.StatusMovedPermanently)
			return
		}
		io.WriteString(w, "secure page")
	})
	h := c.Handler(app)
	tlsSrv := httptest.NewTLSServer(h)
	defer tlsSrv.Close()
	plainSrv := httptest.NewServer(h)
	defer plainSrv.Close()
	tlsHost := strings.TrimPrefix(tlsSrv.URL, "https://")

	// The attacker, over plain HTTP, asks for the https URL in absolute form.
	conn, err := net.Dial("tcp", strings.TrimPrefix(plainSrv.URL, "http://"))
	require.NoError(t, err)
	fmt.Fprintf(conn, "GET https://%s/account HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", tlsHost, tlsHost)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	conn.Close()
	require.Equal(t, http.StatusMovedPermanently, resp.StatusCode)

	// A real https client.
	client := tlsSrv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err = client.Get(tlsSrv.URL + "/account")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "https client got %q (Cache-Status %q, Location %q)",
		body, resp.Header.Get("Cache-Status"), resp.Header.Get("Location"))
	assert.Equal(t, "secure page", string(body))
}
