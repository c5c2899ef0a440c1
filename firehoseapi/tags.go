package firehoseapi

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"
)

func (s *Server) tag(_ context.Context, in *tagInput) (any, error) {
	return s.change(in.target(), func(def *definition) error {
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

func (s *Server) untag(_ context.Context, in *untagInput) (any, error) {
	return s.change(in.target(), func(def *definition) error {
		def.Tags = slices.DeleteFunc(slices.Clone(def.Tags), func(t tag) bool {
			return slices.ContainsFunc(in.TagKeys, func(k *string) bool { return *k == *t.Key })
		})
		return nil
	})
}

func (s *Server) listTags(_ context.Context, in *listTagsInput) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := s.lookup(in.target())
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

func (s *Server) startEncryption(_ context.Context, in *encryptionStartInput) (any, error) {
	e := in.DeliveryStreamEncryptionConfigurationInput
	if e == nil {
		e = &encryptionInput{KeyType: ptr("AWS_OWNED_CMK")}
	}
	enc, err := encryptionOf(e)
	if err != nil {
		return nil, err
	}
	return s.change(in.target(), func(def *definition) error {
		if def.Type != "DirectPut" {
			return invalidArgument("Encryption can be started only for DirectPut delivery streams: a KinesisStreamAsSource one uses its stream's encryption.")
		}
		if err := s.encryptionCall(def); err != nil {
			return err
		}
		def.Encryption = enc
		return nil
	})
}

func (s *Server) stopEncryption(_ context.Context, in *nameInput) (any, error) {
	return s.change(in.target(), func(def *definition) error {
		if def.Type != "DirectPut" {
			return invalidArgument("Encryption can be stopped only for DirectPut delivery streams.")
		}
		if err := s.encryptionCall(def); err != nil {
			return err
		}
		def.Encryption = encryption{Status: "DISABLED"}
		return nil
	})
}

// maxEncryptionCalls is Firehose's quota of Start- and
// StopDeliveryStreamEncryption calls per delivery stream in 24 hours.
const maxEncryptionCalls = 25

// encryptionCall counts a Start or Stop of def's encryption within the
// quota, or refuses it past the quota.
func (s *Server) encryptionCall(def *definition) error {
	now := s.kinesis.Clock().Now()
	recent := def.EncryptionCalls[:0:0]
	for _, t := range def.EncryptionCalls {
		if now.Sub(t) < 24*time.Hour {
			recent = append(recent, t)
		}
	}
	if len(recent) >= maxEncryptionCalls {
		return &apiError{status: http.StatusBadRequest, code: "LimitExceededException",
			message: "The delivery stream " + def.Name + " has had its encryption started or stopped " + strconv.Itoa(maxEncryptionCalls) + " times in the last 24 hours."}
	}
	def.EncryptionCalls = append(recent, now)
	return nil
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
func (s *Server) change(name string, f func(*definition) error) (any, error) {
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
