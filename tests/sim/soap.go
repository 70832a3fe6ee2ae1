// vimon-sim: the HTTP handler in front of govmomi's simulator: stats, injected faults, added SOAP methods.
package main

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/ioutil"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	vxml "github.com/vmware/govmomi/vim25/xml"
)

const maxRequest = 64 << 20

// simState is the whole simulator: the inner govmomi handler plus what vimon-sim adds.
type simState struct {
	model  *simulator.Model
	client *vim25.Client
	inner  http.Handler

	mu        sync.Mutex
	calls     map[string]int64
	bytesIn   int64 // SOAP request bodies received
	bytesOut  int64 // SOAP reply bodies sent (compressed when gzip)
	faults    []*fault
	sessions  map[string]bool
	questions map[string]*question // by VM moref value
	blocked   map[string]*blockedTask
	armed     map[string]*pendingQuestion // by VM moref value: raised during its next task
	guest     map[string]*guestBehaviour  // by VM moref value
	pages     map[string]*pageSet
	updates   map[string]*pendingUpdates // by updatesKey (session and collector)
	updateSeq int                        // numbers the versions of truncated chunks
	churn     *churnState
	nextID    int

	strictAuth bool // -strict-auth (default), off with -lenient-auth
	gzip       bool // -gzip (default)
}

func newSimState(m *simulator.Model, client *vim25.Client) *simState {
	svc := m.Service
	svc.Listen = &url.URL{Scheme: "http", Host: "127.0.0.1", Path: "/sdk", User: simulator.DefaultLogin}
	svc.RegisterSDK(simulator.Map)
	mux := svc.ServeMux
	mux.HandleFunc(simulator.Map.Path+"/vimServiceVersions.xml", svc.ServiceVersions)
	return &simState{
		model:     m,
		client:    client,
		inner:     mux,
		calls:     make(map[string]int64),
		sessions:  make(map[string]bool),
		questions: make(map[string]*question),
		blocked:   make(map[string]*blockedTask),
		armed:     make(map[string]*pendingQuestion),
		guest:     make(map[string]*guestBehaviour),
		pages:     make(map[string]*pageSet),
		updates:   make(map[string]*pendingUpdates),
		churn:     newChurnState(),
	}
}

// setURL tells the simulator where it is served (the SessionManager reads Listen on Login).
func (s *simState) setURL(u *url.URL) {
	v := *u
	v.User = simulator.DefaultLogin
	s.model.Service.Listen = &v
	simulator.Map.SessionManager().ServiceHostName = u.Host
}

func (s *simState) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.control(w, r)
		return
	}
	if r.Method == http.MethodPost && (r.URL.Path == "/sdk" || r.URL.Path == "/sdk/vimService") {
		cw := &countWriter{ResponseWriter: w}
		s.serveSOAP(cw, r)
		s.mu.Lock()
		s.bytesOut += cw.n
		s.mu.Unlock()
		return
	}
	s.inner.ServeHTTP(w, r)
}

// methodName returns the local name of the first element inside the SOAP Body.
func methodName(body []byte) string {
	d := xml.NewDecoder(bytes.NewReader(body))
	inBody := false
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			if inBody {
				return se.Name.Local
			}
			if se.Name.Local == "Body" {
				inBody = true
			}
		}
	}
}

// versionedWait matches a WaitForUpdatesEx request that passes a non-empty version.
var versionedWait = regexp.MustCompile(`<([A-Za-z0-9_]+:)?version>[^<]`)

func (s *simState) serveSOAP(w http.ResponseWriter, r *http.Request) {
	body, err := ioutil.ReadAll(io.LimitReader(r.Body, maxRequest))
	_ = r.Body.Close()
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	name := methodName(body)

	s.mu.Lock()
	s.bytesIn += int64(len(body))
	if name != "" {
		s.calls[name]++
	}
	delay, f := s.takeFault(name, name == "WaitForUpdatesEx" && versionedWait.Match(body))
	s.mu.Unlock()

	if delay > 0 {
		time.Sleep(delay)
	}
	if f != nil {
		switch f.Kind {
		case "soap-fault":
			msg := "injected fault: " + f.Fault
			if f.Message != "" {
				msg = f.Message
			}
			writeFault(w, msg, newFault(f.Fault))
			return
		case "html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>"+
				"<body><h1>Service Unavailable</h1><p>The vSphere service is not available (injected by vimon-sim).</p></body></html>\n")
			return
		case "close":
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
			panic(http.ErrAbortHandler)
		case "invalid-collector-version":
			s.dropCollectorUpdates(r, body)
			writeFault(w, "injected fault: InvalidCollectorVersion", new(types.InvalidCollectorVersion))
			return
		case "http500":
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusInternalServerError)
			return
		case "slow-body":
			// the real reply's status and headers (a Login's session cookie
			// among them) at once, its body ms later
			rec := httptest.NewRecorder()
			s.dispatch(rec, r, body, name)
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Length", fmt.Sprint(rec.Body.Len()))
			w.WriteHeader(rec.Code)
			if fl, ok := w.(http.Flusher); ok {
				fl.Flush()
			}
			select {
			case <-time.After(time.Duration(f.Ms) * time.Millisecond):
				_, _ = w.Write(rec.Body.Bytes())
			case <-r.Context().Done():
			}
			return
		case "truncated":
			rec := httptest.NewRecorder()
			s.dispatch(rec, r, body, name)
			out := rec.Body.Bytes()
			cut := out[:len(out)/2]
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Length", fmt.Sprint(len(cut)))
			w.WriteHeader(rec.Code)
			_, _ = w.Write(cut)
			return
		}
	}
	if s.gzip {
		withGzip(w, r, func(gw http.ResponseWriter) { s.dispatch(gw, r, body, name) })
		return
	}
	s.dispatch(w, r, body, name)
}

