// vimon-sim: WaitForUpdatesEx options.maxObjectUpdates (truncated update sets, rest on the next call).
package main

import (
	"bytes"
	"fmt"
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

// pendingUpdates is what is left of a truncated update set for one session's property collector.
type pendingUpdates struct {
	head    []byte // the reply up to the content of <version>
	mid     []byte // from the end of the version's content up to the first <filterSet>
	final   []byte // the simulator's version (raw), which the last chunk carries
	suffix  []byte // the reply after the last </filterSet>
	groups  []*filterGroup
	expect  string // the version the next WaitForUpdatesEx must pass: the last chunk's
	session string // the session key
}

func (p *pendingUpdates) left() int {
	n := 0
	for _, g := range p.groups {
		n += len(g.objects)
	}
	return n
}

// splitUpdates parses a WaitForUpdatesEx reply into its filter groups (nil: no filterSet).
func splitUpdates(reply []byte) (*pendingUpdates, error) {
	p := &pendingUpdates{}
	var g *filterGroup
	var firstFS, lastFSEnd, verOpen, verClose int64 = -1, -1, -1, -1
	var fsStart int64
	err := walkElements(reply, func(e *element, closed bool) {
		// Envelope=1 Body=2 Response=3 returnval=4 version/filterSet=5 filter/objectSet/missingSet=6
		switch {
		case e.depth == 5 && e.name == "version" && closed && firstFS < 0:
			verOpen, verClose = e.open, e.close
		case e.depth == 5 && e.name == "filterSet" && !closed:
			if firstFS < 0 {
				firstFS = e.start
			}
			g = &filterGroup{}
			fsStart = e.start
		case e.depth == 5 && e.name == "filterSet" && closed && g != nil:
			p.groups = append(p.groups, g)
			g = nil
			lastFSEnd = e.end
		case e.depth == 6 && g != nil && !closed && e.name == "filter" && g.open == nil:
			g.open = append([]byte(nil), reply[fsStart:e.start]...)
		case e.depth == 6 && g != nil && closed:
			piece := append([]byte(nil), reply[e.start:e.end]...)
			switch e.name {
			case "filter":
				g.filter = piece
			case "objectSet":
				g.objects = append(g.objects, piece)
			case "missingSet":
				g.missing = append(g.missing, piece...)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if firstFS < 0 || verOpen < 0 {
		return nil, nil
	}
	p.head = append([]byte(nil), reply[:verOpen]...)
	p.final = append([]byte(nil), reply[verOpen:verClose]...)
	p.mid = append([]byte(nil), reply[verClose:firstFS]...)
	p.suffix = append([]byte(nil), reply[lastFSEnd:]...)
	return p, nil
}

// chunk takes up to max objectSets (max <= 0: all) and renders them as a reply. A chunk that
// leaves objects behind is truncated and carries the version next (p.expect becomes next);
// the last chunk carries the simulator's own version.
func (p *pendingUpdates) chunk(max int, next string) []byte {
	var body bytes.Buffer
	taken := 0
	var rest []*filterGroup
	for _, g := range p.groups {
		n := len(g.objects)
		if max > 0 && taken+n > max {
			n = max - taken
		}
		if n > 0 || (!g.emitted && len(g.missing) > 0) {
			body.Write(g.open)
			body.Write(g.filter)
			for _, o := range g.objects[:n] {
				body.Write(o)
			}
			if !g.emitted {
				body.Write(g.missing)
				g.emitted = true
			}
			body.WriteString("</filterSet>")
		}
		taken += n
		g.objects = g.objects[n:]
		if len(g.objects) > 0 {
			rest = append(rest, g)
		}
	}
	p.groups = rest
	var out bytes.Buffer
	out.Write(p.head)
	if len(rest) > 0 {
		out.WriteString(next) // made by waitForUpdatesEx: nothing to escape
		p.expect = next
	} else {
		out.Write(p.final)
	}
	out.Write(p.mid)
	out.Write(body.Bytes())
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

// updatesKey names a session's property collector: truncated update sets are kept per
// session and collector (a client may wait on several collectors, e.g. a private one per task).
func updatesKey(session string, pc types.ManagedObjectReference) string {
	return session + " " + pc.Value
}

// dropUpdates forgets the truncated update sets of the given sessions. Called with s.mu held.
func (s *simState) dropUpdates(sessions map[string]bool) {
	for k, p := range s.updates {
		if sessions[p.session] {
			delete(s.updates, k)
		}
	}
}

// dropCollectorUpdates forgets the truncated update set pending for the session and collector
// of a WaitForUpdatesEx request (the client starts over after InvalidCollectorVersion).
func (s *simState) dropCollectorUpdates(r *http.Request, body []byte) {
	m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		return
	}
	if req, ok := m.Body.(*types.WaitForUpdatesEx); ok {
		s.mu.Lock()
		delete(s.updates, updatesKey(sessionKey(r), req.This))
		s.mu.Unlock()
	}
}

// waitForUpdatesEx serves the rest of a truncated update set, or passes the call to the
// simulator and truncates its reply to options.maxObjectUpdates objects.
func (s *simState) waitForUpdatesEx(w http.ResponseWriter, r *http.Request, body []byte) {
	max := 0
	var req *types.WaitForUpdatesEx
	if m, err := simulator.UnmarshalBody(types.TypeFunc(), body); err == nil {
		req, _ = m.Body.(*types.WaitForUpdatesEx)
	}
	if req == nil {
		s.pass(w, r, body)
		return
	}
	if req.Options != nil {
		max = int(req.Options.MaxObjectUpdates)
	}
	session := sessionKey(r)
	key := updatesKey(session, req.This)
	if session != "" {
		s.mu.Lock()
		p := s.updates[key]
		s.mu.Unlock()
		if p != nil {
			// The session first: a chunk is not handed to an expired session.
			if !s.hasSession(r) {
				s.mu.Lock()
				delete(s.updates, key)
				s.mu.Unlock()
				writeFault(w, "", &types.NotAuthenticated{NoPermission: types.NoPermission{Object: req.This, PrivilegeId: "System.View"}})
				return
			}
			var out []byte
			bad := false
			s.mu.Lock()
			if p = s.updates[key]; p != nil {
				switch req.Version {
				case p.expect:
					out = p.chunk(max, s.newVersion())
					if p.left() == 0 {
						delete(s.updates, key)
					}
				case "": // starting over: the simulator sends the whole set again
					delete(s.updates, key)
					p = nil
				default:
					delete(s.updates, key)
					bad = true
				}
			}
			s.mu.Unlock()
			if bad {
				writeFault(w, fmt.Sprintf("version %q is not the last truncated update set's", req.Version),
					new(types.InvalidCollectorVersion))
				return
			}
			if p != nil {
				w.Header().Set("Content-Type", "text/xml; charset=utf-8")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write(out)
				return
			}
		}
	}
	// A collector that gets churn waits in slices (see churn.go).
	if session != "" && s.churnWatched(key) {
		s.waitWithChurn(w, r, body, req, key, session, max)
		return
	}
	if max <= 0 || session == "" {
		s.pass(w, r, body)
		return
	}
	rec := httptest.NewRecorder()
	s.pass(rec, r, body)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	s.serveUpdates(w, key, session, max, rec.Code, rec.Body.Bytes())
}

// serveUpdates writes a WaitForUpdatesEx reply, cut to max objects (the rest kept for the
// next call on that session and collector) when it has more.
func (s *simState) serveUpdates(w http.ResponseWriter, key, session string, max, code int, reply []byte) {
	p, err := splitUpdates(reply)
	if max <= 0 || code != http.StatusOK || err != nil || p == nil || p.left() <= max {
		w.WriteHeader(code)
		_, _ = w.Write(reply)
		return
	}
	p.session = session
	s.mu.Lock()
	out := p.chunk(max, s.newVersion())
	s.updates[key] = p
	s.mu.Unlock()
	w.Header().Set("Content-Length", fmt.Sprint(len(out)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// newVersion makes the version of a truncated chunk. Called with s.mu held.
func (s *simState) newVersion() string {
	s.updateSeq++
	return fmt.Sprintf("vimon-sim-%d", s.updateSeq)
}
