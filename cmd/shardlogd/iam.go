package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/iam"
)

// iamFile is the file -iam names: the account's principals, their policies
// and their access keys. With it, every request must be signed by one of
// the keys, and the key's principal's policies decide the call.
//
//	{"principals": [{
//	  "arn": "arn:aws:iam::000000000000:user/writer",
//	  "roles": ["producer"],
//	  "policies": [{"Version": "2012-10-17", "Statement": [...]}],
//	  "accessKeys": [{"id": "AKIDWRITER", "secret": "..."}]
//	}]}
//
// A role (administrator, resharding, producer or consumer) stands for its
// ready-made policy over every stream of the account.
type iamFile struct {
	Principals []struct {
		ARN        string            `json:"arn"`
		Roles      []iam.Role        `json:"roles"`
		Policies   []json.RawMessage `json:"policies"`
		AccessKeys []struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		} `json:"accessKeys"`
	} `json:"principals"`
}

// loadIAM gives acct the principals and keys of the file at path.
func loadIAM(acct *shardlog.Account, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f iamFile
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("-iam %s: %v", path, err)
	}
	// A name given twice is a mistake the last would hide: a key that
	// signs as another principal than its owner meant.
	owners, principals := map[string]string{}, map[string]bool{}
	for _, p := range f.Principals {
		if principals[p.ARN] {
			return fmt.Errorf("-iam %s: principal %s is listed twice", path, p.ARN)
		}
		principals[p.ARN] = true
		for _, k := range p.AccessKeys {
			if owner, ok := owners[k.ID]; ok {
				return fmt.Errorf("-iam %s: access key ID %q is given to both %s and %s", path, k.ID, owner, p.ARN)
			}
			owners[k.ID] = p.ARN
		}
	}
	streams := "arn:aws:kinesis:" + acct.Region() + ":" + acct.AccountID() + ":stream/*"
	for _, p := range f.Principals {
		var docs []string
		for _, r := range p.Roles {
			switch r {
			case iam.Administrator, iam.Resharding, iam.Producer, iam.Consumer:
				docs = append(docs, r.Document(streams))
			default:
				return fmt.Errorf("-iam %s: %s: unknown role %q (administrator, resharding, producer or consumer)", path, p.ARN, r)
			}
		}
		for _, doc := range p.Policies {
			docs = append(docs, string(doc))
		}
		if err := acct.PutPrincipal(p.ARN, docs...); err != nil {
			return fmt.Errorf("-iam %s: %v", path, err)
		}
		for _, k := range p.AccessKeys {
			if err := acct.PutAccessKey(k.ID, k.Secret, p.ARN); err != nil {
				return fmt.Errorf("-iam %s: %s: %v", path, p.ARN, err)
			}
		}
	}
	return nil
}
