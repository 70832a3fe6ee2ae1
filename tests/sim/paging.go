// vimon-sim: paging for RetrievePropertiesEx (options.maxObjects, tokens, ContinueRetrievePropertiesEx).
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const pageTTL = 10 * time.Minute

// pageSet holds the objects still to be returned for one token.
type pageSet struct {
	head    []byte   // the reply up to and including <soapenv:Body>
	objects [][]byte // raw <objects>...</objects> elements, in order
	max     int
	created time.Time
	session string // the session key of the RetrievePropertiesEx ("" without one)
}

type span struct{ start, end int64 }

// splitObjects finds the <objects> children of the reply's returnval, the end offset of the
// <returnval> start tag and the offset of the <soapenv:Body> start tag's end (-1: none).
func splitObjects(reply []byte) (objs []span, retvalOpen int64, bodyOpen int64, err error) {
	retvalOpen, bodyOpen = -1, -1
	err = walkElements(reply, func(e *element, closed bool) {
		switch {
		case !closed && e.depth == 2 && e.name == "Body":
			bodyOpen = e.open
		case !closed && e.depth == 4 && e.name == "returnval":
			retvalOpen = e.open
		case closed && e.depth == 5 && e.name == "objects":
			objs = append(objs, span{e.start, e.end})
		}
	})
	if err != nil {
		return nil, -1, -1, err
	}
	return objs, retvalOpen, bodyOpen, nil
}

func newToken() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "vimon-sim-" + hex.EncodeToString(b)
}

// pageReply builds a ContinueRetrievePropertiesEx reply from the next page of ps.
func (s *simState) nextPage(token string, ps *pageSet, method string) []byte {
	n := ps.max
	if n > len(ps.objects) {
		n = len(ps.objects)
	}
	page := ps.objects[:n]
	ps.objects = ps.objects[n:]
	var out bytes.Buffer
	out.Write(ps.head)
	out.WriteString("<" + method + "Response xmlns=\"urn:vim25\"><returnval>")
	if len(ps.objects) > 0 {
		out.WriteString("<token>" + token + "</token>")
	} else {
		delete(s.pages, token)
	}
	for _, o := range page {
		out.Write(o)
	}
	out.WriteString("</returnval></" + method + "Response></soapenv:Body></soapenv:Envelope>")
	return out.Bytes()
}

func (s *simState) expirePages() {
	now := time.Now()
	for k, ps := range s.pages {
		if now.Sub(ps.created) > pageTTL {
			delete(s.pages, k)
		}
	}
}

// retrievePropertiesEx passes the call to the simulator and, when the reply has more objects than
// options.maxObjects, returns the first page with a token and keeps the rest.
func (s *simState) retrievePropertiesEx(w http.ResponseWriter, r *http.Request, body []byte) {
	max := 0
	if m, err := simulator.UnmarshalBody(types.TypeFunc(), body); err == nil {
		if req, ok := m.Body.(*types.RetrievePropertiesEx); ok {
			max = int(req.Options.MaxObjects)
		}
	}
	if max <= 0 {
		s.pass(w, r, body)
		return
	}
	rec := httptest.NewRecorder()
	s.pass(rec, r, body)
	reply := rec.Body.Bytes()
	copyHeader := func() {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
	}
	if rec.Code != http.StatusOK {
		copyHeader()
		w.WriteHeader(rec.Code)
		_, _ = w.Write(reply)
		return
	}
	objs, retvalOpen, bodyOpen, err := splitObjects(reply)
	if err != nil || len(objs) <= max || retvalOpen < 0 || bodyOpen < 0 {
		copyHeader()
		w.WriteHeader(rec.Code)
		_, _ = w.Write(reply)
		return
	}
	ps := &pageSet{head: append([]byte(nil), reply[:bodyOpen]...), max: max, created: time.Now(), session: sessionKey(r)}
	for _, o := range objs[max:] {
		ps.objects = append(ps.objects, append([]byte(nil), reply[o.start:o.end]...))
	}
	token := newToken()
	s.mu.Lock()
	s.expirePages()
	s.pages[token] = ps
	s.mu.Unlock()

	var out bytes.Buffer
	out.Write(reply[:retvalOpen])
	out.WriteString("<token>" + token + "</token>")
	out.Write(reply[objs[0].start:objs[max-1].end])
	out.Write(reply[objs[len(objs)-1].end:])
	copyHeader()
	w.Header().Set("Content-Length", fmt.Sprint(out.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out.Bytes())
}

// dropPages forgets the tokens of the given sessions. Called with s.mu held.
func (s *simState) dropPages(sessions map[string]bool) {
	for k, ps := range s.pages {
		if sessions[ps.session] {
			delete(s.pages, k)
		}
	}
}

// tokenOwner checks that the request may use the token: it was handed out in the request's
// session, and that session is still alive (a token made without a session needs none).
// It writes the fault and returns false otherwise.
func (s *simState) tokenOwner(w http.ResponseWriter, r *http.Request, this types.ManagedObjectReference, token string) bool {
	s.mu.Lock()
	ps := s.pages[token]
	s.mu.Unlock()
	if ps == nil {
		writeFault(w, fmt.Sprintf("unknown or expired token %q", token), &types.InvalidArgument{InvalidProperty: "token"})
		return false
	}
	if ps.session == "" {
		return true
	}
	if !s.requireSession(w, r, this) {
		return false
	}
	if sessionKey(r) != ps.session {
		writeFault(w, fmt.Sprintf("unknown or expired token %q", token), &types.InvalidArgument{InvalidProperty: "token"})
		return false
	}
	return true
}

func (s *simState) continueRetrieve(w http.ResponseWriter, r *http.Request, body []byte) {
	m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		writeFault(w, err.Error(), new(types.InvalidRequest))
		return
	}
	req := m.Body.(*types.ContinueRetrievePropertiesEx)
	if !s.tokenOwner(w, r, req.This, req.Token) {
		return
	}
	s.mu.Lock()
	ps := s.pages[req.Token]
	var out []byte
	if ps != nil {
		out = s.nextPage(req.Token, ps, "ContinueRetrievePropertiesEx")
	}
	s.mu.Unlock()
	if ps == nil {
		writeFault(w, fmt.Sprintf("unknown or expired token %q", req.Token), &types.InvalidArgument{InvalidProperty: "token"})
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

func (s *simState) cancelRetrieve(w http.ResponseWriter, r *http.Request, body []byte) {
	m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		writeFault(w, err.Error(), new(types.InvalidRequest))
		return
	}
	req := m.Body.(*types.CancelRetrievePropertiesEx)
	if !s.tokenOwner(w, r, req.This, req.Token) {
		return
	}
	s.mu.Lock()
	_, ok := s.pages[req.Token]
	delete(s.pages, req.Token)
	s.mu.Unlock()
	if !ok {
		writeFault(w, fmt.Sprintf("unknown or expired token %q", req.Token), &types.InvalidArgument{InvalidProperty: "token"})
		return
	}
	writeResult(w, new(types.CancelRetrievePropertiesExResponse))
}
