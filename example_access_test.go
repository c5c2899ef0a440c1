package shardlog_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/shardlog/shardlog"
	"github.com/shardlog/shardlog/iam"
)

// A producer role may write to a stream but not delete it: checked in
// process, without HTTP.
func ExampleWithAccessControl() {
	ctx := context.Background()
	acct, err := shardlog.NewAccount(shardlog.WithAccessControl(), shardlog.WithAccountID("123456789012"))
	if err != nil {
		panic(err)
	}
	defer acct.Close()
	s, err := acct.CreateStream(ctx, shardlog.CreateStreamInput{StreamName: "orders", ShardCount: 1})
	if err != nil {
		panic(err)
	}
	writer := "arn:aws:iam::123456789012:role/writer"
	if err := acct.PutPrincipal(writer, iam.Producer.Document(s.ARN())); err != nil {
		panic(err)
	}
	asWriter := shardlog.WithCaller(ctx, shardlog.Caller{PrincipalARN: writer})

	_, err = s.Put(asWriter, shardlog.PutInput{PartitionKey: "k", Data: []byte("order #1")})
	fmt.Println("put:", err)
	err = acct.DeleteStream(asWriter, shardlog.DeleteStreamInput{StreamRef: shardlog.StreamRef{StreamName: "orders"}})
	fmt.Println("delete denied:", errors.Is(err, shardlog.ErrAccessDenied))
	fmt.Println(err.(*shardlog.Error).Message)

	d := acct.SimulatePolicy(iam.Request{Principal: writer, Action: "kinesis:PutRecords", Resource: s.ARN()})
	fmt.Println("PutRecords:", d.Reason, "by statement", d.Statement.Sid)
	// Output:
	// put: <nil>
	// delete denied: true
	// User: arn:aws:iam::123456789012:role/writer is not authorized to perform: kinesis:DeleteStream on resource: arn:aws:kinesis:us-east-1:123456789012:stream/orders because no identity-based policy allows the kinesis:DeleteStream action
	// PutRecords: allowed by statement Streams
}