// dispatch handles the methods vimon-sim adds or changes and passes the rest to the simulator.
func (s *simState) dispatch(w http.ResponseWriter, r *http.Request, body []byte, name string) {
	if s.strictAuth {
		switch name {
		case "RetrieveProperties", "RetrievePropertiesEx", "ContinueRetrievePropertiesEx", "CancelRetrievePropertiesEx":
			pc := types.ManagedObjectReference{Type: "PropertyCollector", Value: s.client.ServiceContent.PropertyCollector.Value}
			if !s.requireSession(w, r, pc) {
				return
			}
		}
	}
	switch name {
	case "Login":
		if s.badLogin(w, body) {
			return
		}
	case "AnswerVM":
		s.answerVM(w, r, body)
		return
	case "CancelTask":
		s.cancelTask(w, r, body)
		return
	case "PowerOnVM_Task", "PowerOffVM_Task", "ResetVM_Task", "SuspendVM_Task":
		if s.lifecycle(w, r, body, name) {
			return
		}
	case "ShutdownGuest", "RebootGuest", "StandbyGuest":
		s.guestOp(w, r, body, name)
		return
	case "RetrievePropertiesEx":
		s.retrievePropertiesEx(w, r, body)
		return
	case "ContinueRetrievePropertiesEx":
		s.continueRetrieve(w, r, body)
		return
	case "CancelRetrievePropertiesEx":
		s.cancelRetrieve(w, r, body)
		return
	case "WaitForUpdatesEx":
		s.waitForUpdatesEx(w, r, body)
		return
	case "CreateFilter":
		s.createFilter(w, r, body)
		s.pokeCollectors()
		return
	case "DestroyPropertyFilter", "DestroyPropertyCollector":
		s.forgetFilter(r, body)
	case "Logout":
		fanout.drop(map[string]bool{sessionKey(r): true})
	}
	s.pass(w, r, body)
	if name == "CreateFilter" {
		s.pokeCollectors()
	}
	if strings.HasPrefix(name, "Login") || name == "CloneSession" {
		s.noteSession(w.Header())
	}
}

// pokeCollectors queues an empty change so that property collectors already waiting for
// updates re-evaluate their filters: the simulator reports a filter created after the
// session's first WaitForUpdatesEx only when some update arrives, and a filter on a task
// that has already finished would otherwise never report anything.
func (s *simState) pokeCollectors() {
	root := simulator.Map.Get(s.client.ServiceContent.RootFolder)
	if root == nil {
		return
	}
	simulator.Map.WithLock(root, func() { simulator.Map.Update(root, []types.PropertyChange{}) })
}

// pass hands the request to govmomi's simulator unchanged.
func (s *simState) pass(w http.ResponseWriter, r *http.Request, body []byte) {
	r.Body = ioutil.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	s.inner.ServeHTTP(w, r)
}

// noteSession remembers session keys the simulator hands out, so expire-sessions can end them.
func (s *simState) noteSession(h http.Header) {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == soap.SessionCookieName && c.Value != "" {
			s.mu.Lock()
			s.sessions[c.Value] = true
			s.mu.Unlock()
		}
	}
}

// expireSessions ends every session the simulator has handed out.
func (s *simState) expireSessions() {
	s.mu.Lock()
	keys := s.sessions
	s.sessions = make(map[string]bool)
	s.dropUpdates(keys)
	s.dropPages(keys)
	s.mu.Unlock()
	s.dropChurnSessions(keys)
	fanout.drop(keys)
	sm := simulator.Map.SessionManager()
	ctx := &simulator.Context{
		Context: nil,
		Session: &simulator.Session{UserSession: types.UserSession{Key: "vimon-sim-internal"}},
		Map:     simulator.Map,
	}
	for k := range keys {
		_ = sm.TerminateSession(ctx, &types.TerminateSession{This: sm.Self, SessionId: []string{k}})
	}
}

