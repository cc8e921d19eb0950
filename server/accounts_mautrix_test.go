package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/id"
)

func newClient(t *testing.T, ts *testServer, user id.UserID, token string) *mautrix.Client {
	t.Helper()
	cli, err := mautrix.NewClient(ts.URL, user, token)
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

func httpStatus(err error) int {
	var herr mautrix.HTTPError
	if errors.As(err, &herr) && herr.Response != nil {
		return herr.Response.StatusCode
	}
	return 0
}

func passwordAuth(user, password, session string) map[string]any {
	return map[string]any{"type": "m.login.password", "session": session, "password": password,
		"identifier": map[string]any{"type": "m.id.user", "user": user}}
}

// TestMautrixAccountFlows drives the normal account flows with the real
// Matrix client library.
func TestMautrixAccountFlows(t *testing.T) {
	eachServer(t, openRegistration, func(t *testing.T, ts *testServer) {
		ctx := context.Background()
		anon := newClient(t, ts, "", "")
		avail, err := anon.RegisterAvailable(ctx, "alice")
		if err != nil || !avail.Available {
			t.Fatalf("available: %+v %v", avail, err)
		}
		reg, err := anon.RegisterDummy(ctx, &mautrix.ReqRegister[any]{Username: "alice", Password: "correct horse",
			InitialDeviceDisplayName: "phone"})
		if err != nil {
			t.Fatalf("register: %v", err)
		}
		alice := newClient(t, ts, reg.UserID, reg.AccessToken)
		who, err := alice.Whoami(ctx)
		if err != nil || who.UserID != "@alice:kabar.test" || who.DeviceID != reg.DeviceID {
			t.Fatalf("whoami: %+v %v", who, err)
		}
		if _, err := alice.Capabilities(ctx); err != nil {
			t.Fatalf("capabilities: %v", err)
		}

		// Profile.
		if err := alice.SetDisplayName(ctx, "Alice"); err != nil {
			t.Fatal(err)
		}
		if err := alice.SetAvatarURL(ctx, id.ContentURI{Homeserver: "kabar.test", FileID: "abc"}); err != nil {
			t.Fatal(err)
		}
		prof, err := anon.GetProfile(ctx, reg.UserID)
		if err != nil || prof.DisplayName != "Alice" || prof.AvatarURL.String() != "mxc://kabar.test/abc" {
			t.Fatalf("profile: %+v %v", prof, err)
		}
		if dn, err := alice.GetDisplayName(ctx, reg.UserID); err != nil || dn.DisplayName != "Alice" {
			t.Fatalf("displayname: %+v %v", dn, err)
		}

		// Account data, global and per room.
		if err := alice.SetAccountData(ctx, "org.example.settings", map[string]any{"b": 2, "a": []int{1}}); err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		if err := alice.GetAccountData(ctx, "org.example.settings", &got); err != nil || got["b"] != float64(2) {
			t.Fatalf("account data: %v %v", got, err)
		}
		room := id.RoomID("!room:kabar.test")
		if err := alice.SetRoomAccountData(ctx, room, "m.tag", map[string]any{"tags": map[string]any{}}); err != nil {
			t.Fatal(err)
		}
		if err := alice.GetRoomAccountData(ctx, room, "m.tag", &got); err != nil || got["tags"] == nil {
			t.Fatalf("room account data: %v %v", got, err)
		}

		// A second login, with a refresh token; devices.
		login, err := anon.Login(ctx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword, Password: "correct horse",
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "alice"}, RefreshToken: true,
			InitialDeviceDisplayName: "laptop"})
		if err != nil || login.RefreshToken == "" || login.ExpiresInMS <= 0 {
			t.Fatalf("login: %+v %v", login, err)
		}
		laptop := newClient(t, ts, login.UserID, login.AccessToken)
		devs, err := alice.GetDevicesInfo(ctx)
		if err != nil || len(devs.Devices) != 2 {
			t.Fatalf("devices: %+v %v", devs, err)
		}
		if err := alice.SetDeviceInfo(ctx, login.DeviceID, &mautrix.ReqDeviceInfo{DisplayName: "work laptop"}); err != nil {
			t.Fatal(err)
		}
		if d, err := alice.GetDeviceInfo(ctx, login.DeviceID); err != nil || d.DisplayName != "work laptop" {
			t.Fatalf("device: %+v %v", d, err)
		}

		// Refresh rotates the pair; the old refresh token dies once the new pair is used.
		var refreshed struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
		}
		refreshURL := anon.BuildClientURL("v3", "refresh")
		if _, err := anon.MakeRequest(ctx, http.MethodPost, refreshURL, map[string]string{"refresh_token": login.RefreshToken}, &refreshed); err != nil {
			t.Fatalf("refresh: %v", err)
		}
		laptop.AccessToken = refreshed.AccessToken
		if _, err := laptop.Whoami(ctx); err != nil {
			t.Fatalf("whoami after refresh: %v", err)
		}
		_, err = anon.MakeRequest(ctx, http.MethodPost, refreshURL, map[string]string{"refresh_token": login.RefreshToken}, nil)
		if !errors.Is(err, mautrix.MUnknownToken) {
			t.Fatalf("old refresh token: %v", err)
		}

		// Deleting a device needs UIA; afterwards its token is dead.
		err = alice.DeleteDevice(ctx, login.DeviceID, &mautrix.ReqDeleteDevice[any]{})
		if httpStatus(err) != 401 {
			t.Fatalf("delete without auth: %v", err)
		}
		code, body := ts.do(t, "DELETE", "/_matrix/client/v3/devices/"+string(login.DeviceID), reg.AccessToken, nil)
		var challenge mautrix.RespUserInteractive
		if err := json.Unmarshal(body, &challenge); code != 401 || err != nil || challenge.Session == "" ||
			len(challenge.Flows) != 1 || challenge.Flows[0].Stages[0] != mautrix.AuthTypePassword {
			t.Fatalf("challenge: %d %s %v", code, body, err)
		}
		if err := alice.DeleteDevice(ctx, login.DeviceID, &mautrix.ReqDeleteDevice[any]{
			Auth: passwordAuth("alice", "correct horse", challenge.Session)}); err != nil {
			t.Fatalf("delete device: %v", err)
		}
		if _, err := laptop.Whoami(ctx); !errors.Is(err, mautrix.MUnknownToken) {
			t.Fatalf("deleted device's token: %v", err)
		}

		// Password change logs out other devices but keeps this one.
		other, err := anon.Login(ctx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword, Password: "correct horse",
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "@alice:kabar.test"}})
		if err != nil {
			t.Fatal(err)
		}
		pwURL := alice.BuildClientURL("v3", "account", "password")
		if _, err := alice.MakeRequest(ctx, http.MethodPost, pwURL, map[string]any{"new_password": "battery staple",
			"auth": passwordAuth("alice", "correct horse", "")}, nil); err != nil {
			t.Fatalf("change password: %v", err)
		}
		if _, err := newClient(t, ts, other.UserID, other.AccessToken).Whoami(ctx); !errors.Is(err, mautrix.MUnknownToken) {
			t.Fatalf("other device after password change: %v", err)
		}
		if _, err := alice.Whoami(ctx); err != nil {
			t.Fatalf("current device after password change: %v", err)
		}
		if _, err := anon.Login(ctx, &mautrix.ReqLogin{Type: mautrix.AuthTypePassword, Password: "correct horse",
			Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "alice"}}); !errors.Is(err, mautrix.MForbidden) {
			t.Fatalf("old password: %v", err)
		}

		// Logout.
		if _, err := alice.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.Whoami(ctx); !errors.Is(err, mautrix.MUnknownToken) {
			t.Fatalf("after logout: %v", err)
		}
	})
}
