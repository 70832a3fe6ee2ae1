// vimon-sim: -gzip, gzip-compressed SOAP replies for clients that send Accept-Encoding: gzip.
package main

import (
	"compress/gzip"
	"net/http"
	"strings"
)

// gzipWriter compresses everything written through it.
type gzipWriter struct {
	http.ResponseWriter
	gz          *gzip.Writer
	wroteHeader bool
}

func (g *gzipWriter) WriteHeader(code int) {
	if g.wroteHeader {
		return
	}
	g.wroteHeader = true
	h := g.ResponseWriter.Header()
	h.Del("Content-Length")
	h.Set("Content-Encoding", "gzip")
	h.Add("Vary", "Accept-Encoding")
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "text/xml; charset=utf-8")
	}
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(p []byte) (int, error) {
	if !g.wroteHeader {
		g.WriteHeader(http.StatusOK)
	}
	return g.gz.Write(p)
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		f := strings.Split(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(f[0]), "gzip") {
			if len(f) > 1 && strings.ReplaceAll(strings.TrimSpace(f[1]), " ", "") == "q=0" {
				return false
			}
			return true
		}
	}
	return false
}

// withGzip runs fn with a compressing writer when the client accepts gzip.
func withGzip(w http.ResponseWriter, r *http.Request, fn func(http.ResponseWriter)) {
	if !acceptsGzip(r) {
		fn(w)
		return
	}
	gw := &gzipWriter{ResponseWriter: w, gz: gzip.NewWriter(w)}
	fn(gw)
	if !gw.wroteHeader {
		gw.WriteHeader(http.StatusOK)
	}
	_ = gw.gz.Close()
}
