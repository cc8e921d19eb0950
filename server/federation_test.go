package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kabarchat/kabar/configs"
	"github.com/kabarchat/kabar/federation/event"
	"github.com/kabarchat/kabar/federation/fedclient"
	"github.com/kabarchat/kabar/federation/keys"
	"github.com/kabarchat/kabar/federation/xmatrix"
	"github.com/kabarchat/kabar/models/spec"
	"github.com/kabarchat/kabar/models/store/storetest"
)

// testCA is a CA made for one test; it issues certificates for 127.0.0.x.
type testCA struct {
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
	pemFile string
	dir     string
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Kabar test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	dir := t.TempDir()
	ca := &testCA{cert: cert, key: key, dir: dir, pemFile: filepath.Join(dir, "ca.pem")}
	writePEM(t, ca.pemFile, "CERTIFICATE", der)
	return ca
}

// issue writes a certificate and key for ip and returns their paths.
func (ca *testCA) issue(t *testing.T, ip string) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: ip},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(ca.dir, ip+".crt"), filepath.Join(ca.dir, ip+".key")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", kder)
	return certFile, keyFile
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// fedServer is a running Kabar with federation on its own 127.0.0.x address.
type fedServer struct {
	*testServer
	ServerName string // "127.0.0.x:port": discovery step 1, no DNS needed
	// rs, when set, restarts the server (restartKabar); nil for startFedServer.
	rs *restartable
}

// freeAddr reserves a port on ip. The server name must contain the port
// before the server starts, so the port is found first.
func freeAddr(t *testing.T, ip string) string {
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", ip, err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func startFedServer(t *testing.T, ca *testCA, ip, dbURL string) *fedServer {
	addr := freeAddr(t, ip)
	certFile, keyFile := ca.issue(t, ip)
	ts := startServer(t, dbURL, func(cfg *configs.Config) {
		cfg.ServerName = addr
		cfg.Federation.Listen = addr
		cfg.Federation.TLSCert, cfg.Federation.TLSKey = certFile, keyFile
		cfg.Federation.TrustedCAFile = ca.pemFile
		cfg.Federation.AllowPrivateAddresses = true
		cfg.Registration.Mode = configs.RegistrationOpen
	})
	return &fedServer{testServer: ts, ServerName: addr}
}

// fedRequest sends a raw HTTPS request to a federation listener.
func fedRequest(t *testing.T, ca *testCA, method, url, auth string, body []byte) (int, map[string]any) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var r io.Reader
	if body != nil {
		r = strings.NewReader(string(body))
	}
	req, _ := http.NewRequest(method, url, r)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestFederationKeysAndAuth(t *testing.T) {
	for _, db := range storetest.URLs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ca := newTestCA(t)
			hs1 := startFedServer(t, ca, "127.0.0.2", db.URL)
			hs2 := startFedServer(t, ca, "127.0.0.3", storetest.URLs(t)[0].URL)
			ctx := context.Background()

			// hs1 learns hs2's key over TLS with discovery, and it is the key
			// hs2 signs with.
			k2, err := hs2.srv.fed.ring.VerifyKey(ctx, hs2.ServerName, "", 0)
			if err == nil {
				t.Fatal("empty key ID resolved")
			}
			own, err := hs2.srv.fed.ring.Own()
			if err != nil {
				t.Fatal(err)
			}
			var published keys.ServerKeys
			json.Unmarshal(own, &published)
			for id, vk := range published.VerifyKeys {
				k2, err = hs1.srv.fed.ring.VerifyKey(ctx, hs2.ServerName, id, time.Now().UnixMilli())
				if err != nil {
					t.Fatalf("hs1 fetching hs2's key: %v", err)
				}
				if event.EncodeBase64(k2) != vk.Key {
					t.Fatalf("fetched key differs from the published one")
				}
			}

			// A signed request from hs1 is authenticated by hs2 (the 404 is
			// the handler's: the user does not exist).
			err = hs1.srv.fed.client.Do(ctx, spec.ServerName(hs2.ServerName), "GET",
				"/_matrix/federation/v1/query/profile?user_id=@nobody:"+hs2.ServerName, nil, nil)
			var he *fedclient.HTTPError
			if !errors.As(err, &he) || he.Status != 404 || he.Errcode != "M_NOT_FOUND" {
				t.Fatalf("signed request: %v", err)
			}

			// Notary: hs1 vouches for hs2's keys with both signatures.
			status, body := fedRequest(t, ca, "POST", "https://"+hs1.ServerName+"/_matrix/key/v2/query", "",
				[]byte(`{"server_keys":{"`+hs2.ServerName+`":{}}}`))
			if status != 200 {
				t.Fatalf("notary query: %d %v", status, body)
			}
			list, _ := body["server_keys"].([]any)
			if len(list) != 1 {
				t.Fatalf("notary answered %v", body)
			}
			sigs, _ := list[0].(map[string]any)["signatures"].(map[string]any)
			if sigs[hs1.ServerName] == nil || sigs[hs2.ServerName] == nil {
				t.Fatalf("notary response signatures: %v", sigs)
			}

			// Bad X-Matrix authorization gets 401 M_UNAUTHORIZED.
			const path = "/_matrix/federation/v1/query/profile?user_id=@a:b"
			impostor, _ := keys.Generate()
			signWith := func(k *keys.SigningKey, origin, dest string) string {
				h, err := xmatrix.Sign(k, origin, dest, "GET", path, nil)
				if err != nil {
					t.Fatal(err)
				}
				return h
			}
			real1, err := keys.LoadOrCreate(filepath.Join(hs1.srv.cfg.DataDir, "signing.key"))
			if err != nil {
				t.Fatal(err)
			}
			if status, _ := fedRequest(t, ca, "GET", "https://"+hs2.ServerName+path, signWith(real1, hs1.ServerName, hs2.ServerName), nil); status != 400 {
				t.Fatalf("well-signed request: status %d, want 400 (bad user_id)", status)
			}
			cases := []struct{ name, auth string }{
				{"missing", ""},
				{"not X-Matrix", "Bearer x"},
				{"unknown key of a real server", signWith(impostor, hs1.ServerName, hs2.ServerName)},
				{"unreachable origin", signWith(impostor, "127.0.0.9:1", hs2.ServerName)},
				{"wrong destination", signWith(real1, hs1.ServerName, "127.0.0.9:1")},
				{"signed for another path", signOther(t, real1, hs1.ServerName, hs2.ServerName)},
			}
			for _, tc := range cases {
				status, body := fedRequest(t, ca, "GET", "https://"+hs2.ServerName+path, tc.auth, nil)
				if status != 401 || body["errcode"] != "M_UNAUTHORIZED" {
					t.Errorf("%s: %d %v", tc.name, status, body)
				}
			}
		})
	}
}

// signOther signs a request for a different path than the one sent.
func signOther(t *testing.T, k *keys.SigningKey, origin, dest string) string {
	h, err := xmatrix.Sign(k, origin, dest, "GET", "/_matrix/federation/v1/query/profile?user_id=@b:b", nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
