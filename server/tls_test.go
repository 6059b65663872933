package server_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meridian-lake/meridian/server"
)

// startTLS serves h with the pair in certFile and keyFile on 127.0.0.1.
func startTLS(t *testing.T, certFile, keyFile string, h http.Handler) *httptest.Server {
	t.Helper()
	pair, err := server.LoadKeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := server.TLSConfig(pair)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// TestSelfSigned: the demo certificate serves TLS that a client trusting
// exactly that file accepts for localhost and 127.0.0.1, and a client
// with the system roots refuses.
func TestSelfSigned(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "tls")
	certFile, keyFile, err := server.SelfSigned(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	srv := startTLS(t, certFile, keyFile, echoIdentityOK())
	_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL, "https://"), ":")

	pemBytes, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("the certificate file holds no certificate")
	}
	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Cleanup(trusting.CloseIdleConnections)
	for _, host := range []string{"localhost", "127.0.0.1"} {
		resp, err := trusting.Get("https://" + host + ":" + port + "/")
		if err != nil {
			t.Errorf("trusting client to %s: %v", host, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
			t.Errorf("%s: status %d, TLS %+v", host, resp.StatusCode, resp.TLS)
		}
	}
	_, err = (&http.Client{}).Get("https://127.0.0.1:" + port + "/")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("client without the certificate: %v, want an unknown authority error", err)
	}

	note := server.TrustNote(certFile, "localhost:8443")
	for _, want := range []string{certFile, "--truststore-path", "SSLCertPath=", "https://localhost:8443"} {
		if !strings.Contains(note, want) {
			t.Errorf("TrustNote lacks %q:\n%s", want, note)
		}
	}
}

func echoIdentityOK() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
}

// TestTrinoClientTrustsSelfSigned follows TrustNote with the real
// trino-go-client: SSLCertPath names the demo certificate, the password
// goes over TLS.
func TestTrinoClientTrustsSelfSigned(t *testing.T) {
	t.Parallel()
	certFile, keyFile, err := server.SelfSigned([]string{"localhost", "127.0.0.1"}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	srv := startTLS(t, certFile, keyFile, server.RequireIdentity(newBasicAuth(t), trinoStatementHandler(&hits)))
	hostport := strings.TrimPrefix(srv.URL, "https://")
	who, err := trinoQueryOne(fmt.Sprintf("https://dora:dora-secret@%s?SSLCertPath=%s", hostport, certFile))
	if err != nil {
		t.Fatal(err)
	}
	if who != "dora/password" || hits.Load() != 2 {
		t.Errorf("ran as %q with %d requests, want dora/password with 2", who, hits.Load())
	}
}

// TestSelfSignedReuse: a valid pair is kept across calls (a client told
// to trust it keeps working); new hosts make a new one.
func TestSelfSignedReuse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c1, _, err := server.SelfSigned(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(c1)
	c2, _, err := server.SelfSigned([]string{"127.0.0.1"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(c2)
	if c1 != c2 || !bytes.Equal(first, second) {
		t.Error("a valid certificate covering the hosts was regenerated")
	}
	if _, _, err := server.SelfSigned([]string{"localhost", "meridian.test"}, dir); err != nil {
		t.Fatal(err)
	}
	third, _ := os.ReadFile(c1)
	if bytes.Equal(first, third) {
		t.Error("a certificate not covering meridian.test was reused")
	}
	pair, err := server.LoadKeyPair(c1, filepath.Join(dir, server.SelfSignedKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := pair.Leaf.VerifyHostname("meridian.test"); err != nil {
		t.Errorf("new certificate: %v", err)
	}
}

// writeCert writes a self-signed certificate valid from notBefore to
// notAfter, and its key.
func writeCert(t *testing.T, dir string, notBefore, notAfter time.Time) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: notBefore, NotAfter: notAfter, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	cf, kf := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cf, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(kf, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cf, kf
}

func TestLoadKeyPairErrors(t *testing.T) {
	t.Parallel()
	now := time.Now()
	goodCert, goodKey := writeCert(t, t.TempDir(), now.Add(-time.Hour), now.Add(time.Hour))
	_, otherKey := writeCert(t, t.TempDir(), now.Add(-time.Hour), now.Add(time.Hour))
	expCert, expKey := writeCert(t, t.TempDir(), now.Add(-2*time.Hour), now.Add(-time.Hour))
	futCert, futKey := writeCert(t, t.TempDir(), now.Add(time.Hour), now.Add(2*time.Hour))
	der := filepath.Join(t.TempDir(), "cert.der")
	if err := os.WriteFile(der, []byte{0x30, 0x82, 0x01}, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, cert, key, want string
	}{
		{"missing cert", filepath.Join(t.TempDir(), "none.pem"), goodKey, "TLS certificate: open"},
		{"missing key", goodCert, filepath.Join(t.TempDir(), "none.pem"), "TLS key: open"},
		{"swapped", goodKey, goodCert, "no PEM CERTIFICATE block (is it the key"},
		{"DER", der, goodKey, "or DER?"},
		{"cert as key", goodCert, goodCert, "no PEM private key block (is it the certificate?)"},
		{"mismatched key", goodCert, otherKey, "does not match"},
		{"expired", expCert, expKey, "expired on"},
		{"not yet valid", futCert, futKey, "not valid until"},
	} {
		_, err := server.LoadKeyPair(tc.cert, tc.key)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: LoadKeyPair = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := server.LoadKeyPair(goodCert, goodKey); err != nil {
		t.Errorf("good pair: %v", err)
	}
	if _, err := server.TLSConfig(tls.Certificate{}); err == nil {
		t.Error("TLSConfig(no certificate) = nil error")
	}
}
