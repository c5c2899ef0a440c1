package firehose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Lambda is a Processor that invokes a Lambda function over HTTP with
// Firehose's transformation event, as the Lambda Runtime Interface
// Emulator (and `sam local start-lambda`) serve one locally: POST URL
// (…/2015-03-31/functions/function/invocations), the event as the body,
// the function's answer as the response. A function written for
// Firehose's data transformation runs unmodified.
//
// Records go in invocations of up to BufferSizeInMBs of data (Firehose's
// default 1 MB, at most 3), the payload under Lambda's 6 MB; an
// invocation that fails (an error status, an unreadable answer, the
// function's own error) fails the call, which the delivery stream makes
// again up to three times before its records go to the error output.
type Lambda struct {
	URL string
	// FunctionARN, DeliveryStreamARN, SourceStreamARN and Region fill the
	// event's fields (sourceKinesisStreamArn and kinesisRecordMetadata are
	// sent only for a Kinesis source).
	FunctionARN, DeliveryStreamARN, SourceStreamARN, Region string
	// BufferSizeInMBs bounds an invocation's data: 1 by default, 3 at
	// most (Firehose's Lambda BufferSizeInMBs).
	BufferSizeInMBs float64
	// Client sends the invocations. Default: one that waits 5 minutes,
	// Lambda's longest run.
	Client *http.Client
}

var lambdaClient = &http.Client{Timeout: 5 * time.Minute}

// lambdaMaxResponse bounds a function's answer: Lambda's 6 MB payload.
const lambdaMaxResponse = 6 << 20

type lambdaEvent struct {
	InvocationID           string        `json:"invocationId"`
	DeliveryStreamArn      string        `json:"deliveryStreamArn"`
	SourceKinesisStreamArn string        `json:"sourceKinesisStreamArn,omitempty"`
	Region                 string        `json:"region"`
	Records                []lambdaInput `json:"records"`
}

type lambdaInput struct {
	RecordID                    string          `json:"recordId"`
	ApproximateArrivalTimestamp int64           `json:"approximateArrivalTimestamp"`
	Data                        []byte          `json:"data"`
	KinesisRecordMetadata       *kinesisRecMeta `json:"kinesisRecordMetadata,omitempty"`
}

type kinesisRecMeta struct {
	ShardID                     string `json:"shardId"`
	PartitionKey                string `json:"partitionKey"`
	ApproximateArrivalTimestamp int64  `json:"approximateArrivalTimestamp"`
	SequenceNumber              string `json:"sequenceNumber"`
	SubsequenceNumber           int64  `json:"subsequenceNumber"`
}

type lambdaAnswer struct {
	Records []struct {
		RecordID string `json:"recordId"`
		Result   Result `json:"result"`
		Data     []byte `json:"data"`
		Metadata struct {
			PartitionKeys map[string]string `json:"partitionKeys"`
		} `json:"metadata"`
	} `json:"records"`
	ErrorMessage string `json:"errorMessage"`
	ErrorType    string `json:"errorType"`
}

// Process invokes the function on records; it is a Processor.
func (l *Lambda) Process(ctx context.Context, records []ProcessorRecord) ([]ProcessorResult, error) {
	limit := int(min(max(l.BufferSizeInMBs, 0.2), 3) * 1e6)
	if l.BufferSizeInMBs == 0 {
		limit = 1e6
	}
	var out []ProcessorResult
	for len(records) > 0 {
		n, size := 0, 0
		for n < len(records) && (n == 0 || size+len(records[n].Data) <= limit) {
			size += len(records[n].Data)
			n++
		}
		results, err := l.invoke(ctx, records[:n])
		if err != nil {
			return nil, err
		}
		out, records = append(out, results...), records[n:]
	}
	return out, nil
}

func (l *Lambda) invoke(ctx context.Context, records []ProcessorRecord) ([]ProcessorResult, error) {
	ev := lambdaEvent{InvocationID: uuid(), DeliveryStreamArn: l.DeliveryStreamARN, SourceKinesisStreamArn: l.SourceStreamARN,
		Region: l.Region, Records: make([]lambdaInput, len(records))}
	for i, r := range records {
		in := lambdaInput{RecordID: r.RecordID, ApproximateArrivalTimestamp: r.ApproximateArrivalTimestamp.UnixMilli(), Data: r.Data}
		if l.SourceStreamARN != "" {
			in.KinesisRecordMetadata = &kinesisRecMeta{ShardID: r.ShardID, PartitionKey: r.PartitionKey, SequenceNumber: r.SequenceNumber,
				SubsequenceNumber: r.SubsequenceNumber, ApproximateArrivalTimestamp: r.ApproximateArrivalTimestamp.UnixMilli()}
		}
		ev.Records[i] = in
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	client := l.Client
	if client == nil {
		client = lambdaClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoking %s: %w", l.FunctionARN, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, lambdaMaxResponse+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("invoking %s: %w", l.FunctionARN, err)
	case len(raw) > lambdaMaxResponse:
		return nil, fmt.Errorf("invoking %s: the answer is over Lambda's 6 MB", l.FunctionARN)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("invoking %s: HTTP %d: %.200s", l.FunctionARN, resp.StatusCode, raw)
	}
	var ans lambdaAnswer
	if err := json.Unmarshal(raw, &ans); err != nil {
		return nil, fmt.Errorf("invoking %s: the answer is not Firehose's transformation result: %w", l.FunctionARN, err)
	}
	if ans.ErrorMessage != "" || ans.ErrorType != "" {
		return nil, errors.New(l.FunctionARN + " failed: " + ans.ErrorType + ": " + ans.ErrorMessage)
	}
	out := make([]ProcessorResult, len(ans.Records))
	for i, r := range ans.Records {
		out[i] = ProcessorResult{RecordID: r.RecordID, Result: r.Result, Data: r.Data, PartitionKeys: r.Metadata.PartitionKeys}
	}
	return out, nil
}
