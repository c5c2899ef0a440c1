package shardlog_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/shardlog/shardlog"
	"github.com/stretchr/testify/require"
)

func TestErrorIsMatchesCodeOnly(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", &shardlog.Error{Code: "ResourceNotFoundException", Message: "Stream x not found."})
	require.ErrorIs(t, err, shardlog.ErrResourceNotFound)
	require.NotErrorIs(t, err, shardlog.ErrResourceInUse)
	var e *shardlog.Error
	require.True(t, errors.As(err, &e))
	require.Equal(t, "Stream x not found.", e.Message)
	require.Equal(t, "ResourceNotFoundException: Stream x not found.", e.Error())
	require.Equal(t, "LimitExceededException", shardlog.ErrLimitExceeded.Error())
}

func TestSentinelCodesAreAWSNames(t *testing.T) {
	for want, e := range map[string]*shardlog.Error{
		"ResourceNotFoundException":              shardlog.ErrResourceNotFound,
		"ResourceInUseException":                 shardlog.ErrResourceInUse,
		"InvalidArgumentException":               shardlog.ErrInvalidArgument,
		"ValidationException":                    shardlog.ErrValidation,
		"LimitExceededException":                 shardlog.ErrLimitExceeded,
		"ProvisionedThroughputExceededException": shardlog.ErrProvisionedThroughputExceeded,
		"ExpiredIteratorException":               shardlog.ErrExpiredIterator,
		"ExpiredNextTokenException":              shardlog.ErrExpiredNextToken,
		"AccessDeniedException":                  shardlog.ErrAccessDenied,
		"InternalFailureException":               shardlog.ErrInternalFailure,
	} {
		require.Equal(t, want, e.Code)
	}
	require.True(t, shardlog.ErrProvisionedThroughputExceeded.Retryable)
	require.False(t, shardlog.ErrInvalidArgument.Retryable)
}
