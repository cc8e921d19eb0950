package e2ee

// Benchmarks of issue 6 (docs/PERFORMANCE.md "E2EE (issue 6)"): /keys/claim
// and /keys/query through the key server, and to-device fan-out to 100
// devices, each next to its limit: the bare store operation on the same
// rows, without the service around it.

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/kabarchat/kabar/models"
	"github.com/kabarchat/kabar/models/store"
	"github.com/kabarchat/kabar/models/store/storetest"
)

const (
	benchUser    = "@alice:bench.test"
	benchSender  = "@bob:bench.test"
	benchDevices = 100
	benchWorkers = 8
)

func eachBenchDB(b *testing.B, fn func(b *testing.B, st *store.Store)) {
	for _, db := range storetest.URLs(b) {
		b.Run(db.Name, func(b *testing.B) { fn(b, storetest.Open(b, db.URL)) })
	}
}

// benchService is a key server over st with alice's 100 devices, each with
// device keys.
func benchService(b *testing.B, st *store.Store) *Service {
	b.Helper()
	ctx := context.Background()
	svc, err := New(ctx, Options{Store: st, ServerName: "bench.test", MaxInbox: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	if devs, _ := st.ListDevices(ctx, benchUser); len(devs) == benchDevices {
		return svc // b.Run calls again with a larger b.N on the same database
	}
	var keys []models.DeviceKeys
	for i := range benchDevices {
		dev := fmt.Sprintf("DEV%03d", i)
		err := st.CreateSession(ctx, models.Device{UserID: benchUser, DeviceID: dev, DisplayName: "phone " + dev, CreatedAt: 1},
			models.AccessToken{TokenHash: "h" + dev, UserID: benchUser, DeviceID: dev, CreatedAt: 1}, nil)
		if err != nil {
			b.Fatal(err)
		}
		keys = append(keys, models.DeviceKeys{UserID: benchUser, DeviceID: dev, KeyJSON: fmt.Sprintf(
			`{"algorithms":["m.olm.v1.curve25519-aes-sha2","m.megolm.v1.aes-sha2"],"device_id":%q,"keys":{"curve25519:%s":"Y3VydmUyNTUxOWtleWN1cnZlMjU1MTlrZXljdXJ2ZQ","ed25519:%s":"ZWQyNTUxOWtleWVkMjU1MTlrZXllZDI1NTE5a2V5ZWQ"},"signatures":{%q:{"ed25519:%s":"c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"}},"user_id":%q}`,
			dev, dev, dev, benchUser, dev, benchUser)})
	}
	if err := st.ReplaceDeviceKeys(ctx, keys); err != nil {
		b.Fatal(err)
	}
	return svc
}

// parallel runs op(i) for i in [0, b.N) on benchWorkers goroutines.
func parallel(b *testing.B, op func(i int64) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range benchWorkers {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				if err := op(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
}

// fillOneTimeKeys gives every device enough one-time keys for b.N claims.
func fillOneTimeKeys(b *testing.B, st *store.Store, round string) {
	b.Helper()
	per := b.N/benchDevices + 2
	for d := range benchDevices {
		dev := fmt.Sprintf("DEV%03d", d)
		rows := make([]models.OneTimeKey, per)
		for i := range rows {
			id := fmt.Sprintf("signed_curve25519:%s%s%06d", round, dev, i)
			rows[i] = models.OneTimeKey{UserID: benchUser, DeviceID: dev, KeyID: id, Algorithm: "signed_curve25519",
				Batch: int64(i), KeyJSON: `{"key":"` + id + `","signatures":{}}`}
		}
		if err := st.AddOneTimeKeys(context.Background(), rows); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaimKeys: one /keys/claim per op for one device's one-time key
// (the shape of an Olm session set-up), 8 concurrent claimers.
func BenchmarkClaimKeys(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, st *store.Store) {
		svc := benchService(b, st)
		fillOneTimeKeys(b, st, fmt.Sprintf("c%d", b.N))
		parallel(b, func(i int64) error {
			dev := fmt.Sprintf("DEV%03d", i%benchDevices)
			res, err := svc.ClaimKeys(context.Background(), map[string]map[string]string{benchUser: {dev: "signed_curve25519"}}, DefaultRemoteTimeout)
			if err == nil && len(res.OneTimeKeys[benchUser][dev]) != 1 {
				err = fmt.Errorf("claim %d: %v", i, res.OneTimeKeys)
			}
			return err
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
	})
}

// BenchmarkClaimBare is the limit of ClaimKeys: the store's select and
// delete of the same rows.
func BenchmarkClaimBare(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, st *store.Store) {
		benchService(b, st)
		fillOneTimeKeys(b, st, fmt.Sprintf("b%d", b.N))
		parallel(b, func(i int64) error {
			_, _, err := st.ClaimOneTimeKey(context.Background(), benchUser, fmt.Sprintf("DEV%03d", i%benchDevices), "signed_curve25519")
			return err
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
	})
}

// BenchmarkQueryKeys: /keys/query for all 100 devices of a user (with
// display names and cross-signing lookups), 8 concurrent queriers.
func BenchmarkQueryKeys(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, st *store.Store) {
		svc := benchService(b, st)
		parallel(b, func(int64) error {
			res, err := svc.QueryKeys(context.Background(), benchSender, map[string][]string{benchUser: nil}, DefaultRemoteTimeout)
			if err == nil && len(res.DeviceKeys[benchUser]) != benchDevices {
				err = fmt.Errorf("query: %d devices", len(res.DeviceKeys[benchUser]))
			}
			if err == nil {
				_, err = json.Marshal(res)
			}
			return err
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	})
}

// BenchmarkQueryBare is the limit of QueryKeys: a bare select of the same
// 100 device-key rows.
func BenchmarkQueryBare(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, st *store.Store) {
		benchService(b, st)
		parallel(b, func(int64) error {
			rows, err := st.DeviceKeysOf(context.Background(), benchUser, nil)
			if err == nil && len(rows) != benchDevices {
				err = fmt.Errorf("select: %d rows", len(rows))
			}
			return err
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	})
}

// BenchmarkToDeviceFanout100: one /sendToDevice to "*" of a user with 100
// devices per op (a megolm key share), 8 concurrent senders.
func BenchmarkToDeviceFanout100(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, st *store.Store) {
		svc := benchService(b, st)
		msg := map[string]map[string]json.RawMessage{benchUser: {"*": json.RawMessage(`{"algorithm":"m.olm.v1.curve25519-aes-sha2","ciphertext":{}}`)}}
		round := fmt.Sprintf("f%d-", b.N)
		parallel(b, func(i int64) error {
			return svc.SendToDevice(context.Background(), benchSender, fmt.Sprintf("S%d", i%benchWorkers), "m.room.encrypted",
				round+fmt.Sprint(i), msg)
		})
		b.ReportMetric(float64(b.N)*benchDevices/b.Elapsed().Seconds(), "msgs/s")
	})
}

// BenchmarkToDeviceBare is the limit of the fan-out: the store's insert of
// the same 100 inbox rows and the transaction row, without expanding "*".
func BenchmarkToDeviceBare(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, st *store.Store) {
		svc := benchService(b, st)
		round := fmt.Sprintf("bare%d-", b.N)
		parallel(b, func(i int64) error {
			r := svc.toDevice.Reserve(1)
			defer r.Done()
			rows := make([]models.ToDeviceMessage, benchDevices)
			for d := range rows {
				rows[d] = models.ToDeviceMessage{UserID: benchUser, DeviceID: fmt.Sprintf("DEV%03d", d), StreamPos: r.First,
					Sender: benchSender, Type: "m.room.encrypted", Content: `{"algorithm":"m.olm.v1.curve25519-aes-sha2","ciphertext":{}}`, CreatedAt: 1}
			}
			return st.PutToDevice(context.Background(), store.ToDeviceBatch{Sender: benchSender, DeviceID: fmt.Sprintf("S%d", i%benchWorkers),
				TxnID: round + fmt.Sprint(i), StreamPos: r.First, Messages: rows}, 1)
		})
		b.ReportMetric(float64(b.N)*benchDevices/b.Elapsed().Seconds(), "msgs/s")
	})
}

const benchManyUsers = 100

// benchManyUsersService is a key server over st with 100 users of 2
// devices each, each with device keys and a master key.
func benchManyUsersService(b *testing.B, st *store.Store) (*Service, map[string][]string) {
	b.Helper()
	ctx := context.Background()
	svc, err := New(ctx, Options{Store: st, ServerName: "bench.test", MaxInbox: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	req := map[string][]string{}
	for u := range benchManyUsers {
		req[fmt.Sprintf("@m%03d:bench.test", u)] = nil
	}
	if devs, _ := st.ListDevices(ctx, "@m000:bench.test"); len(devs) > 0 {
		return svc, req
	}
	var keys []models.DeviceKeys
	var csk []models.CrossSigningKey
	for user := range req {
		for d := range 2 {
			dev := fmt.Sprintf("DEV%d", d)
			err := st.CreateSession(ctx, models.Device{UserID: user, DeviceID: dev, DisplayName: "phone", CreatedAt: 1},
				models.AccessToken{TokenHash: "h" + user + dev, UserID: user, DeviceID: dev, CreatedAt: 1}, nil)
			if err != nil {
				b.Fatal(err)
			}
			keys = append(keys, models.DeviceKeys{UserID: user, DeviceID: dev, KeyJSON: fmt.Sprintf(
				`{"algorithms":["m.olm.v1.curve25519-aes-sha2","m.megolm.v1.aes-sha2"],"device_id":%q,"keys":{"curve25519:%s":"Y3VydmUyNTUxOWtleWN1cnZlMjU1MTlrZXljdXJ2ZQ","ed25519:%s":"ZWQyNTUxOWtleWVkMjU1MTlrZXllZDI1NTE5a2V5ZWQ"},"signatures":{},"user_id":%q}`,
				dev, dev, dev, user)})
		}
		csk = append(csk, models.CrossSigningKey{UserID: user, KeyType: "master", PublicKey: "pk" + user,
			KeyJSON: fmt.Sprintf(`{"keys":{"ed25519:pk":"pk"},"usage":["master"],"user_id":%q}`, user)})
	}
	if err := st.ReplaceDeviceKeys(ctx, keys); err != nil {
		b.Fatal(err)
	}
	if err := st.PutCrossSigningKeys(ctx, csk); err != nil {
		b.Fatal(err)
	}
	return svc, req
}

// BenchmarkQueryKeysManyUsers: one /keys/query for 100 users of 2 devices
// each (a client joining a big encrypted room), 8 concurrent queriers.
func BenchmarkQueryKeysManyUsers(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, st *store.Store) {
		svc, req := benchManyUsersService(b, st)
		parallel(b, func(int64) error {
			res, err := svc.QueryKeys(context.Background(), benchSender, req, DefaultRemoteTimeout)
			if err == nil && (len(res.DeviceKeys) != benchManyUsers || len(res.MasterKeys) != benchManyUsers) {
				err = fmt.Errorf("query: %d users, %d master keys", len(res.DeviceKeys), len(res.MasterKeys))
			}
			if err == nil {
				_, err = json.Marshal(res)
			}
			return err
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	})
}

// BenchmarkQueryManyUsersBare is the limit of QueryKeysManyUsers: one
// select of the same 200 device-key rows with their display names.
func BenchmarkQueryManyUsersBare(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, st *store.Store) {
		_, req := benchManyUsersService(b, st)
		users := make([]string, 0, len(req))
		for u := range req {
			users = append(users, u)
		}
		parallel(b, func(int64) error {
			rows, err := st.LiveDeviceKeysOf(context.Background(), users)
			if err == nil && len(rows) != 2*benchManyUsers {
				err = fmt.Errorf("select: %d rows", len(rows))
			}
			return err
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
	})
}
