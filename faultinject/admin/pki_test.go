package admin_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"testing"
	"time"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool // holds cert alone
}

// newTestKey returns a fresh ECDSA P-256 key.
func newTestKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("ecdsa.GenerateKey(P-256) = %v, want nil error", err)
	}
	return key
}

// newSerial returns a random 128-bit certificate serial number.
func newSerial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		t.Fatalf("rand.Int() = %v, want nil error", err)
	}
	return n
}

// newTestCA returns a self-signed CA named name, valid for an hour either
// side of now.
func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key := newTestKey(t)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("x509.CreateCertificate(CA %s) = %v, want nil error", name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("x509.ParseCertificate(CA %s) = %v, want nil error", name, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue signs a leaf certificate with the subject common name cn, the DNS
// names dns, the IP addresses ips and the extended key usage usage.
func (ca *testCA) issue(t *testing.T, usage x509.ExtKeyUsage, cn string, dns []string, ips ...net.IP) tls.Certificate {
	t.Helper()
	key := newTestKey(t)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(t),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     dns,
		IPAddresses:  ips,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("x509.CreateCertificate(%s) = %v, want nil error", cn, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("x509.ParseCertificate(%s) = %v, want nil error", cn, err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// testPKI holds the certificates of the mutual TLS tests.
type testPKI struct {
	ca     *testCA         // signs the server's and the clients' certificates
	server tls.Certificate // for 127.0.0.1
	// runner names the chaos runner: common name "chaos-runner", DNS name
	// "runner.chaos.test".
	runner tls.Certificate
	// intruder is signed by ca too, but names "intruder" and
	// "intruder.chaos.test".
	intruder tls.Certificate
	// forged is signed by another CA, with runner's names.
	forged tls.Certificate
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	ca, other := newTestCA(t, "admin test CA"), newTestCA(t, "another CA")
	return &testPKI{
		ca:       ca,
		server:   ca.issue(t, x509.ExtKeyUsageServerAuth, "server", []string{"localhost"}, net.IPv4(127, 0, 0, 1)),
		runner:   ca.issue(t, x509.ExtKeyUsageClientAuth, "chaos-runner", []string{"runner.chaos.test"}),
		intruder: ca.issue(t, x509.ExtKeyUsageClientAuth, "intruder", []string{"intruder.chaos.test"}),
		forged:   other.issue(t, x509.ExtKeyUsageClientAuth, "chaos-runner", []string{"runner.chaos.test"}),
	}
}
