package iam_test

import (
	"fmt"

	"github.com/shardlog/shardlog/iam"
)

// Unit-test a policy before it is enforced: which statement decides what.
func ExampleEvaluate() {
	policy := iam.MustParse(`{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Sid": "Write", "Effect": "Allow", "Action": "kinesis:Put*", "Resource": "arn:aws:kinesis:*:111111111111:stream/orders"},
	    {"Sid": "OnlyInside", "Effect": "Deny", "Action": "*", "Resource": "*",
	     "Condition": {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}
	  ]}`, false)
	for _, ip := range []string{"10.1.2.3", "203.0.113.9"} {
		req := iam.Request{
			Principal: "arn:aws:iam::111111111111:user/app",
			Action:    "kinesis:PutRecords",
			Resource:  "arn:aws:kinesis:us-east-1:111111111111:stream/orders",
			Context:   map[string][]string{"aws:SourceIp": {ip}},
		}
		d := iam.Evaluate([]*iam.Policy{policy}, nil, req)
		fmt.Println(ip, d.Reason, d.Statement.Sid)
	}
	// Output:
	// 10.1.2.3 allowed Write
	// 203.0.113.9 explicit deny OnlyInside
}
