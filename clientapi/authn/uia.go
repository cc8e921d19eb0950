package authn

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/kabarchat/kabar/models/spec"
)

// UIA stage types (client-server-api "Authentication types").
const (
	StagePassword          = "m.login.password"
	StageDummy             = "m.login.dummy"
	StageRegistrationToken = "m.login.registration_token"
)

const (
	uiaSessionTTL = 15 * time.Minute
	uiaMaxActive  = 10000
)

// uiaSession is one User-Interactive Authentication session. It is bound to
// the endpoint (purpose) and user it was started for, so stages completed
// for one request cannot authorise another.
type uiaSession struct {
	purpose   string
	userID    string
	completed []string
	expires   time.Time
	// regToken is the token of a passed m.login.registration_token stage.
	regToken string
}

type uiaSessions struct {
	mu       sync.Mutex
	sessions map[string]*uiaSession
	now      func() time.Time
}

func newUIASessions(now func() time.Time) *uiaSessions {
	return &uiaSessions{sessions: make(map[string]*uiaSession), now: now}
}

// create starts a session; when full it sweeps expired ones and, if still
// full, drops an arbitrary one (bounded memory under abuse).
func (u *uiaSessions) create(purpose, userID string) (string, *uiaSession) {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.now()
	if len(u.sessions) >= uiaMaxActive {
		for id, s := range u.sessions {
			if now.After(s.expires) {
				delete(u.sessions, id)
			}
		}
		for id := range u.sessions {
			if len(u.sessions) < uiaMaxActive {
				break
			}
			delete(u.sessions, id)
		}
	}
	id := newSecret("")[:24]
	s := &uiaSession{purpose: purpose, userID: userID, expires: now.Add(uiaSessionTTL)}
	u.sessions[id] = s
	return id, s
}

func (u *uiaSessions) get(id, purpose, userID string) *uiaSession {
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.sessions[id]
	if s == nil || s.purpose != purpose || s.userID != userID || u.now().After(s.expires) {
		return nil
	}
	return s
}

func (u *uiaSessions) complete(id string, s *uiaSession, stage string) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if !slices.Contains(s.completed, stage) {
		s.completed = append(s.completed, stage)
	}
	return slices.Clone(s.completed)
}

func (u *uiaSessions) snapshot(s *uiaSession) []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(s.completed)
}

func (u *uiaSessions) setToken(s *uiaSession, token string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	s.regToken = token
}

func (u *uiaSessions) token(s *uiaSession) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return s.regToken
}

func (u *uiaSessions) remove(id string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.sessions, id)
}

// UIARequest is one request to an endpoint protected by UIA.
type UIARequest struct {
	// Purpose names the endpoint ("register", "delete_devices", ...).
	Purpose string
	// UserID is the authenticated user, "" for registration.
	UserID string
	Flows  [][]string
	Params map[string]any
	// Auth is the request's raw "auth" object; nil when absent.
	Auth json.RawMessage
	// Result, when not nil, is filled in once the flow is complete.
	Result *UIAResult
}

type authDict struct {
	Type       string          `json:"type"`
	Session    string          `json:"session"`
	Password   string          `json:"password"`
	User       string          `json:"user"`
	Identifier *UserIdentifier `json:"identifier"`
	Token      string          `json:"token"`
}

// UserIdentifier is the identifier object of login and UIA
// (client-server-api "Identifier types"); only m.id.user is supported.
type UserIdentifier struct {
	Type string `json:"type"`
	User string `json:"user"`
}

