package e2ee

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// addUserDevices creates the devices (named name) and their device keys.
func addUserDevices(t *testing.T, st *store.Store, user, name string, devices ...string) {
	t.Helper()
	ctx := context.Background()
	var keys []models.DeviceKeys
	for _, d := range devices {
		err := st.CreateSession(ctx, models.Device{UserID: user, DeviceID: d, DisplayName: name, CreatedAt: 1},
			models.AccessToken{TokenHash: "h" + user + d, UserID: user, DeviceID: d, CreatedAt: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, models.DeviceKeys{UserID: user, DeviceID: d,
			KeyJSON: fmt.Sprintf(`{"device_id":%q,"keys":{},"signatures":{},"user_id":%q}`, d, user)})
	}
	if err := st.ReplaceDeviceKeys(ctx, keys); err != nil {
		t.Fatal(err)
	}
}

// TestQueryLocalKeys: /keys/query of local users, read in one batch for
// all users: keys of existing devices only, the listed devices only,
// display names, signatures by the owner or the requester (not by third
// parties), user-signing keys for the requester only, and an empty entry
// for a user without keys.
func TestQueryLocalKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, err := New(ctx, Options{Store: st, ServerName: "kabar.test"})
		if err != nil {
			t.Fatal(err)
		}
		const a, b, c = "@a:kabar.test", "@b:kabar.test", "@c:kabar.test"
		addUserDevices(t, st, a, "laptop", "D1", "D2")
		addUserDevices(t, st, b, "", "B1")
		// Keys of a deleted device linger until cleanup.
		if err := st.ReplaceDeviceKeys(ctx, []models.DeviceKeys{{UserID: a, DeviceID: "GONE", KeyJSON: `{"device_id":"GONE"}`}}); err != nil {
			t.Fatal(err)
		}
		var csk []models.CrossSigningKey
		for _, typ := range []string{"master", "self_signing", "user_signing"} {
			csk = append(csk, models.CrossSigningKey{UserID: a, KeyType: typ, PublicKey: typ + "pk",
				KeyJSON: fmt.Sprintf(`{"keys":{"ed25519:%spk":"%spk"},"usage":[%q],"user_id":%q}`, typ, typ, typ, a)})
		}
		if err := st.PutCrossSigningKeys(ctx, csk); err != nil {
			t.Fatal(err)
		}
		err = st.AddSignatures(ctx, []models.CrossSigningSignature{
			{TargetUserID: a, TargetKeyID: "D1", SignerUserID: a, SignerKeyID: "ed25519:self_signingpk", Signature: "by-a"},
			{TargetUserID: a, TargetKeyID: "masterpk", SignerUserID: b, SignerKeyID: "ed25519:bpk", Signature: "by-b"},
			{TargetUserID: a, TargetKeyID: "masterpk", SignerUserID: c, SignerKeyID: "ed25519:cpk", Signature: "by-c"},
		})
		if err != nil {
			t.Fatal(err)
		}

		res, err := svc.QueryKeys(ctx, b, map[string][]string{a: nil, b: {}, c: nil, "not a user": nil}, DefaultRemoteTimeout)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(res)
		got := string(body)
		for _, want := range []string{`"D1":`, `"D2":`, `"B1":`, `"@c:kabar.test":{}`, `"device_display_name":"laptop"`,
			`"by-a"`, `"by-b"`, `"master_keys":{"@a:kabar.test"`, `"self_signing_keys":{"@a:kabar.test"`} {
			if !strings.Contains(got, want) {
				t.Errorf("query as b: no %s in %s", want, got)
			}
		}
		for _, unwanted := range []string{`GONE`, `"by-c"`, `user_signing_keys`, `not a user`} {
			if strings.Contains(got, unwanted) {
				t.Errorf("query as b: %s in %s", unwanted, got)
			}
		}
		if strings.Contains(string(res.DeviceKeys[b]["B1"]), "unsigned") {
			t.Errorf("unnamed device has an unsigned section: %s", res.DeviceKeys[b]["B1"])
		}

		res, err = svc.QueryKeys(ctx, a, map[string][]string{a: {"D2", "GONE", "NOPE"}}, DefaultRemoteTimeout)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.DeviceKeys[a]) != 1 || res.DeviceKeys[a]["D2"] == nil || res.UserSigningKeys[a] == nil {
			t.Errorf("query of D2 as a: %v devices, user-signing %s", len(res.DeviceKeys[a]), res.UserSigningKeys[a])
		}
		if strings.Contains(string(res.MasterKeys[a]), "by-b") || strings.Contains(string(res.MasterKeys[a]), "by-c") {
			t.Errorf("a sees others' signatures on its master key: %s", res.MasterKeys[a])
		}

		fed, err := svc.QueryLocalKeys(ctx, map[string][]string{a: nil, "@x:remote.test": nil})
		if err != nil {
			t.Fatal(err)
		}
		if len(fed.DeviceKeys) != 1 || fed.UserSigningKeys != nil || strings.Contains(string(fed.MasterKeys[a]), "by-b") {
			t.Errorf("federation query: %d users, user-signing %v, master %s", len(fed.DeviceKeys), fed.UserSigningKeys, fed.MasterKeys[a])
		}
	})
}

// TestQueryManyUsers: a query naming more users than one IN list holds
// (the store splits it for SQLite's parameter limit) answers them all.
func TestQueryManyUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc, err := New(ctx, Options{Store: st, ServerName: "kabar.test"})
		if err != nil {
			t.Fatal(err)
		}
		const n = 1100
		var keys []models.DeviceKeys
		req := map[string][]string{}
		for i := range n {
			u := fmt.Sprintf("@u%04d:kabar.test", i)
			req[u] = nil
			if err := st.CreateSession(ctx, models.Device{UserID: u, DeviceID: "D", CreatedAt: 1},
				models.AccessToken{TokenHash: "h" + u, UserID: u, DeviceID: "D", CreatedAt: 1}, nil); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, models.DeviceKeys{UserID: u, DeviceID: "D", KeyJSON: `{"device_id":"D"}`})
		}
		if err := st.ReplaceDeviceKeys(ctx, keys); err != nil {
			t.Fatal(err)
		}
		res, err := svc.QueryKeys(ctx, "@u0000:kabar.test", req, DefaultRemoteTimeout)
		if err != nil {
			t.Fatal(err)
		}
		for u := range req {
			if len(res.DeviceKeys[u]) != 1 {
				t.Fatalf("%s: %d devices of %d users", u, len(res.DeviceKeys[u]), len(res.DeviceKeys))
			}
		}
	})
}
