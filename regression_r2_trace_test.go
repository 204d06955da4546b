package httpcache

import (
	"context"
	"net/http/httptrace"
	"net/textproto"
)

func withGot1xx(ctx context.Context, f func(int, map[string][]string)) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error { f(code, h); return nil },
	})
}