// hasSession asks the simulator whether the request's cookie names a live session, with a call
// that needs one (ServiceInstance.CurrentTime).
func (s *simState) hasSession(r *http.Request) bool {
	env := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">` +
		`<soapenv:Body><CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime>` +
		`</soapenv:Body></soapenv:Envelope>`
	req := httptest.NewRequest(http.MethodPost, "/sdk", strings.NewReader(env))
	req.RemoteAddr = r.RemoteAddr
	for _, c := range r.Cookies() {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	s.inner.ServeHTTP(rec, req)
	return rec.Code == http.StatusOK
}

// requireSession writes NotAuthenticated and returns false when the request has no live session.
func (s *simState) requireSession(w http.ResponseWriter, r *http.Request, this types.ManagedObjectReference) bool {
	if s.hasSession(r) {
		return true
	}
	writeFault(w, "", &types.NotAuthenticated{NoPermission: types.NoPermission{Object: this, PrivilegeId: "System.View"}})
	return false
}

// badLogin refuses password "wrong" and user "baduser" with InvalidLogin.
func (s *simState) badLogin(w http.ResponseWriter, body []byte) bool {
	m, err := simulator.UnmarshalBody(types.TypeFunc(), body)
	if err != nil {
		return false
	}
	req, ok := m.Body.(*types.Login)
	if !ok {
		return false
	}
	if req.Password == "wrong" || req.UserName == "baduser" {
		writeFault(w, "Cannot complete login due to an incorrect user name or password.", new(types.InvalidLogin))
		return true
	}
	return false
}

// newFault makes a fault value of the named vSphere fault type (InvalidArgument if unknown).
func newFault(name string) types.BaseMethodFault {
	if t, ok := types.TypeFunc()(name); ok {
		if f, ok := reflect.New(t).Interface().(types.BaseMethodFault); ok {
			return f
		}
	}
	return new(types.InvalidArgument)
}

// The envelope types below copy the simulator's (unexported) ones, so added methods answer
// byte-for-byte like the simulator does.
type soapEnvelope struct {
	XMLName vxml.Name   `xml:"soapenv:Envelope"`
	Enc     string      `xml:"xmlns:soapenc,attr"`
	Env     string      `xml:"xmlns:soapenv,attr"`
	XSD     string      `xml:"xmlns:xsd,attr"`
	XSI     string      `xml:"xmlns:xsi,attr"`
	Body    interface{} `xml:"soapenv:Body"`
}

type faultDetail struct {
	Fault types.AnyType
}

type soapFault struct {
	XMLName vxml.Name `xml:"soapenv:Fault"`
	Code    string    `xml:"faultcode"`
	String  string    `xml:"faultstring"`
	Detail  struct {
		Fault *faultDetail
	} `xml:"detail"`
}

func (d *faultDetail) MarshalXML(e *vxml.Encoder, start vxml.StartElement) error {
	kind := reflect.TypeOf(d.Fault).Elem().Name()
	start.Name.Local = kind + "Fault"
	start.Attr = append(start.Attr,
		vxml.Attr{Name: vxml.Name{Local: "xmlns"}, Value: "urn:" + vim25.Namespace},
		vxml.Attr{Name: vxml.Name{Local: "xsi:type"}, Value: kind})
	return e.EncodeElement(d.Fault, start)
}

type response struct {
	Res interface{}
}

func (r *response) MarshalXML(e *vxml.Encoder, start vxml.StartElement) error {
	val := reflect.ValueOf(r.Res)
	res := vxml.StartElement{Name: vxml.Name{Space: "urn:" + vim25.Namespace, Local: val.Elem().Type().Name()}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	if err := e.EncodeElement(val.Interface(), res); err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}

func writeEnvelope(w http.ResponseWriter, code int, body interface{}) {
	var out bytes.Buffer
	out.WriteString(vxml.Header)
	e := vxml.NewEncoder(&out)
	err := e.Encode(&soapEnvelope{
		Enc:  "http://schemas.xmlsoap.org/soap/encoding/",
		Env:  "http://schemas.xmlsoap.org/soap/envelope/",
		XSD:  "http://www.w3.org/2001/XMLSchema",
		XSI:  "http://www.w3.org/2001/XMLSchema-instance",
		Body: body,
	})
	if err == nil {
		err = e.Flush()
	}
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(out.Bytes())
}

// writeFault answers with a SOAP fault (HTTP 500) carrying the given vSphere fault.
func writeFault(w http.ResponseWriter, msg string, f types.BaseMethodFault) {
	sf := &soapFault{Code: "ServerFaultCode", String: msg}
	sf.Detail.Fault = &faultDetail{Fault: f}
	writeEnvelope(w, http.StatusInternalServerError, struct{ Fault *soapFault }{sf})
}

// writeResult answers with a method's response element (res is e.g. *types.AnswerVMResponse).
func writeResult(w http.ResponseWriter, res interface{}) {
	writeEnvelope(w, http.StatusOK, &response{Res: res})
}

// countWriter counts the reply body bytes written (for /_sim/stats).
type countWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

// Hijack lets the "close" fault take the connection.
func (c *countWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if hj, ok := c.ResponseWriter.(http.Hijacker); ok {
		return hj.Hijack()
	}
	return nil, nil, errors.New("the connection cannot be hijacked")
}

func (c *countWriter) Flush() {
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
