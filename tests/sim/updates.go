// vimon-sim: WaitForUpdatesEx options.maxObjectUpdates (truncated update sets, rest on the next call).
package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// filterGroup is one <filterSet> of an update set, as raw XML pieces.
type filterGroup struct {
	open    []byte   // "<filterSet>" up to (not including) <filter>
	filter  []byte   // "<filter ...>...</filter>"
	objects [][]byte // "<objectSet>...</objectSet>" elements
	missing []byte   // all "<missingSet>" elements
	emitted bool     // missingSet already sent
}

// pendingUpdates is what is left of a truncated update set for one session.
type pendingUpdates struct {
	prefix []byte // the reply up to the first <filterSet>
	suffix []byte // the reply after the last </filterSet>
	groups []*filterGroup
}

func (p *pendingUpdates) left() int {
	n := 0
	for _, g := range p.groups {
		n += len(g.objects)
	}
	return n
}

// splitUpdates parses a WaitForUpdatesEx reply into its filter groups.
func splitUpdates(reply []byte) (*pendingUpdates, error) {
	d := xml.NewDecoder(bytes.NewReader(reply))
	depth := 0
	p := &pendingUpdates{}
	var g *filterGroup
	var start, firstFS, lastFSEnd int64 = 0, -1, -1
	for {
		pos := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			// Envelope=1 Body=2 Response=3 returnval=4 filterSet=5 filter/objectSet/missingSet=6
			if depth == 5 && t.Name.Local == "filterSet" {
				if firstFS < 0 {
					firstFS = pos
				}
				g = &filterGroup{}
				start = pos
			}
			if depth == 6 && g != nil {
				if t.Name.Local == "filter" && g.open == nil {
					g.open = append([]byte(nil), reply[start:pos]...)
				}
				start = pos
			}
		case xml.EndElement:
			if depth == 6 && g != nil {
				piece := append([]byte(nil), reply[start:d.InputOffset()]...)
				switch t.Name.Local {
				case "filter":
					g.filter = piece
				case "objectSet":
					g.objects = append(g.objects, piece)
				case "missingSet":
					g.missing = append(g.missing, piece...)
				}
			}
			if depth == 5 && t.Name.Local == "filterSet" && g != nil {
				p.groups = append(p.groups, g)
				g = nil
				lastFSEnd = d.InputOffset()
			}
			depth--
		}
	}
	if firstFS < 0 {
		return nil, nil
	}
	p.prefix = append([]byte(nil), reply[:firstFS]...)
	p.suffix = append([]byte(nil), reply[lastFSEnd:]...)
	return p, nil
}

// chunk takes up to max objectSets (max <= 0: all) and renders them as a reply.
func (p *pendingUpdates) chunk(max int) []byte {
	var out bytes.Buffer
	out.Write(p.prefix)
	taken := 0
	var rest []*filterGroup
	for _, g := range p.groups {
		n := len(g.objects)
		if max > 0 && taken+n > max {
			n = max - taken
		}
		if n > 0 || (!g.emitted && len(g.missing) > 0) {
			out.Write(g.open)
			out.Write(g.filter)
			for _, o := range g.objects[:n] {
				out.Write(o)
			}
			if !g.emitted {
				out.Write(g.missing)
				g.emitted = true
			}
			out.WriteString("</filterSet>")
		}
		taken += n
		g.objects = g.objects[n:]
		if len(g.objects) > 0 {
			rest = append(rest, g)
		}
	}
	p.groups = rest
	if len(rest) > 0 {
		out.WriteString("<truncated>true</truncated>")
	}
	out.Write(p.suffix)
	return out.Bytes()
}

func sessionKey(r *http.Request) string {
	if c, err := r.Cookie(soap.SessionCookieName); err == nil {
		return c.Value
	}
	return ""
}

// waitForUpdatesEx serves the rest of a truncated update set, or passes the call to the
// simulator and truncates its reply to options.maxObjectUpdates objects.
func (s *simState) waitForUpdatesEx(w http.ResponseWriter, r *http.Request, body []byte) {
	max := 0
	if m, err := simulator.UnmarshalBody(types.TypeFunc(), body); err == nil {
		if req, ok := m.Body.(*types.WaitForUpdatesEx); ok && req.Options != nil {
			max = int(req.Options.MaxObjectUpdates)
		}
	}
	key := sessionKey(r)
	if key != "" {
		s.mu.Lock()
		p := s.updates[key]
		var out []byte
		if p != nil {
			out = p.chunk(max)
			if p.left() == 0 {
				delete(s.updates, key)
			}
		}
		s.mu.Unlock()
		if p != nil {
			if !s.hasSession(r) {
				s.mu.Lock()
				delete(s.updates, key)
				s.mu.Unlock()
				writeFault(w, "", &types.NotAuthenticated{NoPermission: types.NoPermission{PrivilegeId: "System.View"}})
				return
			}
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(out)
			return
		}
	}
	if max <= 0 || key == "" {
		s.pass(w, r, body)
		return
	}
	rec := httptest.NewRecorder()
	s.pass(rec, r, body)
	reply := rec.Body.Bytes()
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	p, err := splitUpdates(reply)
	if rec.Code != http.StatusOK || err != nil || p == nil || p.left() <= max {
		w.WriteHeader(rec.Code)
		_, _ = w.Write(reply)
		return
	}
	out := p.chunk(max)
	if p.left() > 0 {
		s.mu.Lock()
		s.updates[key] = p
		s.mu.Unlock()
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(out)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}
