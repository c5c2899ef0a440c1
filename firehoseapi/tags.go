package firehoseapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"
)

func (s *Server) tag(ctx context.Context, body []byte) (any, error) {
	var in tagInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.streamName("deliveryStreamName", in.DeliveryStreamName)
	v.tags("tags", in.Tags, in.Tags != nil, true)
	if err := v.err(); err != nil {
		return nil, err
	}
	return s.change(ctx, *in.DeliveryStreamName, func(def *definition) error {
		tags := slices.Clone(def.Tags)
		for _, t := range in.Tags {
			i := slices.IndexFunc(tags, func(have tag) bool { return *have.Key == *t.Key })
			if i >= 0 {
				tags[i] = t
			} else {
				tags = append(tags, t)
			}
		}
		if len(tags) > 50 {
			return &apiError{status: http.StatusBadRequest, code: "LimitExceededException",
				message: "A delivery stream can have at most 50 tags; this would give it " + strconv.Itoa(len(tags)) + "."}
		}
		def.Tags = tags
		return nil
	})
}

func (s *Server) untag(ctx context.Context, body []byte) (any, error) {
	var in untagInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.streamName("deliveryStreamName", in.DeliveryStreamName)
	v.list("tagKeys", len(in.TagKeys), in.TagKeys != nil, true, 1, 50)
	for i, k := range in.TagKeys {
		v.str("tagKeys."+strconv.Itoa(i+1)+".member", k, true, 1, 128, tagKeyPattern)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return s.change(ctx, *in.DeliveryStreamName, func(def *definition) error {
		def.Tags = slices.DeleteFunc(slices.Clone(def.Tags), func(t tag) bool {
			return slices.ContainsFunc(in.TagKeys, func(k *string) bool { return *k == *t.Key })
		})
		return nil
	})
}

func (s *Server) listTags(ctx context.Context, body []byte) (any, error) {
	var in listTagsInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.streamName("deliveryStreamName", in.DeliveryStreamName)
	v.str("exclusiveStartTagKey", in.ExclusiveStartTagKey, false, 1, 128, tagKeyPattern)
	v.integer("limit", in.Limit, 1, 50)
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, *in.DeliveryStreamName); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.lookup(*in.DeliveryStreamName)
	if err != nil {
		return nil, err
	}
	tags := d.def.Tags
	if in.ExclusiveStartTagKey != nil {
		if i := slices.IndexFunc(tags, func(t tag) bool { return *t.Key == *in.ExclusiveStartTagKey }); i >= 0 {
			tags = tags[i+1:]
		}
	}
	limit := 50
	if in.Limit != nil {
		limit = *in.Limit
	}
	more := len(tags) > limit
	if more {
		tags = tags[:limit]
	}
	return struct {
		Tags        []tag
		HasMoreTags bool
	}{append([]tag{}, tags...), more}, nil
}

func (s *Server) startEncryption(ctx context.Context, body []byte) (any, error) {
	var in encryptionStartInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.streamName("deliveryStreamName", in.DeliveryStreamName)
	v.encryptionInput("deliveryStreamEncryptionConfigurationInput", in.DeliveryStreamEncryptionConfigurationInput)
	if err := v.err(); err != nil {
		return nil, err
	}
	e := in.DeliveryStreamEncryptionConfigurationInput
	if e == nil {
		e = &encryptionInput{KeyType: ptr("AWS_OWNED_CMK")}
	}
	enc, err := encryptionOf(e)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, *in.DeliveryStreamName, func(def *definition) error {
		if def.Type != "DirectPut" {
			return invalidArgument("Encryption can be started only for DirectPut delivery streams: a KinesisStreamAsSource one uses its stream's encryption.")
		}
		def.Encryption = enc
		return nil
	})
}

func (s *Server) stopEncryption(ctx context.Context, body []byte) (any, error) {
	var in nameInput
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	var v violations
	v.streamName("deliveryStreamName", in.DeliveryStreamName)
	if err := v.err(); err != nil {
		return nil, err
	}
	return s.change(ctx, *in.DeliveryStreamName, func(def *definition) error {
		if def.Type != "DirectPut" {
			return invalidArgument("Encryption can be stopped only for DirectPut delivery streams.")
		}
		def.Encryption = encryption{Status: "DISABLED"}
		return nil
	})
}

// encryptionOf is the configuration an encryption input asks for.
func encryptionOf(e *encryptionInput) (encryption, error) {
	switch {
	case *e.KeyType == "CUSTOMER_MANAGED_CMK" && e.KeyARN == nil:
		return encryption{}, invalidArgument("KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK.")
	case *e.KeyType == "AWS_OWNED_CMK" && e.KeyARN != nil:
		return encryption{}, invalidArgument("KeyARN must not be given when KeyType is AWS_OWNED_CMK.")
	}
	return encryption{KeyARN: e.KeyARN, KeyType: e.KeyType, Status: "ENABLED"}, nil
}

// change applies f to the definition of the delivery stream name and
// keeps the result, or nothing if f or keeping it fails.
func (s *Server) change(ctx context.Context, name string, f func(*definition) error) (any, error) {
	if err := s.authorize(ctx, name); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.lookup(name)
	if err != nil {
		return nil, err
	}
	old := d.def
	next := old
	if err := f(&next); err != nil {
		return nil, err
	}
	d.def = next
	if err := s.save(); err != nil {
		d.def = old
		return nil, err
	}
	return struct{}{}, nil
}
