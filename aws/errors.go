package aws

import (
	"errors"

	"github.com/aws/smithy-go"

	"github.com/shardlog/shardlog"
)

// sentinels are shardlog's errors by AWS exception name, for whether a
// mapped error is retryable.
var sentinels = map[string]*shardlog.Error{}

func init() {
	for _, e := range []*shardlog.Error{
		shardlog.ErrResourceNotFound, shardlog.ErrResourceInUse, shardlog.ErrInvalidArgument, shardlog.ErrValidation,
		shardlog.ErrLimitExceeded, shardlog.ErrProvisionedThroughputExceeded, shardlog.ErrExpiredIterator,
		shardlog.ErrExpiredNextToken, shardlog.ErrInternalFailure, shardlog.ErrAccessDenied,
		shardlog.ErrKMSNotFound, shardlog.ErrKMSDisabled, shardlog.ErrKMSInvalidState, shardlog.ErrKMSAccessDenied,
	} {
		sentinels[e.Code] = e
	}
}

// mapError turns an error from the SDK into a *shardlog.Error with the AWS
// exception's name and message, so that errors.Is against shardlog's
// sentinels holds as it does embedded. Other errors (a cancelled context,
// a network failure) are returned as they are.
func mapError(err error) error {
	var api smithy.APIError
	if err == nil || !errors.As(err, &api) {
		return err
	}
	e := &shardlog.Error{Code: api.ErrorCode(), Message: api.ErrorMessage()}
	if s, ok := sentinels[e.Code]; ok {
		e.Retryable = s.Retryable
	}
	return e
}
