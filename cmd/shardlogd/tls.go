package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"strings"
	"time"
)

// tlsFlags are the flags that turn TLS on.
type tlsFlags struct {
	cert, key  string // PEM files
	selfSigned bool   // make a certificate; write it to cert and key if they are named
}

func (f tlsFlags) enabled() bool { return f.cert != "" || f.key != "" || f.selfSigned }

// config loads or makes the server's certificate. hosts are the names a
// self-signed certificate is made for, besides localhost and loopback IPs.
func (f tlsFlags) config(hosts []string, now time.Time) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	switch {
	case f.selfSigned:
		var certPEM, keyPEM []byte
		certPEM, keyPEM, err = selfSigned(hosts, now)
		if err != nil {
			return nil, err
		}
		if f.cert != "" || f.key != "" {
			if f.cert == "" || f.key == "" {
				return nil, errors.New("-tls-self-signed writes both -tls-cert and -tls-key, or neither")
			}
			if err := os.WriteFile(f.cert, certPEM, 0o644); err != nil {
				return nil, err
			}
			if err := os.WriteFile(f.key, keyPEM, 0o600); err != nil {
				return nil, err
			}
		}
		cert, err = tls.X509KeyPair(certPEM, keyPEM)
	case f.cert == "" || f.key == "":
		return nil, errors.New("-tls-cert and -tls-key go together")
	default:
		cert, err = tls.LoadX509KeyPair(f.cert, f.key)
	}
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// fingerprint is the SHA-256 of a certificate's DER bytes, as browsers and
// openssl x509 -fingerprint -sha256 show it.
func fingerprint(c *tls.Config) string {
	sum := sha256.Sum256(c.Certificates[0].Certificate[0])
	return strings.ToUpper(strings.Join(splitPairs(hex.EncodeToString(sum[:])), ":"))
}

func splitPairs(s string) []string {
	out := make([]string, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		out = append(out, s[i:i+2])
	}
	return out
}

// selfSigned makes a P-256 certificate for local use, valid for a year from
// now, for localhost, loopback IPs and hosts.
func selfSigned(hosts []string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "shardlogd development certificate"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true, // so that clients can trust it as its own root
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
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
		return nil, nil, fmt.Errorf("making a self-signed certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}
