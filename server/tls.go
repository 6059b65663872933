package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/meridian-lake/meridian/internal/cfgfile"
)

// File names SelfSigned writes in its directory.
const (
	SelfSignedCertFile = "meridian-cert.pem"
	SelfSignedKeyFile  = "meridian-key.pem"
)

// selfSignedValidity is how long a generated certificate lasts; it is
// regenerated when less than a day is left.
const selfSignedValidity = 365 * 24 * time.Hour

// SelfSigned returns a certificate and key for hosts (names and IP
// addresses; default localhost and 127.0.0.1) in dir, for `meridian demo`:
// an ECDSA P-256 certificate that is its own CA, so a client can trust
// exactly it (TrustNote). An existing pair in dir is reused while it is
// valid for another day and covers hosts, so that a client told to trust
// it once keeps working across restarts. The key file is mode 0600.
func SelfSigned(hosts []string, dir string) (certFile, keyFile string, err error) {
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1"}
	}
	certFile, keyFile = filepath.Join(dir, SelfSignedCertFile), filepath.Join(dir, SelfSignedKeyFile)
	if reusable(certFile, keyFile, hosts) {
		return certFile, keyFile, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", fmt.Errorf("self-signed certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("self-signed certificate: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", "", fmt.Errorf("self-signed certificate: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"Meridian demo"}, CommonName: hosts[0]},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", fmt.Errorf("self-signed certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("self-signed certificate: %w", err)
	}
	// The key first: a certificate without its key is not reused.
	if err := cfgfile.WriteAtomic(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", "", fmt.Errorf("self-signed certificate: %w", err)
	}
	if err := cfgfile.WriteAtomic(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", fmt.Errorf("self-signed certificate: %w", err)
	}
	return certFile, keyFile, nil
}

// reusable reports whether the pair in certFile and keyFile loads, lasts
// another day and covers hosts.
func reusable(certFile, keyFile string, hosts []string) bool {
	pair, err := LoadKeyPair(certFile, keyFile)
	if err != nil {
		return false
	}
	leaf := pair.Leaf
	if time.Until(leaf.NotAfter) < 24*time.Hour {
		return false
	}
	return !slices.ContainsFunc(hosts, func(h string) bool { return leaf.VerifyHostname(h) != nil })
}

// LoadKeyPair loads a configured certificate (chain, leaf first) and key,
// with errors that say which file is wrong and how. An expired or
// not-yet-valid certificate is an error: clients would refuse it anyway,
// with a message far from the cause.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := cfgfile.Read(certFile, 1<<20)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("TLS certificate: %w", err)
	}
	keyPEM, err := cfgfile.Read(keyFile, 1<<20)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("TLS key: %w", err)
	}
	if b, _ := pem.Decode(certPEM); b == nil || b.Type != "CERTIFICATE" {
		return tls.Certificate{}, fmt.Errorf("TLS certificate %s: no PEM CERTIFICATE block (is it the key, or DER?)", certFile)
	}
	if b, _ := pem.Decode(keyPEM); b == nil || !isKeyBlock(b.Type) {
		return tls.Certificate{}, fmt.Errorf("TLS key %s: no PEM private key block (is it the certificate?)", keyFile)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("TLS key pair %s, %s: %w", certFile, keyFile, err)
	}
	if pair.Leaf == nil {
		if pair.Leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return tls.Certificate{}, fmt.Errorf("TLS certificate %s: %w", certFile, err)
		}
	}
	now := time.Now()
	switch {
	case now.After(pair.Leaf.NotAfter):
		return tls.Certificate{}, fmt.Errorf("TLS certificate %s expired on %s; renew it", certFile, pair.Leaf.NotAfter.UTC().Format(time.DateOnly))
	case now.Before(pair.Leaf.NotBefore):
		return tls.Certificate{}, fmt.Errorf("TLS certificate %s is not valid until %s; check the clock", certFile, pair.Leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	return pair, nil
}

func isKeyBlock(t string) bool {
	return t == "PRIVATE KEY" || t == "EC PRIVATE KEY" || t == "RSA PRIVATE KEY"
}

// TLSConfig returns the server TLS configuration for a loaded pair:
// TLS 1.2 at least, HTTP/2 and HTTP/1.1.
func TLSConfig(pair tls.Certificate) (*tls.Config, error) {
	if len(pair.Certificate) == 0 {
		return nil, errors.New("TLS: no certificate")
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}, nil
}

// TrustNote tells a person how to make Trino clients trust the
// self-signed certificate in certFile, for a server at addr (host:port).
func TrustNote(certFile, addr string) string {
	return fmt.Sprintf(`Meridian serves TLS on %[2]s with a self-signed certificate: %[1]s
Clients must be told to trust it (it is its own CA):
  trino CLI:        trino --server https://%[2]s --user anna --password --truststore-path %[1]s
                    (the CLI reads a PEM truststore; for a quick try only: --insecure)
  JDBC:             jdbc:trino://%[2]s?SSL=true&SSLTrustStorePath=%[1]s
  trino-go-client:  DSN https://anna:PASSWORD@%[2]s?SSLCertPath=%[1]s
                    (or trino.RegisterCustomClient with an http.Client whose RootCAs hold it)
  curl:             curl --cacert %[1]s -u anna https://%[2]s/v1/info
`, certFile, addr)
}
