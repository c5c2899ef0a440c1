package shardlog

import (
	"errors"
	"fmt"
)

// Error is a failed Kinesis operation. Code is the exact AWS exception name,
// so code that handles AWS errors by name handles these too. Match a kind of
// failure with errors.Is against the sentinels below (which compare Code
// only), or take the message with errors.As.
type Error struct {
	Code      string // AWS exception name, e.g. "ResourceNotFoundException"
	Message   string // human-readable, in AWS's wording where known
	Retryable bool   // whether retrying the same call later can succeed

	err error // the cause, if there is one worth matching (Unwrap)
}

// Error implements error.
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Unwrap returns the cause of a failure inside shardlog, if known: a
// *DamagedRecordsError, or the storage's error (errors.Is(err,
// syscall.ENOSPC) holds for a full disk); nil otherwise.
func (e *Error) Unwrap() error { return e.err }

// Sentinels, one per AWS exception. errors.Is(err, ErrResourceNotFound) holds
// for every error whose Code is "ResourceNotFoundException", whatever its
// message.
var (
	// ErrResourceNotFound: the stream, shard or consumer does not exist, or is
	// not yet or no longer usable.
	ErrResourceNotFound = &Error{Code: "ResourceNotFoundException"}
	// ErrResourceInUse: the resource exists already, or is in a state that
	// does not allow the operation.
	ErrResourceInUse = &Error{Code: "ResourceInUseException"}
	// ErrInvalidArgument: a semantically wrong argument.
	ErrInvalidArgument = &Error{Code: "InvalidArgumentException"}
	// ErrValidation: an argument outside its declared length, range or pattern.
	ErrValidation = &Error{Code: "ValidationException"}
	// ErrLimitExceeded: an account or stream quota would be exceeded.
	ErrLimitExceeded = &Error{Code: "LimitExceededException", Retryable: true}
	// ErrProvisionedThroughputExceeded: a shard's read or write rate was
	// exceeded. Retry later, with backoff.
	ErrProvisionedThroughputExceeded = &Error{Code: "ProvisionedThroughputExceededException", Retryable: true}
	// ErrExpiredIterator: a shard iterator older than five minutes.
	ErrExpiredIterator = &Error{Code: "ExpiredIteratorException"}
	// ErrExpiredNextToken: a pagination token older than 300 seconds.
	ErrExpiredNextToken = &Error{Code: "ExpiredNextTokenException"}
	// ErrAccessDenied: the caller may not perform the operation.
	ErrAccessDenied = &Error{Code: "AccessDeniedException"}
	// ErrKMSNotFound: the KMS key of an encrypted stream is not in the
	// account's key ring (WithKeyRing).
	ErrKMSNotFound = &Error{Code: "KMSNotFoundException"}
	// ErrKMSAccessDenied: with access control, the caller may not use the
	// customer-managed KMS key of an encrypted stream (kms:GenerateDataKey
	// to put, kms:Decrypt to read).
	ErrKMSAccessDenied = &Error{Code: "KMSAccessDeniedException"}
	// ErrKMSDisabled: the KMS key of an encrypted stream is disabled.
	ErrKMSDisabled = &Error{Code: "KMSDisabledException"}
	// ErrKMSInvalidState: the KMS key cannot open what it wrapped (another
	// key under the same ID).
	ErrKMSInvalidState = &Error{Code: "KMSInvalidStateException"}
	// ErrInternalFailure: a failure inside shardlog, most often of the
	// storage (a full disk, an I/O error; errors.Unwrap gives the cause),
	// or damaged records (a *DamagedRecordsError). Retryable: a later call
	// may succeed once the cause is gone.
	ErrInternalFailure = &Error{Code: "InternalFailureException", Retryable: true}
)

// ErrClosed is returned by every operation after [Account.Close].
var ErrClosed = errors.New("shardlog: account closed")

// newError makes an error of sentinel's kind with a formatted message. The
// format is always formatted, so "%%" means "%" whether or not there are
// arguments (and vet checks every call).
func newError(sentinel *Error, format string, args ...any) *Error {
	return &Error{Code: sentinel.Code, Message: fmt.Sprintf(format, args...), Retryable: sentinel.Retryable}
}

// validation builds a ValidationException in AWS's wording for one member.
// value is quoted into the message unless it is empty (AWS leaves blobs and
// lists out).
func validation(member, value, constraint string) *Error {
	if value == "" {
		return newError(ErrValidation, "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must %s", member, constraint)
	}
	return newError(ErrValidation, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must %s", value, member, constraint)
}
