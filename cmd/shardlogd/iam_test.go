package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/stretchr/testify/require"
)

// TestIAMFile: with -iam, requests must be signed by a key of the file,
// and its principal's roles and policies decide each call.
func TestIAMFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iam.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"principals": [
		{"arn": "arn:aws:iam::000000000000:user/admin", "roles": ["administrator"], "accessKeys": [{"id": "AKIDADMIN", "secret": "admin-secret"}]},
		{"arn": "arn:aws:iam::000000000000:user/lister",
		 "policies": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:List*", "Resource": "*"}}],
		 "accessKeys": [{"id": "AKIDLISTER", "secret": "lister-secret"}]}]}`), 0o600))
	endpoint := start(t, "-addr", "127.0.0.1:0", "-limits=false", "-log-level", "error", "-iam", path)

	call := func(op, body, id, secret string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		if id != "" {
			sum := sha256.Sum256([]byte(body))
			require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret},
				req, hex.EncodeToString(sum[:]), "kinesis", "us-east-1", time.Now()))
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := call("ListStreams", "{}", "", "")
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, body, "MissingAuthenticationTokenException")
	status, body = call("CreateStream", `{"StreamName":"s","ShardCount":1}`, "AKIDLISTER", "lister-secret")
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, body, "AccessDeniedException")
	require.Contains(t, body, "User: arn:aws:iam::000000000000:user/lister is not authorized to perform: kinesis:CreateStream")
	status, body = call("CreateStream", `{"StreamName":"s","ShardCount":1}`, "AKIDADMIN", "admin-secret")
	require.Equal(t, http.StatusOK, status, body)
	status, body = call("ListStreams", "{}", "AKIDLISTER", "lister-secret")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"StreamNames":["s"]`)
	_, body = call("ListStreams", "{}", "AKIDLISTER", "wrong")
	require.Contains(t, body, "InvalidSignatureException")
}

// TestIAMFileRefused: a file that cannot be read or holds a mistake stops
// the server from starting.
func TestIAMFileRefused(t *testing.T) {
	dir := t.TempDir()
	const user, other = "arn:aws:iam::000000000000:user/u", "arn:aws:iam::000000000000:user/v"
	for name, tc := range map[string]struct{ content, says string }{
		"role.json":   {`{"principals": [{"arn": "` + user + `", "roles": ["janitor"]}]}`, "unknown role"},
		"policy.json": {`{"principals": [{"arn": "` + user + `", "policies": [{"Version": "2012-10-17"}]}]}`, "Statement"},
		"arn.json":    {`{"principals": [{"arn": "u"}]}`, "u"},
		"key.json":    {`{"principals": [{"arn": "` + user + `", "accessKeys": [{"id": "", "secret": "s"}]}]}`, user},
		"field.json":  {`{"users": []}`, "users"},
		"same key.json": {`{"principals": [{"arn": "` + user + `", "accessKeys": [{"id": "AKIDSHARED", "secret": "a"}]},
			{"arn": "` + other + `", "accessKeys": [{"id": "AKIDSHARED", "secret": "b"}]}]}`,
			`access key ID "AKIDSHARED" is given to both ` + user + ` and ` + other},
		"same principal.json": {`{"principals": [{"arn": "` + user + `", "roles": ["producer"]}, {"arn": "` + user + `", "roles": ["consumer"]}]}`,
			"principal " + user + " is listed twice"},
	} {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))
		err := run(context.Background(), nil, []string{"-addr", "127.0.0.1:0", "-iam", path}, io.Discard, io.Discard)
		require.ErrorContains(t, err, tc.says, name)
		require.ErrorContains(t, err, path, name)
	}
	require.Error(t, run(context.Background(), nil, []string{"-addr", "127.0.0.1:0", "-iam", filepath.Join(dir, "missing.json")}, io.Discard, io.Discard))
}

// TestKMSKeys: with -kms-keys, encrypting a stream with a key of the file
// works, and with a key it lacks fails as KMS does.
func TestKMSKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"keys":[{"id":"k1","aliases":["alias/aws/kinesis"],"key":"`+
		strings.Repeat("A", 43)+`="}]}`), 0o600))
	endpoint := start(t, "-addr", "127.0.0.1:0", "-limits=false", "-log-level", "error", "-kms-keys", path)
	c := sdkClient(endpoint)
	ctx := context.Background()
	_, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(1)})
	require.NoError(t, err)
	_, err = c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String("s"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/other")})
	var notFound *types.KMSNotFoundException
	require.ErrorAs(t, err, &notFound)
	_, err = c.StartStreamEncryption(ctx, &kinesis.StartStreamEncryptionInput{StreamName: aws.String("s"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis")})
	require.NoError(t, err)
	out, err := c.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("x")})
	require.NoError(t, err)
	require.Equal(t, types.EncryptionTypeKms, out.EncryptionType)

	require.Error(t, run(ctx, nil, []string{"-addr", "127.0.0.1:0", "-kms-keys", filepath.Join(t.TempDir(), "missing.json")}, io.Discard, io.Discard))
}