// UIA runs one step of User-Interactive Authentication (client-server-api
// "User-Interactive Authentication API"). It returns nil once a whole flow is
// complete (the session is then spent), and otherwise the 401 that tells the
// client what is left, with errcode/error after a failed stage.
func (s *Service) UIA(ctx context.Context, req UIARequest) error {
	if len(req.Auth) == 0 || string(req.Auth) == "null" {
		id, _ := s.uia.create(req.Purpose, req.UserID)
		return uiaChallenge(req, id, nil, nil)
	}
	var ad authDict
	if err := json.Unmarshal(req.Auth, &ad); err != nil {
		return spec.BadJSON("auth: must be an object with string fields")
	}
	var sess *uiaSession
	id := ad.Session
	if id == "" {
		id, sess = s.uia.create(req.Purpose, req.UserID)
	} else if sess = s.uia.get(id, req.Purpose, req.UserID); sess == nil {
		return spec.NewError(http.StatusBadRequest, spec.ErrUnknown, "unknown or expired auth session")
	}
	completed := s.uia.snapshot(sess)
	if ad.Type == "" {
		return uiaChallenge(req, id, completed, nil)
	}
	if !slices.ContainsFunc(req.Flows, func(f []string) bool { return slices.Contains(f, ad.Type) }) {
		return uiaChallenge(req, id, completed, spec.InvalidParam("auth type %q is not offered here", ad.Type))
	}
	if err := s.runStage(ctx, req, ad); err != nil {
		return uiaChallenge(req, id, completed, err)
	}
	completed = s.uia.complete(id, sess, ad.Type)
	if ad.Type == StageRegistrationToken {
		s.uia.setToken(sess, ad.Token)
	}
	for _, f := range req.Flows {
		if flowDone(f, completed) {
			s.uia.remove(id)
			if req.Result != nil {
				req.Result.RegistrationToken = s.uia.token(sess)
			}
			return nil
		}
	}
	return uiaChallenge(req, id, completed, nil)
}

func flowDone(flow, completed []string) bool {
	for _, st := range flow {
		if !slices.Contains(completed, st) {
			return false
		}
	}
	return true
}

// runStage checks one stage's credentials.
func (s *Service) runStage(ctx context.Context, req UIARequest, ad authDict) error {
	switch ad.Type {
	case StageDummy:
		return nil
	case StageRegistrationToken:
		valid, err := s.RegistrationTokenValid(ctx, ad.Token)
		if err != nil {
			return err
		}
		if !valid {
			return spec.NewError(http.StatusUnauthorized, spec.ErrUnauthorized, "invalid registration token")
		}
		return nil
	case StagePassword:
		user := ad.User
		if ad.Identifier != nil {
			if ad.Identifier.Type != "m.id.user" {
				return spec.Forbidden("only m.id.user identifiers are supported")
			}
			user = ad.Identifier.User
		}
		if user == "" {
			user = req.UserID
		}
		id, err := s.ResolveUser(user)
		if err != nil {
			return err
		}
		if req.UserID != "" && string(id) != req.UserID {
			return spec.Forbidden("you can only authenticate as yourself")
		}
		_, err = s.CheckPassword(ctx, id, ad.Password)
		return err
	}
	return spec.InvalidParam("unsupported auth type %q", ad.Type)
}

// Challenge is the 401 a UIA endpoint answers while authentication is
// incomplete. It is not a plain Matrix error: the body carries errcode/error
// only after a failed stage, which clients use to tell "show the flows"
// from "that attempt failed".
type Challenge struct {
	Flows     [][]string
	Params    map[string]any
	Session   string
	Completed []string
	// Failed is the stage's error, nil when nothing failed.
	Failed *spec.Error
}

func (c *Challenge) Error() string {
	if c.Failed != nil {
		return "user-interactive authentication: " + c.Failed.Error()
	}
	return "user-interactive authentication required"
}

// Body is the JSON response body.
func (c *Challenge) Body() map[string]any {
	flows := make([]map[string]any, len(c.Flows))
	for i, f := range c.Flows {
		flows[i] = map[string]any{"stages": f}
	}
	body := map[string]any{"flows": flows, "params": c.Params, "session": c.Session, "completed": c.Completed}
	if c.Failed != nil {
		body["errcode"] = c.Failed.Code
		body["error"] = c.Failed.Message
	}
	return body
}

// uiaChallenge builds the 401 for the session. An internal stage failure is
// returned as is: it is not the client's mistake.
func uiaChallenge(req UIARequest, session string, completed []string, stageErr error) error {
	ch := &Challenge{Flows: req.Flows, Params: req.Params, Session: session, Completed: completed}
	if ch.Params == nil {
		ch.Params = map[string]any{}
	}
	if ch.Completed == nil {
		ch.Completed = []string{}
	}
	if stageErr != nil {
		serr, ok := stageErr.(*spec.Error)
		if !ok {
			return stageErr
		}
		ch.Failed = serr
	}
	return ch
}
