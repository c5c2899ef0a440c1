package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/stretchr/testify/require"
)

// listStreams sends ListStreams with client and returns the protocol the
// answer came in.
func listStreams(t *testing.T, client *http.Client, endpoint string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	madeUpSignature(req)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return resp.Proto
}

// client speaks only the given protocols; roots, if not nil, are the
// certificates it trusts.
func client(t *testing.T, roots *x509.CertPool, set func(*http.Protocols)) *http.Client {
	tr := &http.Transport{Protocols: new(http.Protocols), TLSClientConfig: &tls.Config{RootCAs: roots}}
	set(tr.Protocols)
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// TestCleartextServesHTTP1AndHTTP2: one port answers HTTP/1.1 and HTTP/2
// with prior knowledge, as the JavaScript SDK v3 sends it.
func TestCleartextServesHTTP1AndHTTP2(t *testing.T) {
	endpoint := start(t)
	require.True(t, strings.HasPrefix(endpoint, "http://"))
	require.Equal(t, "HTTP/2.0", listStreams(t, client(t, nil, func(p *http.Protocols) { p.SetUnencryptedHTTP2(true) }), endpoint))
	require.Equal(t, "HTTP/1.1", listStreams(t, client(t, nil, func(p *http.Protocols) { p.SetHTTP1(true) }), endpoint))
}

// TestSelfSignedTLS: -tls-self-signed serves HTTPS, HTTP/2 by ALPN and
// HTTP/1.1, with a certificate written where clients can trust it; a
// restart with -tls-cert and -tls-key serves the same certificate.
func TestSelfSignedTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	endpoint, more, stop := serveOutput(t, "-tls-self-signed", "-tls-cert", certFile, "-tls-key", keyFile)
	require.True(t, strings.HasPrefix(endpoint, "https://127.0.0.1:"), endpoint)
	pem, err := os.ReadFile(certFile)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(pem))
	block, _ := pemDecode(pem)
	sum := sha256.Sum256(block)
	require.Equal(t, "self-signed certificate SHA-256 fingerprint: "+strings.ToUpper(strings.Join(splitPairs(hex.EncodeToString(sum[:])), ":")), <-more,
		"the fingerprint is printed, and is the written certificate's")
	require.Equal(t, "HTTP/2.0", listStreams(t, client(t, roots, func(p *http.Protocols) { p.SetHTTP2(true) }), endpoint))
	require.Equal(t, "HTTP/1.1", listStreams(t, client(t, roots, func(p *http.Protocols) { p.SetHTTP1(true) }), endpoint))
	// Untrusted, the certificate is refused.
	_, err = client(t, x509.NewCertPool(), func(p *http.Protocols) { p.SetHTTP2(true) }).Get(endpoint)
	require.ErrorContains(t, err, "certificate")
	stop()

	info, err := os.Stat(keyFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the key is private")
	endpoint = start(t, "-tls-cert", certFile, "-tls-key", keyFile)
	require.Equal(t, "HTTP/2.0", listStreams(t, client(t, roots, func(p *http.Protocols) { p.SetHTTP2(true) }), endpoint))
}

func pemDecode(b []byte) ([]byte, []byte) {
	block, rest := pem.Decode(b)
	return block.Bytes, rest
}

func TestFingerprint(t *testing.T) {
	certPEM, keyPEM, err := selfSigned([]string{"example.test", "10.1.2.3"}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	require.NoError(t, err)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	require.NoError(t, err)
	require.Equal(t, []string{"localhost", "example.test"}, leaf.DNSNames)
	require.Len(t, leaf.IPAddresses, 3)
	fp := fingerprint(&tls.Config{Certificates: []tls.Certificate{cert}})
	require.Len(t, fp, 32*3-1)
	require.Regexp(t, `^([0-9A-F]{2}:){31}[0-9A-F]{2}$`, fp)
}

// TestServesCloudWatch: CloudWatch's metric reads share the port with
// Kinesis, as the Go SDK's cloudwatch client sends them (RPC v2 CBOR).
func TestServesCloudWatch(t *testing.T) {
	endpoint := start(t)
	c := &http.Client{}
	status, body := post(t, c, endpoint, "CreateStream", `{"StreamName":"s","ShardCount":1}`)
	require.Equal(t, http.StatusOK, status, body)
	status, body = post(t, c, endpoint, "PutRecord", `{"StreamName":"s","PartitionKey":"k","Data":"aGk="}`)
	require.Equal(t, http.StatusOK, status, body)

	cw := cloudwatch.New(cloudwatch.Options{
		BaseEndpoint: aws.String(endpoint), Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDMADEUP", "made-up", ""),
	})
	now := time.Now()
	out, err := cw.GetMetricStatistics(context.Background(), &cloudwatch.GetMetricStatisticsInput{
		Namespace: aws.String("AWS/Kinesis"), MetricName: aws.String("IncomingRecords"),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("StreamName"), Value: aws.String("s")}},
		StartTime:  aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now.Add(time.Hour)), Period: aws.Int32(7200),
		Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
	})
	require.NoError(t, err)
	require.Len(t, out.Datapoints, 1)
	require.Equal(t, 1.0, *out.Datapoints[0].Sum)
}
