package clientapi

import (
	"encoding/json"

	"github.com/labstack/echo/v4"

	"github.com/kabarchat/kabar/echoserver"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/notifications"
	"github.com/kabarchat/kabar/push"
)

// registerPush mounts the push rule, pusher and notification routes
// (pushrules.yaml, pusher.yaml, notifications.yaml) when push is wired.
func (a *API) registerPush(g routeGroup) {
	if a.opts.Push == nil {
		return
	}
	auth := a.requireAuth
	g.GET("/pushrules", a.getPushRules, auth)
	g.GET("/pushrules/", a.getPushRules, auth)
	g.GET("/pushrules/:scope/", a.getPushRuleScope, auth)
	g.GET("/pushrules/:scope/:kind/:ruleId", a.getPushRule, auth)
	g.PUT("/pushrules/:scope/:kind/:ruleId", a.putPushRule, auth)
	g.DELETE("/pushrules/:scope/:kind/:ruleId", a.deletePushRule, auth)
	g.GET("/pushrules/:scope/:kind/:ruleId/:attr", a.getPushRuleAttr, auth)
	g.PUT("/pushrules/:scope/:kind/:ruleId/:attr", a.putPushRuleAttr, auth)
	g.GET("/pushers", a.getPushers, auth)
	g.POST("/pushers/set", a.setPusher, auth)
	g.GET("/notifications", a.getNotifications, auth)
}

// getPushRules serves GET /pushrules/.
func (a *API) getPushRules(c echo.Context) error {
	rs, err := a.opts.Push.Rules(c.Request().Context(), session(c).UserID)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"global": rs})
}

func (a *API) getPushRuleScope(c echo.Context) error {
	if c.Param("scope") != "global" {
		return spec.InvalidParam("the only push rule scope is global")
	}
	rs, err := a.opts.Push.Rules(c.Request().Context(), session(c).UserID)
	if err != nil {
		return err
	}
	return ok(c, rs)
}

// ruleRef is the parsed {scope}/{kind}/{ruleId} of a push rule path.
type ruleRef struct{ kind, id string }

func pushRulePath(c echo.Context) (ruleRef, error) {
	if c.Param("scope") != "global" {
		return ruleRef{}, spec.InvalidParam("the only push rule scope is global")
	}
	kind := c.Param("kind")
	if !push.ValidKind(kind) {
		return ruleRef{}, spec.InvalidParam("unknown push rule kind %q", kind)
	}
	id := c.Param("ruleId")
	if id == "" {
		return ruleRef{}, spec.InvalidParam("empty rule ID")
	}
	return ruleRef{kind, id}, nil
}

// findRule loads one rule of the caller; 404 M_NOT_FOUND if missing.
func (a *API) findRule(c echo.Context) (*push.Rule, error) {
	ref, err := pushRulePath(c)
	if err != nil {
		return nil, err
	}
	rs, err := a.opts.Push.Rules(c.Request().Context(), session(c).UserID)
	if err != nil {
		return nil, err
	}
	r := rs.Find(ref.kind, ref.id)
	if r == nil {
		return nil, spec.NotFound("no such push rule")
	}
	return r, nil
}

func (a *API) getPushRule(c echo.Context) error {
	r, err := a.findRule(c)
	if err != nil {
		return err
	}
	return ok(c, r)
}

// putPushRule serves PUT /pushrules/global/{kind}/{ruleId} with optional
// before/after.
func (a *API) putPushRule(c echo.Context) error {
	ref, err := pushRulePath(c)
	if err != nil {
		return err
	}
	var in notifications.RuleInput
	if err := echoserver.BindJSON(c, &in); err != nil {
		return err
	}
	err = a.opts.Push.PutRule(c.Request().Context(), session(c).UserID, ref.kind, ref.id, in, c.QueryParam("before"), c.QueryParam("after"))
	if err != nil {
		return err
	}
	return ok(c, struct{}{})
}

func (a *API) deletePushRule(c echo.Context) error {
	ref, err := pushRulePath(c)
	if err != nil {
		return err
	}
	if err := a.opts.Push.DeleteRule(c.Request().Context(), session(c).UserID, ref.kind, ref.id); err != nil {
		return err
	}
	return ok(c, struct{}{})
}

// getPushRuleAttr serves GET .../enabled and .../actions.
func (a *API) getPushRuleAttr(c echo.Context) error {
	r, err := a.findRule(c)
	if err != nil {
		return err
	}
	switch c.Param("attr") {
	case "enabled":
		return ok(c, map[string]bool{"enabled": r.Enabled})
	case "actions":
		return ok(c, map[string]any{"actions": r.Actions})
	}
	return spec.Unrecognized(404, "unknown push rule attribute")
}

// putPushRuleAttr serves PUT .../enabled and .../actions.
func (a *API) putPushRuleAttr(c echo.Context) error {
	ref, err := pushRulePath(c)
	if err != nil {
		return err
	}
	var enabled *bool
	var actions []json.RawMessage
	switch c.Param("attr") {
	case "enabled":
		var in struct {
			Enabled *bool `json:"enabled"`
		}
		if err := echoserver.BindJSON(c, &in); err != nil {
			return err
		}
		if in.Enabled == nil {
			return spec.BadJSON("enabled is required")
		}
		enabled = in.Enabled
	case "actions":
		var in struct {
			Actions []json.RawMessage `json:"actions"`
		}
		if err := echoserver.BindJSON(c, &in); err != nil {
			return err
		}
		if in.Actions == nil {
			return spec.BadJSON("actions is required")
		}
		actions = in.Actions
	default:
		return spec.Unrecognized(404, "unknown push rule attribute")
	}
	if err := a.opts.Push.UpdateRule(c.Request().Context(), session(c).UserID, ref.kind, ref.id, enabled, actions); err != nil {
		return err
	}
	return ok(c, struct{}{})
}
